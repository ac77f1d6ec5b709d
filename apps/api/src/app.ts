// The Messages API as an Express 5 app, built from typed dependencies (no globals), so tests
// and main.ts assemble the same thing.
import type { JwtVerifier } from '@calling-api/jwt-bearer';
import { auth } from '@calling-api/jwt-bearer/express';
import cors from 'cors';
import express, { type Express } from 'express';
import helmet from 'helmet';
import type { ApiConfig } from './config.ts';
import { errorHandler, notFound } from './http/json-errors.ts';
import { requireKeys } from './http/readiness.ts';
import { type Logger, requestLog } from './logger.ts';
import type { MessageStore } from './messages/message-store.ts';
import { healthRoutes } from './routes/health.routes.ts';
import { messageRoutes } from './routes/messages.routes.ts';
import { pingRoutes } from './routes/ping.routes.ts';

export type AppDependencies = {
  config: Pick<ApiConfig, 'corsOrigins' | 'exposeMetrics' | 'logRequests'>;
  verifier: JwtVerifier;
  store: MessageStore;
  logger: Logger;
};

export function createApp({ config, verifier, store, logger }: AppDependencies): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  app.set('etag', false); // answers are per caller and never revalidated: no hash of every body
  if (config.logRequests) app.use(requestLog(logger));
  app.use(
    helmet({
      // An API serves no documents: nothing may load, frame or be framed (OWASP REST cheat sheet).
      contentSecurityPolicy: {
        useDefaults: false,
        directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] },
      },
    }),
  );
  app.use(
    cors({
      origin: [...config.corsOrigins],
      methods: ['GET', 'POST', 'DELETE'],
      allowedHeaders: ['Authorization', 'Content-Type'],
      // The SPA reads WWW-Authenticate to tell "sign in again" from "missing scope"; Link pages.
      exposedHeaders: ['WWW-Authenticate', 'Retry-After', 'Link'],
      maxAge: 600,
    }),
  );

  const protect = [requireKeys(verifier), auth({ verifier })];
  app.use(healthRoutes(verifier, config.exposeMetrics));
  app.use(pingRoutes(protect));
  app.use(messageRoutes(protect, store));
  app.use(notFound);
  app.use(errorHandler(logger));
  return app;
}
