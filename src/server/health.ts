/**
 * Health endpoints (Kubernetes-style probes):
 * - `GET /healthz` → 200 `{"status": "ok"}` while the process serves HTTP (liveness);
 * - `GET /readyz` → 200 `{"status": "ready", "model": "<version>"}` when a model is being served
 *   and the server is not shutting down; else 503 `{"status": "starting" | "draining", …}`
 *   (readiness: take the replica out of the load balancer);
 * - with the embedded engine, `/readyz` also reports the data directory's storage
 *   (`"storage": {"dataDir", "freeBytes", "minFreeBytes", "full"}`); when it is full or below
 *   its free-space floor the answer stays 200 — reads are still served — with `"status":
 *   "degraded"` and `storage.reason` (writes answer 507 meanwhile).
 */
import { Router } from 'express';
import type { StorageStatus } from '../pachyderm/embedded/storage';
import type { Services } from '../services';

/** What the readiness probe reads. */
export interface HealthState {
  /** True once shutdown began. */
  draining(): boolean;
  /** The data directory's storage (embedded engine only). */
  storage?: () => StorageStatus | undefined;
}

/** The router of `/healthz` and `/readyz`. */
export function healthRouter(services: Pick<Services, 'models'>, state: HealthState): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.setHeader('Cache-Control', 'no-store').json({ status: 'ok' });
  });
  router.get('/readyz', (_req, res) => {
    res.setHeader('Cache-Control', 'no-store');
    const storage = state.storage?.();
    const facts = storage
      ? {
          storage: {
            dataDir: storage.dataDir,
            freeBytes: storage.freeBytes,
            minFreeBytes: storage.minFreeBytes,
            full: storage.full,
            ...(storage.reason ? { reason: storage.reason } : {}),
          },
        }
      : {};
    if (state.draining()) {
      res.status(503).json({ status: 'draining', ...facts });
      return;
    }
    const model = services.models.currentVersion();
    if (model === null) {
      res.status(503).json({ status: 'starting', reason: 'no model is served yet', ...facts });
      return;
    }
    res.json({ status: storage?.full ? 'degraded' : 'ready', model, ...facts });
  });
  return router;
}
