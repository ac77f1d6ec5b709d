// The HTTP surface: security headers, hosted pages and Auth0-shaped extras in Express, then oidc-provider.
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { fileURLToPath } from 'node:url';
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import helmet from 'helmet';
import type { createLocalJWKSet } from 'jose';
import type Provider from 'oidc-provider';
import type { Logger } from 'pino';
import { userinfoAudience } from '../oidc/resources.ts';
import { markAuth0Logout } from '../oidc/sign-out.ts';
import type { InteractionThrottle } from '../security/interaction-throttle.ts';
import { isStoreUnavailable } from '../store/storage.ts';
import { auth0Logout } from './auth0-logout.ts';
import { authorizeLimits } from './authorize-limits.ts';
import { type InteractionDeps, interactionRoutes } from './interactions/index.ts';
import { userinfoRoute } from './userinfo.ts';
import { messagePage } from './views.ts';

export type AppDeps = InteractionDeps & {
  issuer: string;
  /** The Management API (management/router.ts), served at /api/v2. */
  management: Router;
  interactionThrottle: InteractionThrottle;
  publicJwks: () => ReturnType<typeof createLocalJWKSet>;
  production: boolean;
  trustProxy: boolean;
  logger: Logger;
};

const PUBLIC_DIR = fileURLToPath(new URL('../../public/', import.meta.url));

export function createApp(deps: AppDeps): RequestListener {
  const app = express();
  app.disable('x-powered-by');
  // X-Forwarded-* is trusted only from one configured proxy hop; otherwise the socket address is the client
  // (throttling keys on it, so a spoofable header must not feed it).
  app.set('trust proxy', deps.trustProxy ? 1 : false);

  // The synchronous header hooks below read the tenant as last loaded: bring it up to date first. When the
  // database is unreachable the last view serves the headers; routes that need the data answer 503 themselves.
  app.use(async (_req, _res, next) => {
    await deps.tenant.fresh().catch(() => undefined);
    next();
  });

  app.use(
    helmet({
      contentSecurityPolicy: {
        useDefaults: false,
        directives: {
          'default-src': ["'none'"],
          'style-src': ["'self'"],
          'script-src': ["'self'"],
          'img-src': ["'self'"],
          // Forms post to this server, whose redirects then go to registered callbacks and logout URLs only
          // (browsers apply form-action to the redirects that follow a form submission).
          'form-action': ["'self'", () => deps.tenant.current().redirectOrigins.join(' ')],
          'frame-ancestors': ["'none'"],
          'base-uri': ["'none'"],
        },
      },
      crossOriginResourcePolicy: { policy: 'cross-origin' },
      hsts: deps.production,
    }),
  );

  app.use('/assets', express.static(PUBLIC_DIR, { index: false, maxAge: '1h', fallthrough: false }));

  // Sign-in in a popup (Auth0's loginWithPopup) needs window.opener on every page of the flow, which a
  // Cross-Origin-Opener-Policy of same-origin would cut; every other page keeps it.
  app.use(['/authorize', '/interaction'], (_req, res, next) => {
    res.removeHeader('Cross-Origin-Opener-Policy');
    next();
  });

  const toProvider = providerHandler(deps.provider);

  app.get('/v2/logout', async (req, res) => {
    const decision = auth0Logout(req.query, await deps.tenant.fresh());
    if (!decision.ok) {
      res.status(400).type('html').send(messagePage('Sign-out refused', decision.message));
      return;
    }
    // Served by oidc-provider's end-session endpoint, marked so that it signs out without asking.
    req.url = decision.endSessionPath;
    markAuth0Logout(req);
    toProvider(req, res);
  });

  // Exactly /authorize: /authorize/:uid resumes an interaction already stored.
  app
    .route('/authorize')
    .get(authorizeLimits(deps.interactionThrottle, deps.logger))
    .post(authorizeLimits(deps.interactionThrottle, deps.logger));

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });

  app.use('/api/v2', deps.management);

  app.use(
    userinfoRoute({
      issuer: deps.issuer,
      userinfoAudience: userinfoAudience(deps.issuer),
      tenant: deps.tenant,
      users: deps.users,
      jwks: deps.publicJwks,
    }),
  );
  app.use(interactionRoutes(deps));

  // Last: oidc-provider owns every remaining route and ends the response itself.
  app.use((req, res) => toProvider(req, res));

  // Errors passed to Express (body-parser's 413 / 415 / 400 on the hosted forms, a failed static file):
  // a short page with the status, never Express's default page, which shows the stack trace outside production.
  app.use((err: unknown, req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) {
      next(err);
      return;
    }
    // The database is unreachable: come back soon, in the form the caller reads (/userinfo: JSON).
    if (isStoreUnavailable(err)) {
      deps.logger.warn({ err: (err as Error).message }, 'database unavailable');
      res.status(503).set('Retry-After', '1');
      if (req.accepts(['html', 'json']) === 'json') {
        res.json({ error: 'temporarily_unavailable', error_description: 'try again in a moment' });
        return;
      }
      res
        .type('html')
        .send(
          messagePage(
            'Temporarily unavailable',
            'The service cannot answer right now. Try again in a moment.',
          ),
        );
      return;
    }
    const status = (err as { status?: unknown }).status;
    const code = typeof status === 'number' && status >= 400 && status < 500 ? status : 500;
    if (code === 500) deps.logger.error({ err }, 'request failed');
    res
      .status(code)
      .type('html')
      .send(
        messagePage(
          code === 500 ? 'Something went wrong' : 'Request refused',
          code === 500 ? 'Try again later.' : 'The request could not be read. Go back and try again.',
        ),
      );
  });

  // The token endpoint is the hot path and answers JSON only: it skips Express and helmet, with fixed headers.
  return (req, res) => {
    if (req.method === 'POST' && req.url === '/oauth/token') {
      for (const [name, value] of TOKEN_ENDPOINT_HEADERS) res.setHeader(name, value);
      toProvider(req, res);
      return;
    }
    app(req, res);
  };
}

const TOKEN_ENDPOINT_HEADERS: [string, string][] = [
  ['Content-Security-Policy', "default-src 'none'; frame-ancestors 'none'"],
  ['X-Content-Type-Options', 'nosniff'],
  ['Referrer-Policy', 'no-referrer'],
];

function providerHandler(current: () => Provider) {
  const handlers = new WeakMap<Provider, ReturnType<Provider['callback']>>();
  return (req: IncomingMessage, res: ServerResponse) => {
    const provider = current();
    let handler = handlers.get(provider);
    if (!handler) {
      handler = provider.callback();
      handlers.set(provider, handler);
    }
    handler(req, res);
  };
}
