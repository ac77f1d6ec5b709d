// Where messages are kept: SQLite in DATA_DIR by default, PostgreSQL with DATABASE_URL (any number of API
// instances then share them).
import type { Logger } from 'pino';
import type { MessageStore } from './message-store.ts';
import { openPostgresMessageStore } from './postgres-message-store.ts';
import { openSqliteMessageStore } from './sqlite-message-store.ts';

export type StorageConfig =
  | { kind: 'sqlite'; dataDir: string }
  | { kind: 'postgres'; url: string; poolSize: number };

export function openMessageStore(storage: StorageConfig, logger?: Logger): Promise<MessageStore> {
  if (storage.kind === 'postgres') return openPostgresMessageStore(storage, logger);
  return Promise.resolve(openSqliteMessageStore(storage.dataDir));
}
