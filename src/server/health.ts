/**
 * Health endpoints (Kubernetes-style probes):
 * - `GET /healthz` → 200 `{"status": "ok"}` while the process serves HTTP (liveness);
 * - `GET /readyz` → 200 `{"status": "ready", "model": "<version>"}` when a model is being served
 *   and the server is not shutting down; else 503 `{"status": "starting" | "draining", …}`
 *   (readiness: take the replica out of the load balancer).
 */
import { Router } from 'express';
import type { Services } from '../services';

/** What the readiness probe reads. */
export interface HealthState {
  /** True once shutdown began. */
  draining(): boolean;
}

/** The router of `/healthz` and `/readyz`. */
export function healthRouter(services: Pick<Services, 'models'>, state: HealthState): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.setHeader('Cache-Control', 'no-store').json({ status: 'ok' });
  });
  router.get('/readyz', (_req, res) => {
    res.setHeader('Cache-Control', 'no-store');
    if (state.draining()) {
      res.status(503).json({ status: 'draining' });
      return;
    }
    const model = services.models.currentVersion();
    if (model === null) {
      res.status(503).json({ status: 'starting', reason: 'no model is served yet' });
      return;
    }
    res.json({ status: 'ready', model });
  });
  return router;
}
