// The throttles' storage on PostgreSQL, shared by every instance (tables in postgres-migrations.ts).
// Buckets and counters are one upsert each, atomic per key because ON CONFLICT DO UPDATE locks the row
// and reads its latest version; leases count and insert under a per-key advisory lock. Times are the
// instances' clocks, passed in: updated_at never moves back, so a clock behind the others refills
// nothing early, and an instance that dies leaves its leases to expire (nothing is cleared at start).
import type pg from 'pg';
import type { Bucket, Counter } from '../../security/abuse-policy.ts';
import type { CounterState, Taken, ThrottleStore } from '../../security/throttle-store.ts';
import { inTransaction, Sql } from './postgres-sql.ts';

// $1 key, $2 capacity, $3 now, $4 refillMs: the tokens the stored bucket `b` holds at $3.
const REFILLED = 'LEAST($2::float8, b.tokens + GREATEST(0, $3::bigint - b.updated_at)::float8 / $4)';
const UPDATED = 'GREATEST(b.updated_at, $3::bigint)';
const fullAt = (tokens: string) => `${UPDATED} + ceil(($2 - (${tokens})) * $4)::bigint`;

// $1 key, $2 now, $3 limit, $4 windowMs, $5 lockMs. A window that ended with no lock running counts from
// zero again; the failure that reaches the limit locks the key and starts a new window.
const ENDED = '($2::bigint - c.window_start >= $4 AND c.locked_until <= $2::bigint)';
const BASE = `CASE WHEN ${ENDED} THEN 0 ELSE c.failures END`;
const REACHED = `(${BASE} + 1 >= $3)`;
const FAILURES = `CASE WHEN ${REACHED} THEN 0 ELSE ${BASE} + 1 END`;
const WINDOW = `CASE WHEN ${REACHED} OR ${ENDED} THEN $2::bigint ELSE c.window_start END`;
const LOCKED = `CASE WHEN ${REACHED} THEN $2::bigint + $5 WHEN ${ENDED} THEN 0 ELSE c.locked_until END`;
const FIRST_REACHED = '(1 >= $3)';

export class PostgresThrottleStore implements ThrottleStore {
  readonly #pool: pg.Pool;
  readonly #sql: Sql;

  constructor(pool: pg.Pool) {
    this.#pool = pool;
    this.#sql = new Sql(pool);
  }

  async take(key: string, bucket: Bucket, now: number): Promise<Taken> {
    const params = [key, bucket.capacity, now, bucket.refillMs];
    const taken = await this.#sql.count(
      `INSERT INTO throttle_buckets AS b (key, tokens, updated_at, full_at)
       VALUES ($1, $2::float8 - 1, $3, $3::bigint + $4)
       ON CONFLICT (key) DO UPDATE SET
         tokens = ${REFILLED} - 1,
         updated_at = ${UPDATED},
         full_at = ${fullAt(`${REFILLED} - 1`)}
       WHERE ${REFILLED} >= 1`,
      params,
      'throttle-take',
    );
    if (taken > 0) return { ok: true };
    const [row] = await this.#sql.rows<{ tokens: number }>(
      `SELECT ${REFILLED} AS tokens FROM throttle_buckets b WHERE key = $1`,
      params,
      'throttle-tokens',
    );
    return { ok: false, retryAfterMs: Math.ceil((1 - (row?.tokens ?? 0)) * bucket.refillMs) };
  }

  async giveBack(key: string, bucket: Bucket, now: number): Promise<void> {
    const tokens = `LEAST($2::float8, ${REFILLED} + 1)`;
    await this.#sql.count(
      `UPDATE throttle_buckets b SET tokens = ${tokens}, updated_at = ${UPDATED}, full_at = ${fullAt(tokens)}
       WHERE key = $1`,
      [key, bucket.capacity, now, bucket.refillMs],
      'throttle-give-back',
    );
  }

  async read(key: string, counter: Counter, now: number): Promise<CounterState> {
    const [row] = await this.#sql.rows<{ failures: number; locked_until: number }>(
      `SELECT failures, locked_until FROM throttle_counters
       WHERE key = $1 AND NOT ($2::bigint - window_start >= $3 AND locked_until <= $2::bigint)`,
      [key, now, counter.windowMs],
      'throttle-read',
    );
    return row ? { failures: row.failures, lockedUntil: row.locked_until } : { failures: 0, lockedUntil: 0 };
  }

  async fail(key: string, counter: Counter, now: number): Promise<CounterState> {
    const [row] = await this.#sql.rows<{ failures: number; locked_until: number }>(
      `INSERT INTO throttle_counters AS c (key, failures, window_start, locked_until, expires_at)
       VALUES ($1, CASE WHEN ${FIRST_REACHED} THEN 0 ELSE 1 END, $2,
               CASE WHEN ${FIRST_REACHED} THEN $2::bigint + $5 ELSE 0 END,
               $2::bigint + CASE WHEN ${FIRST_REACHED} THEN GREATEST($4, $5) ELSE $4 END)
       ON CONFLICT (key) DO UPDATE SET
         failures = ${FAILURES},
         window_start = ${WINDOW},
         locked_until = ${LOCKED},
         expires_at = GREATEST(${WINDOW} + $4, ${LOCKED})
       RETURNING failures, locked_until`,
      [key, now, counter.limit, counter.windowMs, counter.lockMs],
      'throttle-fail',
    );
    return { failures: row!.failures, lockedUntil: row!.locked_until };
  }

  async forget(keys: readonly string[]): Promise<void> {
    await this.#sql.count('DELETE FROM throttle_counters WHERE key = ANY($1)', [keys], 'throttle-forget');
  }

  async acquire(key: string, holder: string, slots: number, ttlMs: number, now: number): Promise<boolean> {
    // Counting and inserting must not interleave with another acquire of this key: the lock orders them,
    // and the statement that follows it sees every place taken before.
    return inTransaction(this.#pool, `throttle ${key}`, async (sql) => {
      const placed = await sql.count(
        `WITH expired AS (DELETE FROM throttle_leases WHERE key = $1 AND expires_at <= $4),
              held AS (SELECT count(*) AS n FROM throttle_leases
                       WHERE key = $1 AND holder <> $2 AND expires_at > $4)
         INSERT INTO throttle_leases (key, holder, expires_at)
         SELECT $1, $2, $4::bigint + $5 FROM held WHERE n < $3
         ON CONFLICT (key, holder) DO UPDATE SET expires_at = excluded.expires_at`,
        [key, holder, slots, now, ttlMs],
        'throttle-acquire',
      );
      return placed > 0;
    });
  }

  async release(key: string, holder: string): Promise<void> {
    await this.#sql.count(
      'DELETE FROM throttle_leases WHERE key = $1 AND holder = $2',
      [key, holder],
      'throttle-release',
    );
  }

  async sweep(now: number): Promise<void> {
    await this.#sql.count('DELETE FROM throttle_buckets WHERE full_at <= $1', [now]);
    await this.#sql.count('DELETE FROM throttle_counters WHERE expires_at <= $1', [now]);
    await this.#sql.count('DELETE FROM throttle_leases WHERE expires_at <= $1', [now]);
  }
}
