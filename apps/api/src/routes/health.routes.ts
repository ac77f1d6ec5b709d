import type { JwtVerifier } from '@calling-api/jwt-bearer';
import { Router } from 'express';

/** 200 once the issuer's keys are loaded, 503 `{ status: "starting" }` before. */
export function healthRoutes(verifier: JwtVerifier, exposeMetrics: boolean): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.set('Cache-Control', 'no-store');
    if (verifier.ready) res.json({ status: 'ok' });
    else res.status(503).set('Retry-After', '2').json({ status: 'starting' });
  });
  if (exposeMetrics) {
    // Counters for operators and the benchmark; never on by default (they describe traffic).
    router.get('/metrics', (_req, res) => {
      const gc = (globalThis as { gc?: () => void }).gc;
      gc?.(); // with --expose-gc, heap figures compare across calls
      const { heapUsed, rss } = process.memoryUsage();
      res.set('Cache-Control', 'no-store').json({ verifier: verifier.metrics, memory: { heapUsed, rss } });
    });
  }
  return router;
}
