// The Messages API as an Express 5 app, built from typed dependencies (no globals), so tests
// and main.ts assemble the same thing.
import type { JwtVerifier } from '@calling-api/jwt-bearer';
import cors from 'cors';
import express, { type Express } from 'express';
import helmet from 'helmet';
import type { ApiConfig } from './config.ts';
import { errorHandler, notFound } from './http/json-errors.ts';
import { protect } from './http/protect.ts';
import { staticHeaders } from './http/static-headers.ts';
import type { Logger } from './logger.ts';
import type { MessageStore } from './messages/message-store.ts';
import { healthRoutes } from './routes/health.routes.ts';
import { messageRoutes } from './routes/messages.routes.ts';
import { pingRoutes } from './routes/ping.routes.ts';

export type AppDependencies = {
  config: Pick<ApiConfig, 'corsOrigins' | 'exposeMetrics'> & Partial<Pick<ApiConfig, 'dpop'>>;
  verifier: JwtVerifier;
  store: MessageStore;
  logger: Logger;
};

export function createApp({ config, verifier, store, logger }: AppDependencies): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  app.set('etag', false); // answers are per caller and never revalidated: no hash of every body
  app.use(
    staticHeaders(
      helmet({
        // An API serves no documents: nothing may load, frame or be framed.
        contentSecurityPolicy: {
          useDefaults: false,
          directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] },
        },
        xFrameOptions: { action: 'deny' },
        // Headers that only mean something to an HTML document or a plugin, never to JSON:
        // bytes on every answer for nothing.
        crossOriginOpenerPolicy: false,
        originAgentCluster: false,
        xDnsPrefetchControl: false,
        xDownloadOptions: false,
        xPermittedCrossDomainPolicies: false,
        xXssProtection: false,
      }),
    ),
  );
  app.use(
    cors({
      origin: [...config.corsOrigins],
      methods: ['GET', 'POST', 'DELETE'],
      allowedHeaders: ['Authorization', 'Content-Type', 'DPoP'],
      // The SPA reads WWW-Authenticate to tell "sign in again" from "missing scope" (and a DPoP nonce
      // request from DPoP-Nonce); Link pages.
      exposedHeaders: ['WWW-Authenticate', 'Retry-After', 'Link', 'DPoP-Nonce'],
      maxAge: 600,
    }),
  );

  const protectedRoute = [protect(verifier, config.dpop)];
  app.use(healthRoutes(verifier, config.exposeMetrics));
  app.use(pingRoutes(protectedRoute));
  app.use(messageRoutes(protectedRoute, store));
  app.use(notFound);
  app.use(errorHandler(logger));
  return app;
}
