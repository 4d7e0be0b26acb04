/**
 * Offline checks of the Kubernetes manifests in k8s/ (no cluster needed):
 *
 * 1. every overlay (and the base) is rendered by the real `kubectl kustomize` (a child process;
 *    `$KUBECTL` or `kubectl` on PATH — a missing kubectl FAILS with how to install it);
 * 2. every YAML document (rendered and source) parses with the `yaml` package, duplicate keys
 *    being errors;
 * 3. every object validates against the official schemas (kubernetes-models) and round-trips
 *    through @kubernetes/client-node's typed loader without losing a field (a misspelled field is
 *    dropped by the typed model, so it shows up as lost);
 * 4. project rules, each of which can fail: selectors and labels, named ports, port ranges,
 *    pinned images equal to package.json's version, security contexts, resources, writable paths,
 *    env var names that the code really reads, real `reelgraph` commands and options, the
 *    Pachyderm address and the chart's ports, the drain budget, overlay specifics, helm values.
 */
import { loadPipelineSpec } from '../../src/services/bootstrap';
import { withWorkerImage, workerImageFromEnv } from '../../src/services/pipeline-specs';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import * as ts from 'typescript';
import { parseAllDocuments, parseDocument } from 'yaml';
import { ConfigMap, Service } from 'kubernetes-models/v1';
import { Deployment } from 'kubernetes-models/apps/v1';
import { Job } from 'kubernetes-models/batch/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { Ingress } from 'kubernetes-models/networking.k8s.io/v1';
import type { Command } from 'commander';
import { DockerfileParser } from 'dockerfile-ast';
import { buildProgram } from '../../src/cli/main';
import { DEFAULT_LIMITS, loadConfig } from '../../src/server/config';
import { parsePachdAddress } from '../../src/pachyderm/grpc/address';

const execFileAsync = promisify(execFile);

const ROOT = path.resolve(__dirname, '../..');
const K8S = path.join(ROOT, 'k8s');
const KUBECTL = process.env.KUBECTL || 'kubectl';
const PKG = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
  version: string;
};

/** The kustomizations rendered: the base and every overlay. */
const TARGETS = ['base', 'overlays/local', 'overlays/production'] as const;
type Target = (typeof TARGETS)[number];

/** A Kubernetes object as parsed (plain JSON values). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type K8sObject = Record<string, any>;

/**
 * The uid of the user `node` of the official node images (node:*-bookworm-slim create it with
 * uid and gid 1000); workers/Dockerfile ends with `USER node`.
 */
const NODE_UID = 1000;

/**
 * The ports of the Pachyderm helm chart (2.11/2.12) that a client in the cluster may dial, by
 * Service name (shared/pachyderm-api.md §3.1: templates/pachd/peer-service.yaml → `pachd-peer`
 * 30653, always plaintext; values.yaml `pachd.service.apiGRPCPort` → `pachd` 30650;
 * `proxy.service.httpPort`/`httpsPort` → `pachyderm-proxy` 80/443).
 */
const CHART_GRPC_PORTS: Record<string, { ports: number[]; plaintextOnly: boolean }> = {
  'pachd-peer': { ports: [30653], plaintextOnly: true },
  pachd: { ports: [30650], plaintextOnly: false },
  'pachyderm-proxy': { ports: [80, 443], plaintextOnly: false },
};
/** grpcutil.DefaultPachdNodePort: the port of an address that names none (§3.2). */
const DEFAULT_PACHD_PORT = 30650;

/** The recommended labels (kubernetes.io/docs/concepts/overview/working-with-objects/common-labels). */
const RECOMMENDED_LABELS = [
  'app.kubernetes.io/name',
  'app.kubernetes.io/instance',
  'app.kubernetes.io/version',
  'app.kubernetes.io/component',
  'app.kubernetes.io/part-of',
  'app.kubernetes.io/managed-by',
];

// ---------------------------------------------------------------------------------------------
// helpers

/**
 * Runs `kubectl kustomize <dir>`.
 * @throws Error saying how to install kubectl when it is missing; kustomize's stderr on failure
 */
async function kustomize(dir: string): Promise<string> {
  try {
    const { stdout } = await execFileAsync(KUBECTL, ['kustomize', dir], {
      maxBuffer: 16 * 1024 * 1024,
    });
    return stdout;
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { stderr?: string };
    if (err.code === 'ENOENT') {
      throw new Error(
        `kubectl not found (tried ${JSON.stringify(KUBECTL)}): the manifest tests need it to ` +
          'render k8s/ with kustomize. Install it (Debian: apt-get install -y kubernetes-client; ' +
          'or any kubectl >= 1.20) or set KUBECTL=/path/to/kubectl.',
      );
    }
    throw new Error(`kubectl kustomize ${dir} failed: ${err.stderr || err.message}`);
  }
}

/**
 * Parses a multi-document YAML text; duplicate keys and syntax errors are errors.
 * @throws Error naming the source and the first problem
 */
function parseYamlDocs(text: string, source: string): K8sObject[] {
  const docs = parseAllDocuments(text, { uniqueKeys: true, prettyErrors: true });
  const list = Array.isArray(docs) ? docs : [docs];
  const out: K8sObject[] = [];
  for (const doc of list) {
    if (doc.errors.length) throw new Error(`${source}: ${doc.errors[0].message}`);
    const value = doc.toJS() as K8sObject | null;
    if (value !== null) out.push(value);
  }
  return out;
}

/** All files under `dir` ending in .yaml or .yml. */
function yamlFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return yamlFiles(p);
    return /\.ya?ml$/.test(e.name) ? [p] : [];
  });
}

/** `kind/name` of an object, for messages. */
const id = (o: K8sObject) => `${o.kind}/${o.metadata?.name}`;

