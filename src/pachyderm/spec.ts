/**
 * Pipeline specs: Pachyderm 2.x `CreatePipelineRequest` JSON, parsed the way pachd parses it.
 *
 * pachd reads the JSON with Go's `protojson` (src/server/pps/server/api_server_v2.go,
 * `CreatePipelineV2`): both the proto field names (`datum_tries`) and the JSON names
 * (`datumTries`) are accepted, unknown fields are refused, 64-bit integers may be numbers or
 * decimal strings. It then applies the built-in defaults (src/server/pps/server/defaults.go,
 * api_server.go `setPipelineDefaults`/`setInputDefaults`) and validates
 * (`validatePipelineRequest`, `validateInput`). This module does the same and returns the
 * normalised camelCase {@link PipelineSpec}; a bad spec is refused with a {@link PachError}
 * `INVALID_ARGUMENT` whose message names the field path, e.g. `input.cross[1].pfs.glob: required`.
 *
 * Defaults applied (pachyderm-api.md §2.6): `pipeline.project.name = "default"`,
 * `transform.image = "ubuntu:20.04"`, `outputBranch = "master"`, `datumTries = 3` (also for 0),
 * `reprocessSpec = "until_success"`, `parallelismSpec.constant = 1` (also for 0); for each PFS input
 * `branch = "master"`, `name = repo`, `repoType = "user"`, `project = the pipeline's project`, glob
 * cleaned (`*` → `/*`).
 */
import { z } from 'zod';
import { PachCode, PachError } from './errors';
import { cleanGlob, globToRegExp } from './glob';
import {
  DEFAULT_PROJECT,
  type Input,
  type PfsInput,
  type PipelineSpec,
  type RepoType,
  type Transform,
} from './types';

/** Default `transform.image` (src/server/pps/server/api_server.go `DefaultUserImage`). */
export const DEFAULT_IMAGE = 'ubuntu:20.04';
/** Default `datumTries` (src/server/pps/server/api_server.go `DefaultDatumTries`). */
export const DEFAULT_DATUM_TRIES = 3;
/** Longest pipeline name pachd accepts (src/server/pps/server/api_server.go `maxPipelineNameLength`). */
export const MAX_PIPELINE_NAME_LENGTH = 51;

/** Top-level fields kept verbatim in {@link PipelineSpec.extra} (not interpreted by reelgraph). */
export const EXTRA_FIELDS = [
  'tfJob',
  'egress',
  'service',
  'spout',
  'datumSetSpec',
  'schedulingSpec',
  'podSpec',
  'podPatch',
  'specCommit',
  'tolerations',
  'determined',
  'maximumExpectedUptime',
] as const;

// ---------------------------------------------------------------------------------------------
// Field-name normalisation (protojson accepts proto names and JSON names)

/** Paths (dot-joined, array indexes dropped) whose value is a map: its keys are user data. */
const MAP_FIELDS = new Set([
  'transform.env',
  'metadata.annotations',
  'metadata.labels',
  'schedulingSpec.nodeSelector',
]);

function camel(key: string): string {
  return key.replace(/_([a-zA-Z0-9])/g, (_, c: string) => c.toUpperCase());
}

function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += (out ? '.' : '') + String(p);
  }
  return out || '(spec)';
}

function normaliseKeys(value: unknown, path: Array<string | number>, fieldPath: string): unknown {
  if (Array.isArray(value)) {
    return value.map((v, i) => normaliseKeys(v, [...path, i], fieldPath));
  }
  if (value === null || typeof value !== 'object') return value;
  if (MAP_FIELDS.has(fieldPath)) return value;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    const name = camel(key);
    if (Object.prototype.hasOwnProperty.call(out, name)) {
      throw invalid(`${formatPath([...path, name])}: given twice (as "${key}" and "${name}")`);
    }
    out[name] = normaliseKeys(v, [...path, name], fieldPath ? `${fieldPath}.${name}` : name);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Structure (zod)

/** int64/uint64 in protojson: a JSON number or a decimal string; returned as a number. */
function int64(min: number) {
  return z.unknown().transform((v, ctx) => {
    const n = typeof v === 'string' && /^-?\d+$/.test(v.trim()) ? Number(v) : v;
    if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < min) {
      ctx.addIssue({
        code: 'custom',
        message: `expected a whole number ≥ ${min} (number or decimal string), got ${JSON.stringify(v)}`,
      });
      return z.NEVER;
    }
    return n;
  });
}

