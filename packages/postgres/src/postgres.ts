// PostgreSQL for the authorization server's storage and the Messages API's messages: one way to connect
// (fail fast, never a hung request), to tell an outage from a bug, to migrate, and to check and name a
// DATABASE_URL without ever printing its password.
import pg from 'pg';

/** Fail fast when the server is down or every connection is busy: a 503 within seconds. */
export const CONNECT_TIMEOUT_MS = 2000;
export const STATEMENT_TIMEOUT_MS = 10_000;

// bigint columns hold ids and epoch milliseconds, well within a double's exact range: read them as numbers.
const types: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === pg.types.builtins.INT8
      ? Number
      : pg.types.getTypeParser(oid, format)) as pg.CustomTypesConfig['getTypeParser'],
};

/** Connection settings for a pool or a single client; `name` shows in pg_stat_activity. */
export function connectionOptions(url: string, name: string): pg.ClientConfig {
  return {
    connectionString: url,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    statement_timeout: STATEMENT_TIMEOUT_MS,
    query_timeout: STATEMENT_TIMEOUT_MS + 1000,
    keepAlive: true,
    application_name: name,
    types,
  };
}

/** A pool whose idle connections may die (a database restart) without crashing the process. */
export function createPool(
  url: string,
  options: { name: string; size: number; onIdleError?: (err: Error) => void },
): pg.Pool {
  const pool = new pg.Pool({
    ...connectionOptions(url, options.name),
    max: options.size,
    idleTimeoutMillis: 30_000,
  });
  pool.on('error', (err) => options.onIdleError?.(err));
  return pool;
}

const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  '57P01', // admin_shutdown: the server is stopping
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now: starting up or shutting down
  '53300', // too_many_connections
  '57014', // query_canceled (statement_timeout)
]);
const UNAVAILABLE_MESSAGES =
  /Connection terminated|timeout exceeded when trying to connect|Query read timeout|not queryable|Client has encountered a connection error/;

/** The database cannot answer now (down, restarting, unreachable, overloaded): try again shortly. */
export function isUnavailable(err: unknown): boolean {
  const { code, message = '' } = (err ?? {}) as { code?: string; message?: string };
  return (
    Boolean(code && (UNAVAILABLE_CODES.has(code) || code.startsWith('08'))) ||
    UNAVAILABLE_MESSAGES.test(message)
  );
}

/** A unique index refused the row. */
export const isUniqueViolation = (err: unknown): boolean => (err as { code?: string })?.code === '23505';

export type Migration = { name: string; sql: string };

/**
 * Applies the migrations `client` has not seen, in one transaction holding an advisory lock named
 * `lock`, so instances starting at once apply each migration once, in order. Versions are kept in
 * `table`. Never edit a migration that has shipped: add the next.
 */
export async function migrate(
  client: pg.ClientBase,
  options: { lock: string; table: string; migrations: readonly Migration[] },
): Promise<void> {
  const { lock, table, migrations } = options;
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [lock]);
    await client.query(`CREATE TABLE IF NOT EXISTS ${table} (
      version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
    const { rows } = await client.query<{ version: number }>(
      `SELECT coalesce(max(version), 0) AS version FROM ${table}`,
    );
    const current = rows[0]!.version;
    if (current > migrations.length) {
      throw new Error(
        `the database is at schema version ${current}, newer than this program's ${migrations.length}: run a newer version`,
      );
    }
    for (const [i, migration] of migrations.entries()) {
      if (i + 1 <= current) continue;
      await client.query(migration.sql);
      await client.query(`INSERT INTO ${table} (version, name) VALUES ($1, $2)`, [i + 1, migration.name]);
    }
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

/** Whether a DATABASE_URL is one pg can use; never echo the value itself (it holds a password). */
export const isDatabaseUrl = (value: string): boolean =>
  /^postgres(ql)?:\/\//.test(value) && URL.canParse(value);

/** Tokens, password hashes, keys and messages cross this connection: off this machine, only over TLS. */
export function trafficProtected(databaseUrl: string): boolean {
  const url = new URL(databaseUrl);
  const sslmode = url.searchParams.get('sslmode');
  const host = decodeURIComponent(url.hostname) || url.searchParams.get('host') || '';
  return (
    LOOPBACK_HOSTS.has(host) ||
    host.startsWith('/') ||
    sslmode === 'require' ||
    sslmode === 'verify-ca' ||
    sslmode === 'verify-full'
  );
}

/** Where the data is, for logs: the database's host, port and name, never its user or password. */
export function describeDatabase(databaseUrl: string): string {
  const url = new URL(databaseUrl);
  return `PostgreSQL at ${url.host}${url.pathname}`;
}