/** The pod template spec of a workload, or null for other kinds. */
function podSpec(o: K8sObject): K8sObject | null {
  return o.kind === 'Deployment' || o.kind === 'Job' ? o.spec.template.spec : null;
}

/** Every (object, container) pair of the workloads of a render. */
function containers(objs: K8sObject[]): { obj: K8sObject; c: K8sObject }[] {
  return objs.flatMap((obj) => {
    const spec = podSpec(obj);
    return spec
      ? [...(spec.initContainers ?? []), ...spec.containers].map((c) => ({ obj, c }))
      : [];
  });
}

/** True when every key/value of `selector` is among `labels`. */
function selects(selector: Record<string, string>, labels: Record<string, string>): boolean {
  return (
    Object.keys(selector).length > 0 &&
    Object.entries(selector).every(([k, v]) => labels?.[k] === v)
  );
}

/** Paths present in `a` (the manifest) but missing or different in `b` (the round trip). */
function lostPaths(a: unknown, b: unknown, at = ''): string[] {
  if (Array.isArray(a)) {
    if (!Array.isArray(b)) return [at || '/'];
    return a.flatMap((x, i) => lostPaths(x, b[i], `${at}[${i}]`));
  }
  if (a !== null && typeof a === 'object') {
    if (b === null || typeof b !== 'object') return [at || '/'];
    return Object.entries(a).flatMap(([k, v]) =>
      lostPaths(v, (b as Record<string, unknown>)[k], at ? `${at}.${k}` : k),
    );
  }
  return a === b ? [] : [at];
}

/** The validating class of kubernetes-models for each apiVersion/kind the manifests use. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const MODELS: Record<string, new (data: any) => { validate(): void }> = {
  'v1/ConfigMap': ConfigMap,
  'v1/Service': Service,
  'apps/v1/Deployment': Deployment,
  'batch/v1/Job': Job,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'networking.k8s.io/v1/Ingress': Ingress,
};

/**
 * Runs test/k8s/roundtrip.mjs on the objects: for each, the client's class name and its dump.
 * @throws Error with the child's stderr when it fails
 */
async function roundTrip(objs: K8sObject[]): Promise<{ type: string; yaml: string }[]> {
  const script = path.join(__dirname, 'roundtrip.mjs');
  return new Promise((resolve, reject) => {
    const child = execFile(
      process.execPath,
      [script],
      { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (err) reject(new Error(`roundtrip.mjs failed: ${stderr || err.message}`));
        else resolve(JSON.parse(stdout));
      },
    );
    child.stdin!.end(JSON.stringify(objs));
  });
}

/** The client's type name for apiVersion + kind: `<Version><Kind>` (V1Deployment, …). */
function clientTypeName(apiVersion: string, kind: string): string {
  const version = apiVersion.split('/').pop()!;
  return version.charAt(0).toUpperCase() + version.slice(1) + kind;
}

/** All .ts files under a directory. */
function tsFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return tsFiles(p);
    return e.name.endsWith('.ts') ? [p] : [];
  });
}

/**
 * The identifiers and string literals of the code of `files` (comments excluded): a name the code
 * reads appears as `env.NAME`, `env['NAME']`, a zod key `NAME:` or a constant `'NAME'`.
 */
function codeTokens(files: string[]): Set<string> {
  const out = new Set<string>();
  for (const file of files) {
    const sf = ts.createSourceFile(file, fs.readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022);
    const visit = (node: ts.Node) => {
      if (ts.isIdentifier(node)) out.add(node.text);
      else if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) {
        out.add(node.text);
      }
      ts.forEachChild(node, visit);
    };
    visit(sf);
  }
  return out;
}

/** Env var names a container gets: its `env` names and the keys of the ConfigMaps of `envFrom`. */
function envNames(c: K8sObject, objs: K8sObject[]): string[] {
  const names: string[] = (c.env ?? []).map((e: K8sObject) => e.name);
  for (const from of c.envFrom ?? []) {
    if (!from.configMapRef) continue;
    const cm = objs.find(
      (o) => o.kind === 'ConfigMap' && o.metadata.name === from.configMapRef.name,
    );
    if (!cm)
      throw new Error(`envFrom names ConfigMap ${from.configMapRef.name}, not in the render`);
    names.push(...Object.keys(cm.data ?? {}));
  }
  return names;
}

/** The value of env var `name` in a container (literal, or from an envFrom ConfigMap). */
function envValue(c: K8sObject, objs: K8sObject[], name: string): string | undefined {
  const direct = (c.env ?? []).find((e: K8sObject) => e.name === name);
  if (direct) return direct.value;
  for (const from of c.envFrom ?? []) {
    const cm = objs.find(
      (o) => o.kind === 'ConfigMap' && o.metadata.name === from.configMapRef?.name,
    );
    if (cm?.data?.[name] !== undefined) return cm.data[name];
  }
  return undefined;
}

/**
 * Parses a pachd address as pachctl does (pachyderm-api.md §3.2): host, host:port, grpc://,
 * grpcs://, http://, https://; no path. Missing port → 30650.
 * @throws Error naming the address and what is wrong
 */
function parseAddressPerSpec(address: string): { tls: boolean; host: string; port: number } {
  const m = /^(?:(grpc|grpcs|http|https):\/\/)?([A-Za-z0-9.-]+)(?::(\d+))?$/.exec(address);
  if (!m) throw new Error(`pachd address ${JSON.stringify(address)} is not [scheme://]host[:port]`);
  return {
    tls: m[1] === 'grpcs' || m[1] === 'https',
    host: m[2],
    port: m[3] ? Number(m[3]) : DEFAULT_PACHD_PORT,
  };
}

