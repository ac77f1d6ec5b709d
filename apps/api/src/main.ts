// `npm run start:api`: configuration, store, verifier, HTTP server; then the issuer's keys with
// retry and backoff (the server answers 503 meanwhile), and a graceful stop on SIGTERM/SIGINT.
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { createVerifier } from '@calling-api/jwt-bearer';
import { createApp } from './app.ts';
import { type ApiConfig, ConfigError, loadConfig } from './config.ts';
import { createLogger } from './logger.ts';
import { openMessageStore } from './messages/message-store.ts';

let config: ApiConfig;
try {
  config = loadConfig(process.env);
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(error.message);
  process.exit(1);
}

const logger = createLogger(config.logLevel);
const store = openMessageStore(config.dataDir);
const verifier = createVerifier(config.verifier);
const app = createApp({ config, verifier, store, logger });
const stopping = new AbortController();

const onListening = (error?: Error): void => {
  if (error) {
    logger.fatal({ err: error }, 'cannot listen');
    process.exit(1);
  }
  const { port } = server.address() as AddressInfo;
  logger.info({ url: `http://localhost:${port}`, port, issuer: config.verifier.issuerBaseURL }, 'listening');
};
const server =
  config.host === undefined
    ? app.listen(config.port, onListening)
    : app.listen(config.port, config.host, onListening);
server.headersTimeout = 15_000;
server.requestTimeout = 30_000;

async function loadKeys(): Promise<void> {
  let delay = 250;
  for (let attempt = 1; !stopping.signal.aborted; attempt++) {
    if (await verifier.refresh()) {
      logger.info(
        { issuer: verifier.issuer, jwksUri: verifier.keySet.jwksUri, attempt },
        "issuer's signing keys loaded; protected routes are open",
      );
      return;
    }
    logger.warn(
      { attempt, error: verifier.metrics.lastError, retryInMs: delay },
      "issuer's keys not loaded yet",
    );
    await sleep(delay * (0.8 + Math.random() * 0.4), undefined, { signal: stopping.signal }).catch(() => {});
    delay = Math.min(delay * 2, 10_000);
  }
}
void loadKeys();

function shutdown(signal: string): void {
  if (stopping.signal.aborted) return;
  stopping.abort();
  logger.info({ signal }, 'shutting down');
  const force = setTimeout(() => server.closeAllConnections(), 10_000).unref();
  server.close(() => {
    clearTimeout(force);
    store.close();
    logger.info('stopped');
    logger.flush?.();
    process.exit(0);
  });
  server.closeIdleConnections();
}
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));
