// Until the issuer's keys are loaded, protected routes cannot judge any token: 503 with
// Retry-After (a client may retry), never a 500 and never a 401 that would sign the user out.
import type { JwtVerifier } from '@calling-api/jwt-bearer';
import type { RequestHandler } from 'express';

export function requireKeys(verifier: JwtVerifier): RequestHandler {
  return (_req, res, next) => {
    // Answers to bearer requests are for one caller only: never stored by a shared cache.
    res.set('Cache-Control', 'no-store');
    if (verifier.ready) {
      next();
      return;
    }
    res.status(503).set('Retry-After', '2').json({
      error: 'temporarily_unavailable',
      error_description: "The API is starting: the issuer's signing keys are not loaded yet. Retry shortly.",
    });
  };
}