/**
 * The files of `needed` (paths in the build context = the repository root) that the final stage
 * of a Dockerfile does not put at the same path under its WORKDIR. A `COPY --from=<stage>` counts
 * when it copies the same path from the stage's WORKDIR-relative tree (`/app/<path>`), as the
 * build stage holds a copy of the sources. Docker's rules: a directory's contents go into the
 * destination; a file goes to `<dest>/<name>` when the destination ends with `/`.
 */
function missingFromImage(dockerfile: string, needed: string[]): string[] {
  const instructions = DockerfileParser.parse(dockerfile).getInstructions();
  const lastFrom = instructions.map((i) => i.getKeyword()).lastIndexOf('FROM');
  let workdir = '/';
  const placed: { from: string; to: string; dir: boolean }[] = [];
  for (const i of instructions.slice(lastFrom + 1)) {
    const args = i.getArguments().map((a) => a.getValue());
    if (i.getKeyword() === 'WORKDIR') workdir = path.posix.resolve(workdir, args[0]);
    if (i.getKeyword() !== 'COPY') continue;
    const stage = /--from=/.test(i.getTextContent());
    const dest = args[args.length - 1];
    for (const raw of args.slice(0, -1)) {
      // a stage's /app/<path> is taken for the context's <path> (the build stage's WORKDIR)
      const src = stage ? path.posix.relative('/app', raw) : path.posix.normalize(raw);
      if (src.startsWith('..')) continue;
      const dir =
        src === '.' ||
        (fs.existsSync(path.join(ROOT, src)) && fs.statSync(path.join(ROOT, src)).isDirectory());
      const to = path.posix.resolve(workdir, dest);
      placed.push({
        from: src,
        to: !dir && dest.endsWith('/') ? path.posix.join(to, path.posix.basename(src)) : to,
        dir,
      });
    }
  }
  return needed.filter(
    (file) =>
      !placed.some(({ from, to, dir }) => {
        const inside = dir ? from === '.' || file.startsWith(from + '/') : file === from;
        const at = dir
          ? path.posix.join(to, path.posix.relative(from === '.' ? '' : from, file))
          : to;
        return inside && at === path.posix.join(workdir, file);
      }),
  );
}

/** The `reelgraph` sub-command named `name`, or undefined. */
function subcommand(program: Command, name: string): Command | undefined {
  return program.commands.find((c) => c.name() === name);
}

// ---------------------------------------------------------------------------------------------
// rendering once for all tests

const rendered = {} as Record<Target, K8sObject[]>;

beforeAll(async () => {
  for (const t of TARGETS) {
    rendered[t] = parseYamlDocs(await kustomize(path.join(K8S, t)), `kubectl kustomize k8s/${t}`);
  }
});

const all = () => TARGETS.flatMap((t) => rendered[t].map((obj) => ({ target: t, obj })));
const byKind = (t: Target, kind: string) => rendered[t].filter((o) => o.kind === kind);
const apiDeployment = (t: Target) => {
  const d = byKind(t, 'Deployment');
  expect(d.map(id)).toEqual(['Deployment/reelgraph-api']);
  return d[0];
};
const initJob = (t: Target) => {
  const j = byKind(t, 'Job');
  expect(j.map(id)).toEqual(['Job/reelgraph-init']);
  return j[0];
};

// ---------------------------------------------------------------------------------------------

