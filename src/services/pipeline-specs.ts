/**
 * The pipeline specs reelgraph creates, with the deployment's worker image, and `applyPipelines`,
 * which creates the pipelines or updates the ones that differ (`reelgraph pipelines apply`).
 *
 * Worker image (one setting for the whole deployment): `REELGRAPH_WORKER_IMAGE` replaces
 * `transform.image` of every spec (the files say `reelgraph/worker:<version>`, which exists only
 * where it was built or side-loaded, e.g. `kind load docker-image`), and
 * `REELGRAPH_WORKER_PULL_SECRETS` (comma-separated Secret names in pachd's namespace) becomes
 * `transform.imagePullSecrets`, so that worker pods can pull from a private registry. k8s/ sets
 * both in the ConfigMap `reelgraph-config` (one place per overlay).
 *
 * Updating (Pachyderm's CreatePipeline with `update`; 2.12 pps api_server): a new spec version
 * whose workers run the new image; without `reprocess` the datums already processed with the same
 * inputs are skipped (their outputs kept), with `reprocess` every datum runs again.
 */
import { isPachError, PachCode } from '../pachyderm/errors';
import type { Pachyderm } from '../pachyderm/port';
import { parsePipelineSpec } from '../pachyderm/spec';

/** The worker image settings of the environment. */
export interface WorkerImageConfig {
  /** `transform.image` for every pipeline (default: the spec files' own). */
  image?: string;
  /** `transform.imagePullSecrets` (Secret names). */
  pullSecrets?: string[];
}

/** A Kubernetes object name (RFC 1123 subdomain): what a pull Secret's name must be. */
const K8S_NAME = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;
/** An image reference: [registry[:port]/]path[:tag][@sha256:digest], no spaces. */
const IMAGE = /^[a-z0-9][a-z0-9._/:-]*(@sha256:[0-9a-f]{64})?$/i;

/**
 * `REELGRAPH_WORKER_IMAGE` and `REELGRAPH_WORKER_PULL_SECRETS` (empty = unset).
 * @throws Error naming the variable and what was expected for a malformed value
 */
export function workerImageFromEnv(env: NodeJS.ProcessEnv = process.env): WorkerImageConfig {
  const image = env.REELGRAPH_WORKER_IMAGE?.trim() || undefined;
  if (image && (!IMAGE.test(image) || image.length > 512))
    throw new Error(
      `REELGRAPH_WORKER_IMAGE ${JSON.stringify(image)} is invalid: expected an image reference such as registry.example.com/reelgraph/worker:0.1.0`,
    );
  const secrets = (env.REELGRAPH_WORKER_PULL_SECRETS ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const s of secrets)
    if (!K8S_NAME.test(s))
      throw new Error(
        `REELGRAPH_WORKER_PULL_SECRETS: ${JSON.stringify(s)} is not a Kubernetes Secret name (lower-case letters, digits, - and .)`,
      );
  return { image, pullSecrets: secrets.length ? secrets : undefined };
}

/** `spec` with the worker image settings applied to its `transform`. */
export function withWorkerImage(
  spec: Record<string, unknown>,
  cfg: WorkerImageConfig,
): Record<string, unknown> {
  const transform = { ...(spec.transform as Record<string, unknown>) };
  if (cfg.image) transform.image = cfg.image;
  if (cfg.pullSecrets?.length) transform.imagePullSecrets = [...cfg.pullSecrets];
  return { ...spec, transform };
}

/** What {@link applyPipelines} did to one pipeline. */
export interface AppliedPipeline {
  name: string;
  action: 'created' | 'updated' | 'unchanged';
  /** The spec version after the call (PipelineInfo.version). */
  version: number;
}

/**
 * Creates each pipeline of `specs` that does not exist, and updates (CreatePipeline `update`,
 * with `reprocess` when asked) each one whose effective spec differs from the one running.
 * With `dryRun`, only reports what it would do.
 * @throws PachError of the port (PERMISSION_DENIED without repoWriter on the output repo, …)
 */
export async function applyPipelines(
  pach: Pachyderm,
  specs: Record<string, unknown>[],
  opts: { reprocess?: boolean; dryRun?: boolean } = {},
): Promise<AppliedPipeline[]> {
  const out: AppliedPipeline[] = [];
  for (const raw of specs) {
    const wanted = parsePipelineSpec(raw);
    const name = wanted.pipeline.name;
    const current = await pach.inspectPipeline(wanted.pipeline).catch((e: unknown) => {
      if (isPachError(e, PachCode.NOT_FOUND)) return null;
      throw e;
    });
    if (current && sameSpec(current.effectiveSpecJson, raw) && !opts.reprocess) {
      out.push({ name, action: 'unchanged', version: current.version });
      continue;
    }
    const action = current ? 'updated' : 'created';
    if (!opts.dryRun) {
      await pach.createPipeline(raw, { update: !!current, reprocess: !!opts.reprocess });
    }
    const after = opts.dryRun ? current : await pach.inspectPipeline(wanted.pipeline);
    out.push({ name, action, version: after?.version ?? 0 });
  }
  return out;
}

/** True when the running effective spec equals `wanted` once both are normalised. */
function sameSpec(effectiveJson: string, wanted: Record<string, unknown>): boolean {
  try {
    const a = parsePipelineSpec(effectiveJson);
    const b = parsePipelineSpec(wanted);
    return canonical(a) === canonical(b);
  } catch {
    return false;
  }
}

function canonical(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) =>
    x && typeof x === 'object' && !Array.isArray(x)
      ? Object.fromEntries(Object.entries(x as object).sort(([p], [q]) => (p < q ? -1 : 1)))
      : x,
  );
}