const GO_DURATION = /^(?:\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h))+$/;
const duration = z
  .string()
  .regex(GO_DURATION, { message: 'expected a duration such as "60s", "1h30m"' });
const str = z.string();
const bool = z.boolean();
const strMap = z.record(z.string(), z.string());
const strList = z.array(z.string());

const resourceSpec = z.strictObject({
  cpu: z.number().nonnegative().optional(),
  memory: str.optional(),
  disk: str.optional(),
  gpu: z.strictObject({ type: str.optional(), number: int64(0).optional() }).optional(),
});

const transformSchema = z.strictObject({
  image: str.optional(),
  cmd: strList.optional(),
  errCmd: strList.optional(),
  env: strMap.optional(),
  secrets: z
    .array(
      z.strictObject({
        name: str.optional(),
        key: str.optional(),
        mountPath: str.optional(),
        envVar: str.optional(),
      }),
    )
    .optional(),
  imagePullSecrets: strList.optional(),
  stdin: strList.optional(),
  errStdin: strList.optional(),
  acceptReturnCode: z.array(int64(-(2 ** 31))).optional(),
  debug: bool.optional(),
  user: str.optional(),
  workingDir: str.optional(),
  dockerfile: str.optional(),
  memoryVolume: bool.optional(),
  datumBatching: bool.optional(),
});

const pfsSchema = z.strictObject({
  project: str.optional(),
  name: str.optional(),
  repo: str.optional(),
  repoType: str.optional(),
  branch: str.optional(),
  commit: str.optional(),
  glob: str.optional(),
  joinOn: str.optional(),
  outerJoin: bool.optional(),
  groupBy: str.optional(),
  lazy: bool.optional(),
  emptyFiles: bool.optional(),
  s3: bool.optional(),
  trigger: z.record(z.string(), z.unknown()).optional(),
  propagationSpec: z.unknown().optional(),
  reference: bool.optional(),
});

const cronSchema = z.strictObject({
  name: str.optional(),
  project: str.optional(),
  repo: str.optional(),
  commit: str.optional(),
  spec: str.optional(),
  overwrite: bool.optional(),
  start: str.optional(),
});

type RawInput = {
  pfs?: z.infer<typeof pfsSchema>;
  cron?: z.infer<typeof cronSchema>;
  cross?: RawInput[];
  union?: RawInput[];
  join?: RawInput[];
  group?: RawInput[];
};

const inputSchema: z.ZodType<RawInput> = z.lazy(() =>
  z.strictObject({
    pfs: pfsSchema.optional(),
    cron: cronSchema.optional(),
    cross: z.array(inputSchema).optional(),
    union: z.array(inputSchema).optional(),
    join: z.array(inputSchema).optional(),
    group: z.array(inputSchema).optional(),
  }),
);

const requestSchema = z.strictObject({
  pipeline: z.strictObject({
    name: str.optional(),
    project: z.strictObject({ name: str.optional() }).optional(),
  }),
  tfJob: z.unknown().optional(),
  transform: transformSchema.optional(),
  parallelismSpec: z.strictObject({ constant: int64(0).optional() }).optional(),
  egress: z.unknown().optional(),
  update: bool.optional(),
  outputBranch: str.optional(),
  s3Out: bool.optional(),
  resourceRequests: resourceSpec.optional(),
  resourceLimits: resourceSpec.optional(),
  sidecarResourceLimits: resourceSpec.optional(),
  sidecarResourceRequests: resourceSpec.optional(),
  input: inputSchema.optional(),
  description: str.optional(),
  reprocess: bool.optional(),
  service: z.unknown().optional(),
  spout: z.unknown().optional(),
  datumSetSpec: z
    .strictObject({
      number: int64(0).optional(),
      sizeBytes: int64(0).optional(),
      perWorker: int64(0).optional(),
    })
    .optional(),
  datumTimeout: duration.optional(),
  jobTimeout: duration.optional(),
  salt: str.optional(),
  datumTries: int64(0).optional(),
  schedulingSpec: z
    .strictObject({ nodeSelector: strMap.optional(), priorityClassName: str.optional() })
    .optional(),
  podSpec: str.optional(),
  podPatch: str.optional(),
  specCommit: z.unknown().optional(),
  metadata: z
    .strictObject({ annotations: strMap.optional(), labels: strMap.optional() })
    .optional(),
  reprocessSpec: str.optional(),
  autoscaling: bool.optional(),
  tolerations: z.array(z.unknown()).optional(),
  dryRun: bool.optional(),
  determined: z.unknown().optional(),
  maximumExpectedUptime: duration.optional(),
});