describe('rendering and parsing', () => {
  test.each(TARGETS)('k8s/%s renders the API, its Service, the init Job and the ConfigMap', (t) => {
    const kinds = rendered[t].map(id).sort();
    expect(kinds).toEqual(
      expect.arrayContaining([
        'ConfigMap/reelgraph-config',
        'Deployment/reelgraph-api',
        'Job/reelgraph-init',
        'Service/reelgraph-api',
      ]),
    );
  });

  test('the YAML parser rejects duplicate keys (the check below can fail)', () => {
    expect(() => parseYamlDocs('a: 1\nb: 2\na: 3\n', 'dup.yaml')).toThrow(/dup\.yaml.*unique/i);
  });

  test('every YAML file under k8s/ parses with no duplicate key', () => {
    const files = yamlFiles(K8S);
    expect(files.length).toBeGreaterThanOrEqual(10);
    for (const f of files) {
      expect(() => parseYamlDocs(fs.readFileSync(f, 'utf8'), path.relative(ROOT, f))).not.toThrow();
    }
  });

  test('a kustomization that does not render fails with kustomize’s message', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rg-kustomize-'));
    try {
      fs.writeFileSync(path.join(dir, 'kustomization.yaml'), 'resources:\n  - missing.yaml\n');
      await expect(kustomize(dir)).rejects.toThrow(/missing\.yaml/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('official schemas (kubernetes-models) and the typed round trip (@kubernetes/client-node)', () => {
  test('kubernetes-models rejects a wrongly typed field (the check below can fail)', () => {
    const bad = new Deployment({
      metadata: { name: 'x' },
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      spec: { replicas: 'two' as any, selector: {}, template: {} },
    });
    expect(() => bad.validate()).toThrow(/replicas/);
  });

  test('every rendered object validates against its official schema', () => {
    for (const { target, obj } of all()) {
      const Model = MODELS[`${obj.apiVersion}/${obj.kind}`];
      if (!Model) throw new Error(`${target}: ${id(obj)} (${obj.apiVersion}) has no schema here`);
      try {
        new Model(obj).validate();
      } catch (e) {
        throw new Error(`${target}: ${id(obj)}: ${(e as Error).message}`);
      }
    }
  });

  test('the round trip drops a misspelled field (the check below can fail)', async () => {
    const api = structuredClone(apiDeployment('base'));
    api.spec.template.spec.containers[0].imagePullPolicyy = 'Always';
    const [out] = await roundTrip([api]);
    expect(out.type).toBe('V1Deployment');
    const back = parseDocument(out.yaml).toJS();
    expect(lostPaths(api, back)).toEqual(['spec.template.spec.containers[0].imagePullPolicyy']);
  });

  test.each(TARGETS)('k8s/%s: every object survives the typed round trip unchanged', async (t) => {
    const objs = rendered[t];
    const out = await roundTrip(objs);
    objs.forEach((obj, i) => {
      expect(`${id(obj)}: ${out[i].type}`).toBe(
        `${id(obj)}: ${clientTypeName(obj.apiVersion, obj.kind)}`,
      );
      const back = parseDocument(out[i].yaml).toJS();
      expect({ object: id(obj), lost: lostPaths(obj, back) }).toEqual({
        object: id(obj),
        lost: [],
      });
    });
  });
});

describe('labels, selectors and ports', () => {
  test('every object carries the recommended app.kubernetes.io labels, version = package.json', () => {
    for (const { target, obj } of all()) {
      const labels = obj.metadata.labels ?? {};
      for (const l of RECOMMENDED_LABELS) {
        expect(`${target} ${id(obj)} ${l}=${labels[l] ?? '(missing)'}`).not.toMatch(/\(missing\)$/);
      }
      expect(labels['app.kubernetes.io/version']).toBe(PKG.version);
      expect(labels['app.kubernetes.io/managed-by']).toBe('kustomize');
      const spec = podSpec(obj);
      if (spec) expect(obj.spec.template.metadata.labels).toEqual(labels);
    }
  });

  test('selectors match their pod template labels and never name the version', () => {
    for (const t of TARGETS) {
      const api = apiDeployment(t);
      const sel = api.spec.selector.matchLabels;
      expect(selects(sel, api.spec.template.metadata.labels)).toBe(true);
      expect(Object.keys(sel)).not.toContain('app.kubernetes.io/version');
    }
  });

  test('every Service selects the API pods, and only them (not the init Job’s)', () => {
    for (const t of TARGETS) {
      const api = apiDeployment(t).spec.template.metadata.labels;
      const init = initJob(t).spec.template.metadata.labels;
      for (const svc of byKind(t, 'Service')) {
        expect(`${t} ${id(svc)} selects API pods: ${selects(svc.spec.selector, api)}`).toMatch(
          /true$/,
        );
        expect(selects(svc.spec.selector, init)).toBe(false);
      }
    }
  });

  test('every probe port and Service targetPort names a declared container port', () => {
    for (const t of TARGETS) {
      const api = apiDeployment(t);
      const c = api.spec.template.spec.containers[0];
      const declared = new Map<string | number, number>();
      for (const p of c.ports) {
        declared.set(p.name, p.containerPort);
        declared.set(p.containerPort, p.containerPort);
      }
      for (const probe of ['startupProbe', 'livenessProbe', 'readinessProbe']) {
        expect(c[probe]).toBeDefined();
        expect(`${t} ${probe} port ${c[probe].httpGet.port}`).toBe(
          `${t} ${probe} port ${declared.has(c[probe].httpGet.port) ? c[probe].httpGet.port : '(undeclared)'}`,
        );
      }
      for (const svc of byKind(t, 'Service')) {
        for (const p of svc.spec.ports) {
          expect(declared.has(p.targetPort)).toBe(true);
          expect(p.name).toBe('http');
        }
      }
    }
  });

  test('ports are in range (1–65535; NodePorts in the default 30000–32767)', () => {
    for (const { target, obj } of all()) {
      for (const { c } of containers([obj])) {
        for (const p of c.ports ?? []) {
          expect(p.containerPort >= 1 && p.containerPort <= 65535).toBe(true);
        }
      }
      if (obj.kind !== 'Service') continue;
      for (const p of obj.spec.ports) {
        expect(`${target} ${id(obj)} port ${p.port}`).toMatch(/port \d+$/);
        expect(p.port >= 1 && p.port <= 65535).toBe(true);
        if (typeof p.targetPort === 'number') {
          expect(p.targetPort >= 1 && p.targetPort <= 65535).toBe(true);
        }
        if (p.nodePort !== undefined) {
          expect(obj.spec.type).toBe('NodePort');
          expect(p.nodePort >= 30000 && p.nodePort <= 32767).toBe(true);
        }
      }
    }
  });

  test('the API listens on the port its container declares (serve --port = containerPort)', () => {
    const program = buildProgram();
    expect(subcommand(program, 'serve')).toBeDefined();
    for (const t of TARGETS) {
      const c = apiDeployment(t).spec.template.spec.containers[0];
      const args: string[] = c.args;
      const port = Number(args[args.indexOf('--port') + 1]);
      expect(c.ports.map((p: K8sObject) => p.containerPort)).toEqual([port]);
      expect(args[args.indexOf('--host') + 1]).toBe('0.0.0.0');
    }
  });
});

describe('images, security and resources', () => {
  const workerImages = ['train', 'predict'].map(
    (p) =>
      (
        JSON.parse(fs.readFileSync(path.join(ROOT, 'workers', p, 'pipeline.json'), 'utf8')) as {
          transform: { image: string };
        }
      ).transform.image,
  );

  test('every image is pinned to package.json’s version, the pipelines’ worker image', () => {
    expect(new Set(workerImages)).toEqual(new Set([`reelgraph/worker:${PKG.version}`]));
    for (const { target, obj } of all()) {
      for (const { c } of containers([obj])) {
        // production pulls it from its registry (the overlay's `images:` entry)
        const registry = target === 'overlays/production' ? 'registry.example.com/' : '';
        expect(`${target} ${id(obj)} ${c.image}`).toBe(
          `${target} ${id(obj)} ${registry}reelgraph/worker:${PKG.version}`,
        );
        expect(c.image).not.toMatch(/:latest$|^[^:]+$/);
        expect(c.imagePullPolicy).toBe('IfNotPresent');
      }
    }
  });

  test('workers/Dockerfile runs as the user `node` that runAsUser names', () => {
    const dockerfile = fs.readFileSync(path.join(ROOT, 'workers', 'Dockerfile'), 'utf8');
    const users = [...dockerfile.matchAll(/^USER\s+(\S+)/gm)].map((m) => m[1]);
    expect(users[users.length - 1]).toBe('node');
  });

  test('the Dockerfile check finds a missing file, and accepts a COPY that brings it', () => {
    const base = 'FROM node:22 AS build\nCOPY workers ./workers\nFROM node:22\nWORKDIR /app\n';
    const need = ['workers/train/pipeline.json'];
    expect(missingFromImage(base, need)).toEqual(need);
    expect(missingFromImage(base + 'COPY workers ./workers\n', need)).toEqual([]);
    expect(
      missingFromImage(base + 'COPY workers/train/pipeline.json workers/train/\n', need),
    ).toEqual([]);
    expect(missingFromImage(base + 'COPY workers /opt/workers\n', need)).toEqual(need);
    expect(missingFromImage(base + 'COPY --from=build /app/workers ./workers\n', need)).toEqual([]);
  });

  test('the image holds what the commands read at run time (workers/Dockerfile final stage)', () => {
    // `reelgraph init` and `serve` read the pipeline specs from <package root>/workers/<name>/
    // (src/services/bootstrap.ts loadPipelineSpec); run from dist/, the gRPC adapter reads its
    // .proto files from <package root>/src/pachyderm/grpc/proto (src/pachyderm/grpc/protos.ts)
    const needed = ['workers/train/pipeline.json', 'workers/predict/pipeline.json'];
    const protos = path.join(ROOT, 'src/pachyderm/grpc/proto');
    if (fs.existsSync(protos)) {
      for (const f of fs.readdirSync(protos).filter((x) => x.endsWith('.proto'))) {
        needed.push(`src/pachyderm/grpc/proto/${f}`);
      }
    }
    const text = fs.readFileSync(path.join(ROOT, 'workers', 'Dockerfile'), 'utf8');
    // add to the final stage, e.g.: COPY workers ./workers (and COPY src/pachyderm/grpc/proto
    // ./src/pachyderm/grpc/proto)
    expect(missingFromImage(text, needed)).toEqual([]);
  });

  test('every pod runs as non-root uid 1000 with a read-only root, no privilege escalation', () => {
    for (const { target, obj } of all()) {
      const spec = podSpec(obj);
      if (!spec) continue;
      expect(spec.securityContext).toMatchObject({
        runAsNonRoot: true,
        runAsUser: NODE_UID,
        runAsGroup: NODE_UID,
        seccompProfile: { type: 'RuntimeDefault' },
      });
      expect(spec.automountServiceAccountToken).toBe(false);
      for (const { c } of containers([obj])) {
        expect({ at: `${target} ${id(obj)} ${c.name}`, ...c.securityContext }).toEqual({
          at: `${target} ${id(obj)} ${c.name}`,
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          runAsNonRoot: true,
          runAsUser: NODE_UID,
          runAsGroup: NODE_UID,
          capabilities: { drop: ['ALL'] },
        });
      }
    }
  });

  test('every path the process writes is a mounted emptyDir (data dir, dataset cache, /tmp)', () => {
    for (const { target, obj } of all()) {
      const spec = podSpec(obj);
      if (!spec) continue;
      const emptyDirs = new Set(
        spec.volumes.filter((v: K8sObject) => v.emptyDir).map((v: K8sObject) => v.name),
      );
      for (const { c } of containers([obj])) {
        const mounts = new Map<string, string>(
          c.volumeMounts.map((m: K8sObject) => [m.mountPath, m.name]),
        );
        const writes = ['/tmp']; // os.tmpdir()
        for (const name of ['REELGRAPH_DATA_DIR', 'XDG_CACHE_HOME']) {
          const v = envValue(c, rendered[target], name);
          if (v !== undefined) writes.push(v);
        }
        // the dataset cache (src/engine/dataset/builtin.ts) is needed by the API and by init
        expect(envValue(c, rendered[target], 'XDG_CACHE_HOME')).toBeDefined();
        for (const p of writes) {
          expect(`${target} ${id(obj)} writes ${p} on ${mounts.get(p) ?? '(no mount)'}`).toBe(
            `${target} ${id(obj)} writes ${p} on ${emptyDirs.has(mounts.get(p)) ? mounts.get(p) : '(an emptyDir)'}`,
          );
        }
        for (const v of spec.volumes.filter((x: K8sObject) => x.emptyDir)) {
          expect(v.emptyDir.sizeLimit).toMatch(/^\d+(Mi|Gi)$/);
        }
      }
    }
  });

  test('every container requests CPU and memory and has a memory limit', () => {
    for (const { target, obj } of all()) {
      for (const { c } of containers([obj])) {
        expect({ at: `${target} ${id(obj)}`, ...c.resources }).toMatchObject({
          at: `${target} ${id(obj)}`,
          requests: { cpu: expect.any(String), memory: expect.any(String) },
          limits: { memory: expect.any(String) },
        });
      }
    }
    const prod = apiDeployment('overlays/production').spec.template.spec.containers[0];
    expect(prod.resources.limits.cpu).toBeDefined();
  });
});

describe('the configuration the code reads', () => {
  const tokens = codeTokens(tsFiles(path.join(ROOT, 'src')));

  test('the token scan finds names the code reads and ignores comments', () => {
    // read by src/server/config.ts (zod keys) and src/engine/dataset/builtin.ts (env.X)
    expect(tokens.has('REELGRAPH_MAX_ITEMS')).toBe(true);
    expect(tokens.has('XDG_CACHE_HOME')).toBe(true);
    expect(tokens.has('REELGRAPH_NOT_A_VARIABLE')).toBe(false);
  });

  test('every env var the manifests set (env and envFrom ConfigMaps) is one the code reads', () => {
    const unread = new Set<string>();
    for (const { target, obj } of all()) {
      for (const { c } of containers([obj])) {
        for (const name of envNames(c, rendered[target])) if (!tokens.has(name)) unread.add(name);
        for (const e of c.env ?? []) {
          if (e.valueFrom?.secretKeyRef) {
            // the init Job's robot token has a key of its own (least privilege, docs/cluster.md)
            const key =
              obj.kind === 'Job' && e.name === 'REELGRAPH_PACHD_TOKEN'
                ? 'REELGRAPH_PACHD_INIT_TOKEN'
                : e.name;
            expect(e.valueFrom.secretKeyRef).toMatchObject({ name: 'reelgraph-secrets', key });
          }
        }
      }
    }
    // names set by k8s/ that no identifier or string literal of src/**/*.ts carries
    expect([...unread].sort()).toEqual([]);
  });

  test('the API and the init Job know the pachd address; the secrets come from the Secret', () => {
    for (const t of TARGETS) {
      for (const obj of [apiDeployment(t), initJob(t)]) {
        const c = obj.spec.template.spec.containers[0];
        expect(envValue(c, rendered[t], 'REELGRAPH_PACHD_ADDRESS')).toBeDefined();
        const fromSecret = (c.env ?? [])
          .filter((e: K8sObject) => e.valueFrom?.secretKeyRef)
          .map((e: K8sObject) => e.name);
        expect(fromSecret).toContain('REELGRAPH_PACHD_TOKEN');
        if (obj.kind === 'Deployment') expect(fromSecret).toContain('REELGRAPH_API_TOKENS');
        // no token is ever written in a manifest
        for (const e of c.env ?? []) expect(e.name.endsWith('TOKENS') && e.value).toBeFalsy();
      }
      for (const cm of byKind(t, 'ConfigMap')) {
        expect(Object.keys(cm.data)).not.toContain('REELGRAPH_API_TOKENS');
        expect(Object.keys(cm.data)).not.toContain('REELGRAPH_PACHD_TOKEN');
      }
    }
    const prodApi = apiDeployment('overlays/production').spec.template.spec.containers[0];
    const tokensRef = prodApi.env.find((e: K8sObject) => e.name === 'REELGRAPH_API_TOKENS');
    expect(tokensRef.valueFrom.secretKeyRef.optional).toBe(false);
  });

  test('the limits in the ConfigMap are accepted by the server’s configuration', () => {
    for (const t of TARGETS) {
      const cm = byKind(t, 'ConfigMap').find((o) => o.metadata.name === 'reelgraph-config')!;
      const config = loadConfig({ ...cm.data });
      expect(config.limits.maxBodyBytes).toBe(Number(cm.data.REELGRAPH_MAX_BODY_BYTES));
      expect(config.logLevel).toBe(cm.data.LOG_LEVEL);
    }
  });

  test('the Pachyderm address dials a port the helm chart exposes on that Service', () => {
    for (const t of TARGETS) {
      for (const obj of [apiDeployment(t), initJob(t)]) {
        const c = obj.spec.template.spec.containers[0];
        const address = envValue(c, rendered[t], 'REELGRAPH_PACHD_ADDRESS')!;
        const { tls, host, port } = parseAddressPerSpec(address);
        // the product's parser (what the gRPC adapter dials) reads it the same way
        const product = parsePachdAddress(address);
        expect({ tls: product.secure, host: product.host, port: product.port }).toEqual({
          tls,
          host,
          port,
        });
        const service = host.split('.')[0];
        const chart = CHART_GRPC_PORTS[service];
        expect(`${address}: Service ${service}`).toBe(
          `${address}: Service ${chart ? service : '(not a Service of the Pachyderm chart)'}`,
        );
        expect(`${address}: port ${port}`).toBe(
          `${address}: port ${chart.ports.includes(port) ? port : chart.ports.join(' or ')}`,
        );
        if (chart.plaintextOnly) expect(tls).toBe(false);
        // a name in another namespace must be a cluster DNS name: <svc>.<ns>.svc[.cluster.local]
        if (host.includes('.'))
          expect(host).toMatch(/^[a-z0-9-]+\.[a-z0-9-]+\.svc(\.cluster\.local)?$/);
      }
    }
    expect(() => parseAddressPerSpec('grpc://pachd-peer:30653/path')).toThrow(/scheme/);
    expect(parseAddressPerSpec('pachd')).toEqual({ tls: false, host: 'pachd', port: 30650 });
  });
});

describe('commands, probes and shutdown', () => {
  const program = buildProgram();

  test.each(['Deployment', 'Job'])(
    'the %s runs a real `reelgraph` command with options it declares',
    (kind) => {
      for (const t of TARGETS) {
        const obj = kind === 'Deployment' ? apiDeployment(t) : initJob(t);
        const c = obj.spec.template.spec.containers[0];
        expect(c.command).toEqual(['reelgraph']);
        const [name, ...rest] = c.args as string[];
        const cmd = subcommand(program, name);
        expect(`reelgraph ${name}: ${cmd ? 'exists' : 'not a command of src/cli/main.ts'}`).toBe(
          `reelgraph ${name}: exists`,
        );
        expect(name).toBe(kind === 'Deployment' ? 'serve' : 'init');
        const declared = new Set(cmd!.options.map((o) => o.long));
        for (const a of rest.filter((x) => x.startsWith('--'))) {
          expect(`reelgraph ${name} ${a}: ${declared.has(a) ? 'declared' : 'unknown'}`).toBe(
            `reelgraph ${name} ${a}: declared`,
          );
        }
      }
    },
  );

  test('the init Job retries, and its deadline outlasts init’s own wait for the first model', () => {
    for (const t of TARGETS) {
      const job = initJob(t);
      const args: string[] = job.spec.template.spec.containers[0].args;
      const timeout = Number(args[args.indexOf('--timeout') + 1]);
      expect(timeout).toBeGreaterThan(0);
      expect(job.spec.activeDeadlineSeconds).toBeGreaterThan(timeout);
      expect(job.spec.backoffLimit).toBeGreaterThanOrEqual(1);
      expect(['Never', 'OnFailure']).toContain(job.spec.template.spec.restartPolicy);
    }
  });

  test('the probes use the routes the server serves: /healthz (start, live), /readyz (ready)', () => {
    const served = codeTokens(tsFiles(path.join(ROOT, 'src', 'server')));
    for (const t of TARGETS) {
      const c = apiDeployment(t).spec.template.spec.containers[0];
      expect(c.startupProbe.httpGet.path).toBe('/healthz');
      expect(c.livenessProbe.httpGet.path).toBe('/healthz');
      expect(c.readinessProbe.httpGet.path).toBe('/readyz');
      for (const p of ['/healthz', '/readyz']) expect(served.has(p)).toBe(true);
      // a first start may wait up to 10 minutes for the first model (bootstrap.ts waitForModel)
      const s = c.startupProbe;
      expect(s.periodSeconds * s.failureThreshold).toBeGreaterThanOrEqual(600);
    }
  });

  test('terminationGracePeriodSeconds covers preStop + the server’s drain + closing', () => {
    const app = fs.readFileSync(path.join(ROOT, 'src', 'server', 'app.ts'), 'utf8');
    const m = /drainTimeoutMs \?\? ([\d_]+)/.exec(app);
    if (!m) throw new Error('src/server/app.ts: the default drainTimeoutMs was not found');
    const drainSeconds = Number(m[1].replace(/_/g, '')) / 1000;
    expect(drainSeconds).toBeGreaterThan(0);
    for (const t of TARGETS) {
      const spec = apiDeployment(t).spec.template.spec;
      const preStop: string[] = spec.containers[0].lifecycle.preStop.exec.command;
      expect(preStop[0]).toBe('sleep');
      const sleep = Number(preStop[1]);
      expect(spec.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(sleep + drainSeconds + 5);
    }
  });
});

describe('overlays', () => {
  test('every overlay object lives in the namespace reelgraph; the base names none', () => {
    for (const o of rendered.base) expect(o.metadata.namespace).toBeUndefined();
    for (const t of ['overlays/local', 'overlays/production'] as const) {
      for (const o of rendered[t])
        expect(`${id(o)} ${o.metadata.namespace}`).toBe(`${id(o)} reelgraph`);
    }
  });

  test('local: one replica; the NodePort is the one kind-cluster.yaml maps to the host', () => {
    expect(apiDeployment('overlays/local').spec.replicas).toBe(1);
    const nodePorts = byKind('overlays/local', 'Service').flatMap((s) =>
      s.spec.ports.filter((p: K8sObject) => p.nodePort).map((p: K8sObject) => p.nodePort),
    );
    expect(nodePorts.length).toBe(1);
    const [kind] = parseYamlDocs(
      fs.readFileSync(path.join(K8S, 'overlays/local/kind-cluster.yaml'), 'utf8'),
      'kind-cluster.yaml',
    );
    expect(kind.kind).toBe('Cluster');
    const mapped = kind.nodes.flatMap((n: K8sObject) =>
      (n.extraPortMappings ?? []).map((m: K8sObject) => m.containerPort),
    );
    expect(mapped).toContain(nodePorts[0]);
  });

  test('production: 2+ replicas, a PDB that lets one go, spread over nodes and zones', () => {
    const api = apiDeployment('overlays/production');
    expect(api.spec.replicas).toBeGreaterThanOrEqual(2);
    const [pdb] = byKind('overlays/production', 'PodDisruptionBudget');
    expect(selects(pdb.spec.selector.matchLabels, api.spec.template.metadata.labels)).toBe(true);
    expect(pdb.spec.minAvailable).toBeLessThan(api.spec.replicas);
    expect(pdb.spec.minAvailable).toBeGreaterThanOrEqual(1);
    const spread = api.spec.template.spec.topologySpreadConstraints as K8sObject[];
    expect(spread.map((s) => s.topologyKey).sort()).toEqual([
      'kubernetes.io/hostname',
      'topology.kubernetes.io/zone',
    ]);
    for (const s of spread) {
      expect(selects(s.labelSelector.matchLabels, api.spec.template.metadata.labels)).toBe(true);
    }
  });

  test('production: the Ingress has TLS for its hosts, routes to the Service, keeps WebSockets', () => {
    const [ing] = byKind('overlays/production', 'Ingress');
    expect(ing.spec.ingressClassName).toBe('nginx');
    const hosts = ing.spec.rules.map((r: K8sObject) => r.host);
    const tlsHosts = ing.spec.tls.flatMap((x: K8sObject) => x.hosts);
    for (const h of hosts) expect(tlsHosts).toContain(h);
    for (const rule of ing.spec.rules) {
      for (const p of rule.http.paths) {
        const svc = byKind('overlays/production', 'Service').find(
          (s) => s.metadata.name === p.backend.service.name,
        );
        expect(svc).toBeDefined();
        expect(svc!.spec.ports.map((x: K8sObject) => x.name)).toContain(
          p.backend.service.port.name,
        );
      }
    }
    const a = ing.metadata.annotations;
    // idle subscriptions must outlive ingress-nginx's 60 s default
    expect(Number(a['nginx.ingress.kubernetes.io/proxy-read-timeout'])).toBeGreaterThanOrEqual(
      3600,
    );
    expect(Number(a['nginx.ingress.kubernetes.io/proxy-send-timeout'])).toBeGreaterThanOrEqual(
      3600,
    );
    // nginx size units: k = 1024, m = 1024²; above the API's own limit so the API answers 413
    const m = /^(\d+)([km]?)$/.exec(a['nginx.ingress.kubernetes.io/proxy-body-size'])!;
    const bytes = Number(m[1]) * (m[2] === 'm' ? 1024 ** 2 : m[2] === 'k' ? 1024 : 1);
    const cm = byKind('overlays/production', 'ConfigMap')[0];
    const limit = Number(cm.data.REELGRAPH_MAX_BODY_BYTES ?? DEFAULT_LIMITS.maxBodyBytes);
    expect(bytes).toBeGreaterThan(limit);
  });
});

describe('Pachyderm 2.12 with auth on, and the worker image set once', () => {
  test('the API and the init Job need their robot tokens (separate keys of reelgraph-secrets)', () => {
    for (const t of TARGETS) {
      const ref = (obj: K8sObject) =>
        obj.spec.template.spec.containers[0].env.find(
          (e: K8sObject) => e.name === 'REELGRAPH_PACHD_TOKEN',
        ).valueFrom.secretKeyRef;
      expect(ref(apiDeployment(t))).toEqual({
        name: 'reelgraph-secrets',
        key: 'REELGRAPH_PACHD_TOKEN',
        optional: false,
      });
      expect(ref(initJob(t))).toEqual({
        name: 'reelgraph-secrets',
        key: 'REELGRAPH_PACHD_INIT_TOKEN',
        optional: false,
      });
    }
  });

  test('production: one `images:` entry reaches the API, the init Job and the workers’ spec', () => {
    const t = 'overlays/production';
    const image = apiDeployment(t).spec.template.spec.containers[0].image;
    expect(image).toBe('registry.example.com/reelgraph/worker:0.1.0');
    expect(initJob(t).spec.template.spec.containers[0].image).toBe(image);
    const cm = byKind(t, 'ConfigMap').find((o) => o.metadata.name === 'reelgraph-config')!;
    expect(cm.data.REELGRAPH_WORKER_IMAGE).toBe(image);
    expect(cm.data.REELGRAPH_WORKER_PULL_SECRETS).toBe('regcred');
    for (const obj of [apiDeployment(t), initJob(t)])
      expect(obj.spec.template.spec.imagePullSecrets).toEqual([{ name: 'regcred' }]);
    // and what the init Job does with it: the specs it creates carry that image and secret
    const spec = withWorkerImage(loadPipelineSpec('predict'), workerImageFromEnv(cm.data));
    expect(spec.transform).toMatchObject({ image, imagePullSecrets: ['regcred'] });
    // local: the image the kind cluster side-loads
    const local = byKind('overlays/local', 'ConfigMap')[0];
    expect(local.data.REELGRAPH_WORKER_IMAGE).toBe(
      apiDeployment('overlays/local').spec.template.spec.containers[0].image,
    );
  });

  test('no deprecated kustomize field (bases, patchesStrategicMerge, patchesJson6902, vars)', () => {
    for (const t of TARGETS) {
      const [k] = parseYamlDocs(
        fs.readFileSync(path.join(K8S, t, 'kustomization.yaml'), 'utf8'),
        `${t}/kustomization.yaml`,
      );
      for (const field of ['bases', 'patchesStrategicMerge', 'patchesJson6902', 'vars'])
        expect([t, field, k[field]]).toEqual([t, field, undefined]);
    }
  });

  test('both Helm values files turn auth on; production has object storage and external PostgreSQL', () => {
    const read = (f: string) =>
      parseYamlDocs(fs.readFileSync(path.join(K8S, 'pachyderm', f), 'utf8'), f)[0];
    const local = read('values.yaml');
    const prod = read('values-production.yaml');
    expect(local.pachd.activateAuth).toBe(true);
    expect(prod.pachd.activateAuth).toBe(true);
    expect(prod.deployTarget).toBe('AMAZON');
    expect(prod.pachd.storage.amazon.bucket).toBeTruthy();
    expect(prod.postgresql.enabled).toBe(false);
    expect(prod.global.postgresql.postgresqlHost).toBeTruthy();
    expect(prod.pachd.resources.requests.memory).toBeTruthy();
  });
});

describe('k8s/pachyderm/values.yaml', () => {
  const [values] = parseYamlDocs(
    fs.readFileSync(path.join(K8S, 'pachyderm', 'values.yaml'), 'utf8'),
    'values.yaml',
  );

  test('a local pachd without Console; the proxy on the NodePort kind maps', () => {
    expect(values.deployTarget).toBe('LOCAL');
    expect(values.console.enabled).toBe(false);
    expect(values.pachd.enterpriseLicenseKey).toBe('');
    // the base dials pachd-peer (plaintext); keeping the public port plaintext too
    expect(values.pachd.tls.enabled).toBe(false);
    expect(values.proxy.enabled).toBe(true);
    expect(values.proxy.service.type).toBe('NodePort');
    const nodePort = values.proxy.service.httpNodePort;
    expect(nodePort >= 30000 && nodePort <= 32767).toBe(true);
    const [kind] = parseYamlDocs(
      fs.readFileSync(path.join(K8S, 'overlays/local/kind-cluster.yaml'), 'utf8'),
      'kind-cluster.yaml',
    );
    const mapped = kind.nodes.flatMap((n: K8sObject) =>
      (n.extraPortMappings ?? []).map((x: K8sObject) => x.containerPort),
    );
    expect(mapped).toContain(nodePort);
  });
});
