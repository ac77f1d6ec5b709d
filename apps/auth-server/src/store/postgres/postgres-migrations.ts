// The PostgreSQL schema, in numbered migrations applied at start-up. One transaction holds an advisory lock
// while it applies them, so instances starting at once apply each migration once, in order.
import { migrate as applyMigrations, type Migration } from '@calling-api/postgres';
import type pg from 'pg';

export const TENANT_CHANNEL = 'auth_tenant_changed';
export const KEYS_CHANNEL = 'auth_keys_changed';

// Each migration runs once, in the transaction; never edit one that has shipped, add the next.
const MIGRATIONS: Migration[] = [
  {
    name: 'tenant, users, oidc-provider models, keys, change notifications',
    sql: `
CREATE TABLE oidc_model (
  model text NOT NULL, id text NOT NULL, payload jsonb NOT NULL,
  grant_id text, user_code text, uid text,
  expires_at bigint, consumed_at bigint,
  PRIMARY KEY (model, id)
);
CREATE INDEX oidc_model_grant ON oidc_model (model, grant_id) WHERE grant_id IS NOT NULL;
CREATE INDEX oidc_model_uid ON oidc_model (model, uid) WHERE uid IS NOT NULL;
CREATE INDEX oidc_model_user_code ON oidc_model (model, user_code) WHERE user_code IS NOT NULL;
CREATE INDEX oidc_model_expires ON oidc_model (expires_at) WHERE expires_at IS NOT NULL;

CREATE TABLE apis (
  identifier text PRIMARY KEY, name text NOT NULL, signing_alg text NOT NULL,
  token_lifetime integer NOT NULL, rbac boolean NOT NULL, permissions_in_token boolean NOT NULL,
  allow_offline_access boolean NOT NULL, token_dialect text NOT NULL, dpop text NOT NULL
);
CREATE TABLE api_scopes (
  api text NOT NULL REFERENCES apis ON DELETE CASCADE, value text NOT NULL, description text NOT NULL,
  PRIMARY KEY (api, value)
);
CREATE TABLE clients (
  client_id text PRIMARY KEY, name text NOT NULL, type text NOT NULL, settings jsonb NOT NULL,
  secret_env text, secret text
);
CREATE TABLE client_grants (
  client_id text NOT NULL REFERENCES clients ON DELETE CASCADE,
  api text NOT NULL REFERENCES apis ON DELETE CASCADE, scope text NOT NULL,
  PRIMARY KEY (client_id, api, scope)
);
CREATE TABLE roles (name text PRIMARY KEY, description text NOT NULL);
CREATE TABLE role_permissions (
  role text NOT NULL REFERENCES roles ON DELETE CASCADE,
  api text NOT NULL REFERENCES apis ON DELETE CASCADE, scope text NOT NULL,
  PRIMARY KEY (role, api, scope)
);
CREATE TABLE users (
  id text PRIMARY KEY, email text NOT NULL, name text NOT NULL,
  password_hash text NOT NULL, created_at bigint NOT NULL
);
CREATE UNIQUE INDEX users_email ON users (lower(email));
CREATE TABLE user_roles (
  user_id text NOT NULL REFERENCES users ON DELETE CASCADE,
  role text NOT NULL REFERENCES roles ON DELETE CASCADE,
  PRIMARY KEY (user_id, role)
);

CREATE TABLE signing_keys (
  kid text PRIMARY KEY, jwk jsonb NOT NULL,
  state text NOT NULL CHECK (state IN ('next', 'current', 'previous')),
  created_at bigint NOT NULL, retired_at bigint
);
-- cookie_keys and csrf_secret
CREATE TABLE key_secrets (name text PRIMARY KEY, value jsonb NOT NULL);

-- Every instance LISTENs: a committed change reloads their in-memory tenant and keys (one notice per transaction).
CREATE FUNCTION notify_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify(TG_ARGV[0], '');
  RETURN NULL;
END $$;
${['apis', 'api_scopes', 'clients', 'client_grants', 'roles', 'role_permissions']
  .map(
    (t) =>
      `CREATE TRIGGER ${t}_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON ${t}
         FOR EACH STATEMENT EXECUTE FUNCTION notify_change('${TENANT_CHANNEL}');`,
  )
  .join('\n')}
${['signing_keys', 'key_secrets']
  .map(
    (t) =>
      `CREATE TRIGGER ${t}_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON ${t}
         FOR EACH STATEMENT EXECUTE FUNCTION notify_change('${KEYS_CHANNEL}');`,
  )
  .join('\n')}
`,
  },
  {
    name: 'throttles: buckets, counters and leases, shared by every instance',
    sql: `
-- Every row carries the time after which it limits nothing; the sweep deletes it then.
CREATE TABLE throttle_buckets (
  key text PRIMARY KEY, tokens double precision NOT NULL, updated_at bigint NOT NULL, full_at bigint NOT NULL
);
CREATE INDEX throttle_buckets_full ON throttle_buckets (full_at);
CREATE TABLE throttle_counters (
  key text PRIMARY KEY, failures integer NOT NULL, window_start bigint NOT NULL, locked_until bigint NOT NULL,
  expires_at bigint NOT NULL
);
CREATE INDEX throttle_counters_expires ON throttle_counters (expires_at);
CREATE TABLE throttle_leases (
  key text NOT NULL, holder text NOT NULL, expires_at bigint NOT NULL, PRIMARY KEY (key, holder)
);
CREATE INDEX throttle_leases_expires ON throttle_leases (expires_at);
`,
  },
  {
    name: 'users: blocked, updated_at (the Management API)',
    sql: `
ALTER TABLE users ADD COLUMN blocked boolean NOT NULL DEFAULT false, ADD COLUMN updated_at bigint;
`,
  },
];

export const POSTGRES_SCHEMA_VERSION = MIGRATIONS.length;

/** Applies the migrations this database has not seen, once, whatever the number of instances starting. */
export function migrate(client: pg.ClientBase): Promise<void> {
  return applyMigrations(client, {
    lock: 'auth-server migrations',
    table: 'schema_migrations',
    migrations: MIGRATIONS,
  });
}
