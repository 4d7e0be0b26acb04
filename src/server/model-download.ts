/**
 * `GET /models/<version>/model.rgm`: any model version's file (engine/model-file.ts format, which
 * `loadModel` / `readModelFile` read back into a fitted algorithm), as `application/octet-stream`
 * with `Content-Disposition: attachment; filename="model-<version>.rgm"` and its SHA-256 in
 * `X-Model-Sha256`. When API tokens are configured, a valid `Authorization: Bearer <token>` is
 * required (401 otherwise), as for the REST routes. `<version>` must be a `train` commit id (32
 * lowercase hex; anything else is 400 and never reaches a path); an unknown version is 404.
 */
import * as crypto from 'node:crypto';
import { type NextFunction, type Request, type Response, Router } from 'express';
import type { Services } from '../services';
import type { Authenticator } from './auth';

/** The form of a model version in the URL. */
const VERSION = /^[0-9a-f]{32}$/;

/** The router of `/models/<version>/model.rgm`. */
export function modelDownloadRouter(
  services: Pick<Services, 'models'>,
  authenticator: Authenticator,
): Router {
  const router = Router();
  router.get(
    '/models/:version/model.rgm',
    async (req: Request, res: Response, next: NextFunction) => {
      try {
        if (authenticator.enabled) {
          const state = authenticator.fromHeader(req.headers.authorization);
          if (!state.authenticated) {
            res
              .status(401)
              .setHeader('WWW-Authenticate', 'Bearer realm="reelgraph"')
              .json({
                error: state.presented
                  ? 'the API token is not valid'
                  : 'this endpoint needs an API token: send "Authorization: Bearer <token>"',
              });
            return;
          }
        }
        const version = String(req.params.version);
        if (!VERSION.test(version)) {
          res.status(400).json({
            error: `the model version must be a train commit id (32 hexadecimal digits), got ${JSON.stringify(version.slice(0, 80))}`,
          });
          return;
        }
        const buf = await services.models.modelFile(version);
        res
          .status(200)
          .setHeader('Content-Type', 'application/octet-stream')
          .setHeader('Content-Disposition', `attachment; filename="model-${version}.rgm"`)
          .setHeader('X-Model-Sha256', crypto.createHash('sha256').update(buf).digest('hex'))
          .end(buf);
      } catch (err) {
        next(err);
      }
    },
  );
  return router;
}
