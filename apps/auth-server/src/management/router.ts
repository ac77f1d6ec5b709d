// The Management API at /api/v2: bearer (or DPoP) tokens for `<issuer>api/v2/` only, never cookies, so no
// request can ride on a browser's session (no CSRF); CORS for the console's origins only; JSON in and out.
import { createVerifier, type JsonWebKeySet } from '@calling-api/jwt-bearer';
import { type AuthMiddleware, auth } from '@calling-api/jwt-bearer/express';
import cors from 'cors';
import express, { type RequestHandler, Router } from 'express';
import type { ManagementContext } from './context.ts';
import { ManagementError, managementErrors, tokenRefusalBody } from './errors.ts';
import { clientGrantRoutes } from './routes/client-grants.ts';
import { clientRoutes } from './routes/clients.ts';
import { resourceServerRoutes } from './routes/resource-servers.ts';
import { roleRoutes } from './routes/roles.ts';
import { userRoutes } from './routes/users.ts';

/**
 * The check of a Management API token against the server's own signing keys, held in memory (no JWKS
 * fetch); the server builds a new one whenever its keys change, so rotation keeps working.
 */
export function managementTokenCheck(issuer: string, audience: string, jwks: JsonWebKeySet): AuthMiddleware {
  return auth({
    verifier: createVerifier({ issuer, audience, jwks }),
    realm: 'management',
    // The console's tokens are bound to its page's key when it can (DPoP); machine clients send bearer tokens.
    dpop: { mode: 'allowed', publicOrigin: new URL(issuer).origin },
    errorBody: tokenRefusalBody,
  });
}

export type ManagementDeps = ManagementContext & {
  /** The token check of the current signing keys. */
  tokenCheck: () => RequestHandler;
  /** Origins the console is served from: the only ones allowed to call from a browser. */
  corsOrigins: () => ReadonlySet<string>;
};

export function managementRouter(deps: ManagementDeps): Router {
  const router = Router();
  router.use(
    cors({
      origin: (origin, done) => done(null, origin !== undefined && deps.corsOrigins().has(origin)),
      methods: ['GET', 'POST', 'PATCH', 'DELETE'],
      allowedHeaders: ['Authorization', 'Content-Type', 'DPoP'],
      exposedHeaders: ['WWW-Authenticate', 'DPoP-Nonce'],
      maxAge: 600,
    }),
  );
  router.use((_req, res, next) => {
    res.set('Cache-Control', 'no-store');
    next();
  });
  // The token first: an anonymous request costs no body parsing.
  router.use((req, res, next) => deps.tokenCheck()(req, res, next));
  router.use(express.json({ limit: '64kb', strict: true }));
  router.use((req, _res, next) => {
    // A body in another format would be read as no body at all: a PATCH would then change nothing, silently.
    const hasBody = Number(req.get('content-length') ?? 0) > 0 || req.get('transfer-encoding') !== undefined;
    if (hasBody && !req.is('application/json'))
      throw new ManagementError(
        400,
        'The request body must be JSON (Content-Type: application/json).',
        'invalid_body',
      );
    next();
  });
  router.use((req, res, next) => {
    // One line per change, who made it, never its body (it may carry a password or a secret).
    if (req.method !== 'GET')
      res.on('finish', () =>
        deps.logger.info(
          {
            method: req.method,
            path: req.path,
            status: res.statusCode,
            sub: req.auth?.payload.sub,
            client_id: req.auth?.payload.client_id,
          },
          'management change',
        ),
      );
    next();
  });

  resourceServerRoutes(router, deps);
  clientRoutes(router, deps);
  clientGrantRoutes(router, deps);
  userRoutes(router, deps);
  roleRoutes(router, deps);

  router.use((req) => {
    throw new ManagementError(404, `No ${req.method} ${req.baseUrl}${req.path} here.`, 'not_found');
  });
  router.use(managementErrors(deps.logger));
  return router;
}
