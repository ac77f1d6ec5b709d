// The authorization server itself, started by main.ts once the thread pool is sized.
import pino from 'pino';
import { ConfigError, describeStorage, loadConfig } from './config/config.ts';
import { KeyStoreError } from './keys/key-store.ts';
import { startServer } from './server.ts';
import { KeyFileError } from './store/sqlite/key-file.ts';
import { StoreUnavailableError } from './store/storage.ts';
import { TenantError } from './tenant/tenant-schema.ts';

const logger = pino({ level: process.env.LOG_LEVEL ?? 'info' });
const LISTEN_ERRORS = new Set(['EADDRINUSE', 'EACCES', 'EADDRNOTAVAIL']);

try {
  const config = loadConfig();
  const server = await startServer(config, logger);
  logger.info(
    {
      issuer: config.issuer,
      listening: server.url,
      addresses: server.addresses,
      storage: describeStorage(config.storage),
    },
    `authorization server ready: issuer ${config.issuer}`,
  );
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    server.close().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
} catch (err) {
  if (
    err instanceof ConfigError ||
    err instanceof TenantError ||
    err instanceof KeyStoreError ||
    err instanceof KeyFileError ||
    err instanceof StoreUnavailableError
  ) {
    console.error(`auth-server: ${err.message}`);
  } else if (LISTEN_ERRORS.has((err as NodeJS.ErrnoException).code ?? '')) {
    // A port taken or an address this machine does not have: the user's to fix, said in one line.
    console.error(`auth-server: cannot listen: ${(err as Error).message}`);
  } else {
    logger.fatal({ err }, 'auth-server failed to start');
  }
  process.exit(1);
}
