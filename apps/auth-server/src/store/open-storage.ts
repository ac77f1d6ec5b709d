// The storage a configuration names: SQLite in DATA_DIR by default, PostgreSQL with DATABASE_URL.
import type { Logger } from 'pino';
import type { StorageConfig } from '../config/config.ts';
import { PostgresStorage } from './postgres/postgres-storage.ts';
import { SqliteStorage } from './sqlite/sqlite-storage.ts';
import type { Storage } from './storage.ts';

export async function openStorage(config: StorageConfig, logger?: Logger): Promise<Storage> {
  if (config.kind === 'postgres') return PostgresStorage.open(config, logger);
  return new SqliteStorage(config.dataDir);
}
