// One SQLite file in DATA_DIR holds the run-time tenant (APIs, apps, users, roles) and oidc-provider's state.
import { chmodSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS oidc_model (
  model TEXT NOT NULL, id TEXT NOT NULL, payload TEXT NOT NULL,
  grant_id TEXT, user_code TEXT, uid TEXT,
  expires_at INTEGER, consumed_at INTEGER,
  PRIMARY KEY (model, id)
);
CREATE INDEX IF NOT EXISTS oidc_model_grant ON oidc_model (grant_id) WHERE grant_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS oidc_model_uid ON oidc_model (uid) WHERE uid IS NOT NULL;
CREATE INDEX IF NOT EXISTS oidc_model_user_code ON oidc_model (user_code) WHERE user_code IS NOT NULL;
CREATE INDEX IF NOT EXISTS oidc_model_expires ON oidc_model (expires_at);

CREATE TABLE IF NOT EXISTS apis (
  identifier TEXT PRIMARY KEY, name TEXT NOT NULL, signing_alg TEXT NOT NULL,
  token_lifetime INTEGER NOT NULL, rbac INTEGER NOT NULL, permissions_in_token INTEGER NOT NULL,
  allow_offline_access INTEGER NOT NULL, token_dialect TEXT NOT NULL DEFAULT 'rfc9068',
  dpop TEXT NOT NULL DEFAULT 'allowed'
);
CREATE TABLE IF NOT EXISTS api_scopes (
  api TEXT NOT NULL REFERENCES apis(identifier) ON DELETE CASCADE, value TEXT NOT NULL, description TEXT NOT NULL,
  PRIMARY KEY (api, value)
);
CREATE TABLE IF NOT EXISTS clients (
  client_id TEXT PRIMARY KEY, name TEXT NOT NULL, type TEXT NOT NULL, metadata TEXT NOT NULL,
  secret_env TEXT, secret TEXT
);
CREATE TABLE IF NOT EXISTS client_grants (
  client_id TEXT NOT NULL REFERENCES clients(client_id) ON DELETE CASCADE,
  api TEXT NOT NULL REFERENCES apis(identifier) ON DELETE CASCADE, scope TEXT NOT NULL,
  PRIMARY KEY (client_id, api, scope)
);
CREATE TABLE IF NOT EXISTS roles (name TEXT PRIMARY KEY, description TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS role_permissions (
  role TEXT NOT NULL REFERENCES roles(name) ON DELETE CASCADE,
  api TEXT NOT NULL REFERENCES apis(identifier) ON DELETE CASCADE, scope TEXT NOT NULL,
  PRIMARY KEY (role, api, scope)
);
CREATE TABLE IF NOT EXISTS users (
  id TEXT PRIMARY KEY, email TEXT NOT NULL UNIQUE COLLATE NOCASE, name TEXT NOT NULL,
  password_hash TEXT NOT NULL, created_at INTEGER NOT NULL, updated_at INTEGER,
  blocked INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS user_roles (
  user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  role TEXT NOT NULL REFERENCES roles(name) ON DELETE CASCADE,
  PRIMARY KEY (user_id, role)
);
-- The throttles' state (security/throttle-store.ts); every row carries the time after which it limits nothing.
CREATE TABLE IF NOT EXISTS throttle_buckets (
  key TEXT PRIMARY KEY, tokens REAL NOT NULL, updated_at INTEGER NOT NULL, full_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS throttle_buckets_full ON throttle_buckets (full_at);
CREATE TABLE IF NOT EXISTS throttle_counters (
  key TEXT PRIMARY KEY, failures INTEGER NOT NULL, window_start INTEGER NOT NULL, locked_until INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS throttle_counters_expires ON throttle_counters (expires_at);
CREATE TABLE IF NOT EXISTS throttle_leases (
  key TEXT NOT NULL, holder TEXT NOT NULL, expires_at INTEGER NOT NULL, PRIMARY KEY (key, holder)
);
CREATE INDEX IF NOT EXISTS throttle_leases_expires ON throttle_leases (expires_at);
-- Replaced by throttle_counters; its rows were at most 15 minutes of lock state.
DROP TABLE IF EXISTS login_failures;
`;

export function openDatabase(dataDir: string): DatabaseSync {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const file = join(dataDir, 'auth.sqlite');
  const db = new DatabaseSync(file);
  chmodSync(file, 0o600);
  db.exec(
    'PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;',
  );
  db.exec(SCHEMA);
  addMissingColumns(db);
  return db;
}

/** Columns added after the first release: a DATA_DIR made by an older version gets them on start. */
function addMissingColumns(db: DatabaseSync): void {
  const added: [table: string, column: string, definition: string][] = [
    ['apis', 'token_dialect', "TEXT NOT NULL DEFAULT 'rfc9068'"],
    ['apis', 'dpop', "TEXT NOT NULL DEFAULT 'allowed'"],
    ['users', 'updated_at', 'INTEGER'],
    ['users', 'blocked', 'INTEGER NOT NULL DEFAULT 0'],
  ];
  for (const [table, column, definition] of added) {
    const columns = db.prepare(`PRAGMA table_info(${table})`).all() as { name: string }[];
    if (!columns.some((c) => c.name === column))
      db.exec(`ALTER TABLE ${table} ADD COLUMN ${column} ${definition}`);
  }
}
