import type { JwtVerifier } from '@calling-api/jwt-bearer';
import { Router } from 'express';

/** 200 once the issuer's keys are loaded, 503 `{ status: "starting" }` before. */
export function healthRoutes(verifier: JwtVerifier): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.set('Cache-Control', 'no-store');
    if (verifier.ready) res.json({ status: 'ok' });
    else res.status(503).set('Retry-After', '2').json({ status: 'starting' });
  });
  return router;
}
