// `npm run start:api`: configuration, verifier, store, HTTP servers on loopback (or HOST); then
// the issuer's keys with retry and backoff (the server answers 503 meanwhile), and a graceful
// stop on SIGTERM/SIGINT that flushes the log before exiting.
import { createServer } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { BearerConfigError, createVerifier, type JwtVerifier } from '@calling-api/jwt-bearer';
import { type Listening, listen } from '@calling-api/listen';
import { describeDatabase } from '@calling-api/postgres';
import { createApp } from './app.ts';
import { type ApiConfig, ConfigError, loadConfig } from './config.ts';
import { createLog, type Log, withRequestLog } from './logger.ts';
import { type MessageStore, MessageStoreUnavailable } from './messages/message-store.ts';
import { openMessageStore } from './messages/open-message-store.ts';

/** Configuration and verifier, or one line on stderr and exit 1: a bad setting is not a crash. */
function configure(): { config: ApiConfig; verifier: JwtVerifier } {
  try {
    const config = loadConfig(process.env);
    return { config, verifier: createVerifier(config.verifier) };
  } catch (error) {
    if (!(error instanceof ConfigError || error instanceof BearerConfigError)) throw error;
    const message =
      error instanceof ConfigError ? error.message : `Invalid API configuration: ${error.message}`;
    console.error(message);
    process.exit(1);
  }
}

async function startListening(
  config: ApiConfig,
  log: Log,
  app: ReturnType<typeof createApp>,
): Promise<Listening> {
  try {
    const handler = config.logRequests ? withRequestLog(app, log) : app;
    const listening = await listen(() => {
      const server = createServer(handler);
      server.headersTimeout = 15_000;
      server.requestTimeout = 30_000;
      return server;
    }, config);
    log.logger.info(
      { url: listening.url, addresses: listening.addresses, issuer: config.verifier.issuerBaseURL },
      'listening',
    );
    return listening;
  } catch (error) {
    // A port taken or an address this machine does not have: the user's to fix, said in one line.
    console.error(`api: cannot listen on port ${config.port}: ${(error as Error).message}`);
    await log.flush();
    process.exit(1);
  }
}

/** The message store, its migrations applied; one line on stderr and exit 1 when the database is unreachable. */
async function openStore(config: ApiConfig, log: Log): Promise<MessageStore> {
  const where =
    config.storage.kind === 'postgres' ? describeDatabase(config.storage.url) : `SQLite in ${config.dataDir}`;
  try {
    const store = await openMessageStore(config.storage, log.logger);
    log.logger.info({ storage: where }, 'messages store open');
    return store;
  } catch (error) {
    if (!(error instanceof MessageStoreUnavailable)) throw error;
    console.error(`messages: cannot reach ${where}; is it running?`);
    await log.flush();
    process.exit(1);
  }
}

async function loadKeys(verifier: JwtVerifier, log: Log, stopping: AbortSignal): Promise<void> {
  let delay = 250;
  for (let attempt = 1; !stopping.aborted; attempt++) {
    if (await verifier.refresh()) {
      log.logger.info(
        { issuer: verifier.issuer, jwksUri: verifier.keySet.jwksUri, attempt },
        "issuer's signing keys loaded; protected routes are open",
      );
      return;
    }
    log.logger.warn(
      { attempt, error: verifier.metrics.lastError, retryInMs: delay },
      "issuer's keys not loaded yet",
    );
    await sleep(delay * (0.8 + Math.random() * 0.4), undefined, { signal: stopping }).catch(() => {});
    delay = Math.min(delay * 2, 10_000);
  }
}

const { config, verifier } = configure();
const log = createLog(config.logLevel);
const store = await openStore(config, log);
const app = createApp({ config, verifier, store, logger: log.logger });
const listening = await startListening(config, log, app);
const stopping = new AbortController();
void loadKeys(verifier, log, stopping.signal);

async function shutdown(signal: string): Promise<void> {
  if (stopping.signal.aborted) return;
  stopping.abort();
  log.logger.info({ signal }, 'shutting down');
  const force = setTimeout(() => listening.closeAllConnections(), 10_000).unref();
  const closed = listening.close();
  listening.closeIdleConnections();
  await closed;
  clearTimeout(force);
  await store.close().catch(() => undefined);
  log.logger.info({ droppedLogLines: log.dropped || undefined }, 'stopped');
  await log.flush();
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
