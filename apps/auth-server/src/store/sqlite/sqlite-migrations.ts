// The SQLite schema, versioned with PRAGMA user_version: a DATA_DIR made by any earlier version is migrated forward.
import type { DatabaseSync } from 'node:sqlite';
import { type ApplicationSettings, applicationSettingsSchema } from '../../tenant/tenant-schema.ts';

type Migration = { name: string; up(db: DatabaseSync): void };

// Written as CREATE … IF NOT EXISTS: databases from before user_version was kept already have these tables.
const BASELINE = `
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
  password_hash TEXT NOT NULL, created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS user_roles (
  user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  role TEXT NOT NULL REFERENCES roles(name) ON DELETE CASCADE,
  PRIMARY KEY (user_id, role)
);
CREATE TABLE IF NOT EXISTS login_failures (
  key TEXT PRIMARY KEY, failures INTEGER NOT NULL, window_start INTEGER NOT NULL, locked_until INTEGER NOT NULL
);
`;

const MIGRATIONS: Migration[] = [
  {
    name: 'baseline',
    up(db) {
      db.exec(BASELINE);
      // Columns added before migrations were numbered.
      addMissingColumn(db, 'apis', 'token_dialect', "TEXT NOT NULL DEFAULT 'rfc9068'");
      addMissingColumn(db, 'apis', 'dpop', "TEXT NOT NULL DEFAULT 'allowed'");
    },
  },
  {
    // The store keeps an application's settings as the tenant file states them; oidc-provider's client
    // metadata is derived from them when read, so a changed default applies to every application.
    name: 'clients: settings instead of oidc-provider metadata',
    up(db) {
      db.exec(`ALTER TABLE clients ADD COLUMN settings TEXT NOT NULL DEFAULT '{}'`);
      const rows = db.prepare('SELECT client_id, metadata FROM clients').all() as {
        client_id: string;
        metadata: string;
      }[];
      const update = db.prepare('UPDATE clients SET settings = ? WHERE client_id = ?');
      for (const row of rows) {
        const settings = settingsFromMetadata(JSON.parse(row.metadata) as Record<string, unknown>);
        update.run(JSON.stringify(settings), row.client_id);
      }
      db.exec('ALTER TABLE clients DROP COLUMN metadata');
    },
  },
  {
    // Replaced by throttle_counters; its rows were at most 15 minutes of lock state.
    name: 'throttles: buckets, counters and leases',
    up(db) {
      db.exec(`${THROTTLE_TABLES} DROP TABLE IF EXISTS login_failures;`);
    },
  },
  {
    // The Management API blocks users and reports when they last changed.
    name: 'users: blocked, updated_at',
    up(db) {
      db.exec('ALTER TABLE users ADD COLUMN blocked INTEGER NOT NULL DEFAULT 0');
      db.exec('ALTER TABLE users ADD COLUMN updated_at INTEGER');
    },
  },
];

// The throttles' state (security/throttle-store.ts); every row carries the time after which it limits nothing.
// IF NOT EXISTS: databases from before user_version was kept may have them already.
export const THROTTLE_TABLES = `
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
`;

export const SQLITE_SCHEMA_VERSION = MIGRATIONS.length;

/** Applies the missing migrations in one write transaction: a second process starting at once waits, then sees them. */
export function migrate(db: DatabaseSync): void {
  db.exec('BEGIN IMMEDIATE');
  try {
    const { user_version: current } = db.prepare('PRAGMA user_version').get() as { user_version: number };
    if (current > MIGRATIONS.length) {
      throw new Error(
        `the database is at schema version ${current}, newer than this server's ${MIGRATIONS.length}: run a newer version`,
      );
    }
    for (const migration of MIGRATIONS.slice(current)) migration.up(db);
    db.exec(`PRAGMA user_version = ${MIGRATIONS.length}`);
    db.exec('COMMIT');
  } catch (err) {
    db.exec('ROLLBACK');
    throw err;
  }
}

function addMissingColumn(db: DatabaseSync, table: string, column: string, definition: string): void {
  const columns = db.prepare(`PRAGMA table_info(${table})`).all() as { name: string }[];
  if (!columns.some((c) => c.name === column))
    db.exec(`ALTER TABLE ${table} ADD COLUMN ${column} ${definition}`);
}

/** The settings an application was created with, read back from the client metadata earlier versions stored. */
function settingsFromMetadata(m: Record<string, unknown>): ApplicationSettings {
  const grantTypes = (m.grant_types as string[] | undefined) ?? [];
  const refreshToken = grantTypes.includes('refresh_token')
    ? {
        rotation: m.refresh_token_rotation,
        reuseIntervalSeconds: m.refresh_token_reuse_interval,
        absoluteLifetime: m.refresh_token_absolute_lifetime,
        idleLifetime: m.refresh_token_idle_lifetime,
      }
    : undefined;
  const base = { type: m.app_type, clientId: m.client_id, name: m.client_name, firstParty: m.first_party };
  const interactive = {
    callbackUrls: m.redirect_uris,
    logoutUrls: m.post_logout_redirect_uris,
    refreshToken,
  };
  const settings =
    m.app_type === 'spa'
      ? { ...base, ...interactive, webOrigins: m.web_origins }
      : m.app_type === 'regular_web'
        ? { ...base, ...interactive, tokenEndpointAuthMethod: m.token_endpoint_auth_method }
        : { ...base, tokenEndpointAuthMethod: m.token_endpoint_auth_method };
  return applicationSettingsSchema.parse(settings);
}
