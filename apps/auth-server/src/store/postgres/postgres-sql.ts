// The SQL helpers every PostgreSQL store shares: pg's errors as the store's, named statements, and
// transactions on one pool connection behind an advisory lock.
import { isUnavailable, isUniqueViolation } from '@calling-api/postgres';
import type pg from 'pg';
import { StoreConflictError, StoreUnavailableError } from '../storage.ts';

/** pg's errors as the store's: an outage is StoreUnavailableError (503), a duplicate key StoreConflictError. */
export function translate(err: unknown): unknown {
  const { message = '' } = err as { message?: string };
  if (isUniqueViolation(err)) return new StoreConflictError(message, { cause: err });
  if (isUnavailable(err))
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
