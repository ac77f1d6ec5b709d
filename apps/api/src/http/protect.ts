// What every protected route runs first, in one middleware: answers to bearer requests are for
// one caller only (never stored by a shared cache); until the issuer's keys are loaded no token
// can be judged, so 503 with Retry-After (a client may retry; never a 500, and never a 401 that
// would sign the user out); then the bearer token itself.
import type { JwtVerifier } from '@calling-api/jwt-bearer';
import { auth } from '@calling-api/jwt-bearer/express';
import type { RequestHandler } from 'express';
import type { ApiConfig } from '../config.ts';

const STARTING = JSON.stringify({
  error: 'temporarily_unavailable',
  error_description: "The API is starting: the issuer's signing keys are not loaded yet. Retry shortly.",
});

export function protect(
  verifier: JwtVerifier,
  dpop: ApiConfig['dpop'] = { mode: 'off', publicOrigin: undefined },
): RequestHandler {
  const checkJwt = auth({
    verifier,
    dpop: { mode: dpop.mode, ...(dpop.publicOrigin ? { publicOrigin: dpop.publicOrigin } : {}) },
  });
  return (req, res, next) => {
    res.setHeader('Cache-Control', 'no-store');
    if (verifier.ready) {
      checkJwt(req, res, next);
      return;
    }
    res.status(503).set('Retry-After', '2').type('json').send(STARTING);
  };
}
