// The SQL helpers every PostgreSQL store shares: pg's errors as the store's, named statements, and
// transactions on one pool connection behind an advisory lock.
import pg from 'pg';
import { StoreConflictError, StoreUnavailableError } from '../storage.ts';

// bigint columns hold epoch milliseconds, well within a double's exact range: read them as numbers.
export const types: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === pg.types.builtins.INT8
      ? Number
      : pg.types.getTypeParser(oid, format)) as pg.CustomTypesConfig['getTypeParser'],
};

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

/** pg's errors as the store's: an outage is StoreUnavailableError (503), a duplicate key StoreConflictError. */
export function translate(err: unknown): unknown {
  const { code, message = '' } = err as { code?: string; message?: string };
  if (code === '23505') return new StoreConflictError(message, { cause: err });
  if ((code && (UNAVAILABLE_CODES.has(code) || code.startsWith('08'))) || UNAVAILABLE_MESSAGES.test(message))
    return new StoreUnavailableError(`the database is unreachable: ${message}`, { cause: err });
  return err;
}

type Queryable = pg.Pool | pg.PoolClient;

export class Sql {
  readonly db: Queryable;

  constructor(db: Queryable) {
    this.db = db;
  }

  /** Named statements are parsed once per connection: the oidc-provider queries run on every request. */
  async query<T extends pg.QueryResultRow>(text: string, values: unknown[] = [], name?: string) {
    try {
      return await this.db.query<T>(name ? { name, text, values } : { text, values });
    } catch (err) {
      throw translate(err);
    }
  }

  async rows<T extends pg.QueryResultRow>(text: string, values: unknown[] = [], name?: string): Promise<T[]> {
    return (await this.query<T>(text, values, name)).rows;
  }

  async count(text: string, values: unknown[] = [], name?: string): Promise<number> {
    return (await this.query(text, values, name)).rowCount ?? 0;
  }
}

/** A transaction on a pool connection, with `lock` taken first; a broken connection is discarded. */
export async function inTransaction<T>(
  pool: pg.Pool,
  lock: string,
  fn: (sql: Sql) => Promise<T>,
  options = 'BEGIN',
): Promise<T> {
  let client: pg.PoolClient;
  try {
    client = await pool.connect();
  } catch (err) {
    throw translate(err);
  }
  const sql = new Sql(client);
  let broken: Error | undefined;
  try {
    await sql.query(options);
    if (lock) await sql.query('SELECT pg_advisory_xact_lock(hashtext($1))', [lock]);
    const result = await fn(sql);
    await sql.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch((e: Error) => {
      broken = e;
    });
    throw err;
  } finally {
    client.release(broken);
  }
}