type RawRequest = z.infer<typeof requestSchema>;

function issueMessage(issue: z.core.$ZodIssue): string {
  const where = formatPath(issue.path);
  if (issue.code === 'unrecognized_keys') {
    const at = issue.path.length ? `${where}.` : '';
    return issue.keys.map((k) => `${at}${k}: unknown field`).join('; ');
  }
  if (issue.code === 'invalid_type') {
    if (/received undefined/.test(issue.message)) return `${where}: required`;
    return `${where}: expected ${issue.expected}, ${issue.message.replace(/^.*?(received .*)$/, '$1')}`;
  }
  if (issue.code === 'invalid_union') return `${where}: invalid value`;
  return `${where}: ${issue.message}`;
}

// ---------------------------------------------------------------------------------------------
// Semantics

function invalid(message: string): PachError {
  return new PachError(PachCode.INVALID_ARGUMENT, `invalid pipeline spec: ${message}`);
}

const NAME = /^[a-zA-Z0-9_-]+$/;

/**
 * Check a repo, pipeline, branch or input name as pachd does (`ancestry.ValidateName`: only
 * letters, digits, `_` and `-`).
 *
 * @param field the field path used in the message, e.g. `pipeline.name`
 * @throws PachError INVALID_ARGUMENT `invalid pipeline spec: <field>: name (<v>) invalid: only
 *   alphanumeric characters, underscores, and dashes are allowed`
 */
export function validateName(field: string, name: string): void {
  if (!NAME.test(name)) {
    throw invalid(
      `${field}: name (${name}) invalid: only alphanumeric characters, underscores, and dashes are allowed`,
    );
  }
}

const INPUT_KINDS = ['pfs', 'cross', 'union', 'join', 'group', 'cron'] as const;
const REPO_TYPES: readonly RepoType[] = ['user', 'spec', 'meta'];

function claimName(names: Map<string, string>, name: string, at: string): void {
  const seen = names.get(name);
  if (seen) throw invalid(`${at}.name: input name "${name}" is already used by ${seen}`);
  names.set(name, at);
}

function normaliseInput(
  raw: RawInput,
  path: string,
  project: string,
  names: Map<string, string>,
  parent: 'join' | 'group' | undefined,
): Input {
  const set = INPUT_KINDS.filter((k) => raw[k] !== undefined);
  if (set.length !== 1) {
    throw invalid(
      `${path}: exactly one of ${INPUT_KINDS.join(', ')} must be set, got ${set.length ? set.join(', ') : 'none'}`,
    );
  }
  const kind = set[0];
  if (kind === 'pfs') {
    const p = raw.pfs!;
    const at = `${path}.pfs`;
    if (!p.repo) throw invalid(`${at}.repo: required`);
    validateName(`${at}.repo`, p.repo);
    if (p.glob === undefined || p.glob === '') throw invalid(`${at}.glob: required`);
    try {
      globToRegExp(cleanGlob(p.glob));
    } catch (e) {
      throw invalid(`${at}.glob: ${(e as Error).message}`);
    }
    const name = p.name || p.repo;
    validateName(`${at}.name`, name);
    if (p.branch) validateName(`${at}.branch`, p.branch);
    if (p.project) validateName(`${at}.project`, p.project);
    const repoType = (p.repoType || 'user') as RepoType;
    if (!REPO_TYPES.includes(repoType)) {
      throw invalid(`${at}.repoType: expected "user", "spec" or "meta", got "${p.repoType}"`);
    }
    if (parent === 'join' && !p.joinOn) throw invalid(`${at}.joinOn: required in a join input`);
    if (parent === 'group' && !p.groupBy) throw invalid(`${at}.groupBy: required in a group input`);
    claimName(names, name, at);
    const pfs: PfsInput = {
      project: p.project || project,
      name,
      repo: p.repo,
      repoType,
      branch: p.branch || 'master',
      commit: p.commit ?? '',
      glob: cleanGlob(p.glob),
      joinOn: p.joinOn ?? '',
      outerJoin: p.outerJoin ?? false,
      groupBy: p.groupBy ?? '',
      lazy: p.lazy ?? false,
      emptyFiles: p.emptyFiles ?? false,
      s3: p.s3 ?? false,
      reference: p.reference ?? false,
    };
    if (p.trigger) pfs.trigger = p.trigger;
    return { pfs };
  }
  if (kind === 'cron') {
    const c = raw.cron!;
    const at = `${path}.cron`;
    if (!c.name) throw invalid(`${at}.name: required`);
    validateName(`${at}.name`, c.name);
    if (!c.spec) throw invalid(`${at}.spec: required`);
    let start: Date | null = null;
    if (c.start) {
      start = new Date(c.start);
      if (Number.isNaN(start.getTime())) {
        throw invalid(`${at}.start: expected an RFC 3339 timestamp, got "${c.start}"`);
      }
    }
    claimName(names, c.name, at);
    return {
      cron: {
        name: c.name,
        project: c.project || project,
        repo: c.repo || c.name,
        commit: c.commit ?? '',
        spec: c.spec,
        overwrite: c.overwrite ?? false,
        start,
      },
    };
  }
  const children = raw[kind]!;
  if (children.length === 0) throw invalid(`${path}.${kind}: must hold at least one input`);
  return {
    [kind]: children.map((child, i) =>
      normaliseInput(
        child,
        `${path}.${kind}[${i}]`,
        project,
        names,
        kind === 'join' || kind === 'group' ? kind : undefined,
      ),
    ),
  };
}

/**
 * Parse, default and validate a pipeline spec.
 *
 * @param json the spec: a JSON string or an already-parsed object, with camelCase or snake_case
 *   field names (both accepted, as by protojson).
 * @returns the normalised spec (camelCase, every default filled in; unused blocks such as
 *   `egress` or `service` kept in `extra`).
 * @throws PachError INVALID_ARGUMENT `invalid pipeline spec: <field path>: <what was expected>`
 *   for malformed JSON, unknown fields, wrong types, a missing or invalid pipeline name, a missing
 *   transform/cmd/input, an Input node with zero or several kinds, a PFS input without repo or
 *   glob, duplicate input names, a bad `reprocessSpec`.
 * @example parsePipelineSpec('{"pipeline":{"name":"p"},"transform":{"cmd":["true"]},"input":{"pfs":{"repo":"r","glob":"*"}}}').input.pfs.glob === "/*"
 */
export function parsePipelineSpec(json: string | object): PipelineSpec {
  let value: unknown = json;
  if (typeof json === 'string') {
    try {
      value = JSON.parse(json);
    } catch (e) {
      throw invalid(`(spec): not valid JSON: ${(e as Error).message}`);
    }
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw invalid('(spec): expected a JSON object');
  }
  const parsed = requestSchema.safeParse(normaliseKeys(value, [], ''));
  if (!parsed.success) {
    throw invalid(parsed.error.issues.map(issueMessage).join('; '));
  }
  const raw: RawRequest = parsed.data;

  const name = raw.pipeline.name;
  if (!name) throw invalid('pipeline.name: required');
  validateName('pipeline.name', name);
  if (name.length > MAX_PIPELINE_NAME_LENGTH) {
    throw invalid(
      `pipeline.name: pipeline name "${name}" is ${name.length - MAX_PIPELINE_NAME_LENGTH} characters longer than the ${MAX_PIPELINE_NAME_LENGTH} max`,
    );
  }
  const project = raw.pipeline.project?.name || DEFAULT_PROJECT;
  validateName('pipeline.project.name', project);

  const t = raw.transform;
  if (!t) throw invalid('transform: required');
  if (!t.cmd || t.cmd.length === 0) throw invalid('transform.cmd: required (a non-empty list)');
  if (!raw.input) throw invalid('input: required');
  const reprocessSpec = raw.reprocessSpec || 'until_success';
  if (reprocessSpec !== 'until_success' && reprocessSpec !== 'every_job') {
    throw invalid(
      `reprocessSpec: expected "until_success" or "every_job", got ${JSON.stringify(reprocessSpec)}`,
    );
  }
  const outputBranch = raw.outputBranch || 'master';
  validateName('outputBranch', outputBranch);

  const transform: Transform = {
    image: t.image || DEFAULT_IMAGE,
    cmd: t.cmd,
    errCmd: t.errCmd ?? [],
    env: t.env ?? {},
    secrets: (t.secrets ?? []).map((m) => ({
      name: m.name ?? '',
      key: m.key ?? '',
      mountPath: m.mountPath ?? '',
      envVar: m.envVar ?? '',
    })),
    imagePullSecrets: t.imagePullSecrets ?? [],
    stdin: t.stdin ?? [],
    errStdin: t.errStdin ?? [],
    acceptReturnCode: t.acceptReturnCode ?? [],
    debug: t.debug ?? false,
    user: t.user ?? '',
    workingDir: t.workingDir ?? '',
    dockerfile: t.dockerfile ?? '',
    memoryVolume: t.memoryVolume ?? false,
    datumBatching: t.datumBatching ?? false,
  };
  const spec: PipelineSpec = {
    pipeline: { project: { name: project }, name },
    description: raw.description ?? '',
    transform,
    input: normaliseInput(raw.input, 'input', project, new Map(), undefined),
    parallelismSpec: { constant: raw.parallelismSpec?.constant || 1 },
    datumTries: raw.datumTries || DEFAULT_DATUM_TRIES,
    reprocessSpec,
    outputBranch,
    autoscaling: raw.autoscaling ?? false,
    salt: raw.salt ?? '',
    s3Out: raw.s3Out ?? false,
  };
  for (const key of [
    'resourceRequests',
    'resourceLimits',
    'sidecarResourceLimits',
    'sidecarResourceRequests',
    'jobTimeout',
    'datumTimeout',
  ] as const) {
    if (raw[key] !== undefined) (spec as unknown as Record<string, unknown>)[key] = raw[key];
  }
  if (raw.metadata) {
    spec.metadata = {
      annotations: raw.metadata.annotations ?? {},
      labels: raw.metadata.labels ?? {},
    };
  }
  const extra: Record<string, unknown> = {};
  for (const key of EXTRA_FIELDS) if (raw[key] !== undefined) extra[key] = raw[key];
  if (Object.keys(extra).length) spec.extra = extra;
  return spec;
}

/**
 * Request flags that may ride inside a CreatePipelineRequest JSON (fields `update`=6,
 * `reprocess`=15, `dry_run`=37), read without validating the rest of the spec.
 *
 * @returns the flags that are set to `true` (others are `false`).
 */
export function requestFlags(json: string | object): {
  update: boolean;
  reprocess: boolean;
  dryRun: boolean;
} {
  let v: unknown = json;
  if (typeof json === 'string') {
    try {
      v = JSON.parse(json);
    } catch {
      v = {};
    }
  }
  const o = (v && typeof v === 'object' ? v : {}) as Record<string, unknown>;
  return {
    update: o.update === true,
    reprocess: o.reprocess === true,
    dryRun: o.dryRun === true || o.dry_run === true,
  };
}

/** Drop protojson's unpopulated values: '', false, 0, null, [] and {} (recursively). */
function compact(value: unknown): unknown {
  if (Array.isArray(value)) {
    const a = value.map(compact).filter((v) => v !== undefined);
    return a.length ? a : undefined;
  }
  if (value instanceof Date) return value.toISOString();
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      const c = compact(v);
      if (c !== undefined) out[k] = c;
    }
    return Object.keys(out).length ? out : undefined;
  }
  if (value === '' || value === false || value === 0 || value === null) return undefined;
  return value;
}

/**
 * The effective spec JSON (pachd's `effective_create_pipeline_request_json`): the spec with its
 * defaults, camelCase, `extra` fields back at the top level, unpopulated values omitted as
 * protojson does (`""`, `false`, `0`, empty lists and maps).
 *
 * @returns a compact JSON string, keys in the order of {@link PipelineSpec}.
 */
export function effectiveSpecJson(spec: PipelineSpec): string {
  const { extra, ...rest } = spec;
  return JSON.stringify(compact({ ...rest, ...(extra ?? {}) }));
}

/**
 * The PFS inputs of an input tree, depth first, left to right.
 *
 * @example pfsInputs({cross:[{pfs:a},{pfs:b}]}) // → [a, b]
 */
export function pfsInputs(input: Input | undefined): PfsInput[] {
  if (!input) return [];
  if (input.pfs) return [input.pfs];
  const children = input.cross ?? input.union ?? input.join ?? input.group ?? [];
  return children.flatMap(pfsInputs);
}
