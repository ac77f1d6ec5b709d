// The throttles' storage on the server's SQLite file (tables in sqlite-migrations.ts). Buckets are one
// INSERT … ON CONFLICT … RETURNING each, the statement a PostgreSQL version can keep (with GREATEST and
// LEAST, postgres/postgres-throttle-store.ts); counters and leases read and write inside one BEGIN IMMEDIATE transaction, which is atomic
// here because node:sqlite runs each call to completion on this one connection.
import type { DatabaseSync } from 'node:sqlite';
import type { Bucket, Counter } from '../../security/abuse-policy.ts';
import type { CounterState, Taken, ThrottleStore } from '../../security/throttle-store.ts';

// Tokens a bucket holds at :now, refilled since its last update (a clock that went back refills nothing).
const REFILLED = 'min(:capacity, tokens + max(0, :now - updated_at) * 1.0 / :refillMs)';

type CounterRow = { failures: number; window_start: number; locked_until: number };

export class SqliteThrottleStore implements ThrottleStore {
  readonly #db: DatabaseSync;
  // node:sqlite keeps no statement cache: without this each call would compile its SQL again.
  readonly #statements = new Map<string, ReturnType<DatabaseSync['prepare']>>();

  constructor(db: DatabaseSync) {
    this.#db = db;
    // One server uses a SQLite file: places still held are those of a process that died, so they go now
    // rather than at their expiry (a shared database waits for the expiry instead).
    db.exec('DELETE FROM throttle_leases');
  }

  async take(key: string, bucket: Bucket, now: number): Promise<Taken> {
    const params = { key, now, ...bucket };
    const taken = this.#stmt(
      `INSERT INTO throttle_buckets (key, tokens, updated_at, full_at)
       VALUES (:key, :capacity - 1, :now, :now + :refillMs)
       ON CONFLICT (key) DO UPDATE SET
         tokens = ${REFILLED} - 1,
         updated_at = :now,
         full_at = :now + (:capacity - (${REFILLED} - 1)) * :refillMs
       WHERE ${REFILLED} >= 1
       RETURNING tokens`,
    ).get(params);
    if (taken) return { ok: true };
    const row = this.#stmt(`SELECT ${REFILLED} AS tokens FROM throttle_buckets WHERE key = :key`).get(
      params,
    ) as { tokens: number } | undefined;
    return { ok: false, retryAfterMs: Math.ceil((1 - (row?.tokens ?? 0)) * bucket.refillMs) };
  }

  async giveBack(key: string, bucket: Bucket, now: number): Promise<void> {
    this.#stmt(
      `UPDATE throttle_buckets SET
         tokens = min(:capacity, ${REFILLED} + 1),
         updated_at = :now,
         full_at = :now + (:capacity - min(:capacity, ${REFILLED} + 1)) * :refillMs
       WHERE key = :key`,
    ).run({ key, now, ...bucket });
  }

  async read(key: string, counter: Counter, now: number): Promise<CounterState> {
    const row = this.#counter(key, counter, now);
    return { failures: row.failures, lockedUntil: row.locked_until };
  }

  async fail(key: string, counter: Counter, now: number): Promise<CounterState> {
    return this.#transaction(() => {
      const row = this.#counter(key, counter, now);
      const reached = row.failures + 1 >= counter.limit;
      const next: CounterRow = reached
        ? { failures: 0, window_start: now, locked_until: now + counter.lockMs }
        : { ...row, failures: row.failures + 1 };
      this.#stmt(
        `INSERT INTO throttle_counters (key, failures, window_start, locked_until, expires_at)
         VALUES (:key, :failures, :window_start, :locked_until, :expires_at)
         ON CONFLICT (key) DO UPDATE SET failures = excluded.failures, window_start = excluded.window_start,
           locked_until = excluded.locked_until, expires_at = excluded.expires_at`,
      ).run({ key, ...next, expires_at: Math.max(next.window_start + counter.windowMs, next.locked_until) });
      return { failures: next.failures, lockedUntil: next.locked_until };
    });
  }

  async forget(keys: readonly string[]): Promise<void> {
    const del = this.#stmt('DELETE FROM throttle_counters WHERE key = ?');
    for (const key of keys) del.run(key);
  }

  async acquire(key: string, holder: string, slots: number, ttlMs: number, now: number): Promise<boolean> {
    return this.#transaction(() => {
      this.#stmt('DELETE FROM throttle_leases WHERE key = ? AND expires_at <= ?').run(key, now);
      const { held } = this.#stmt(
        'SELECT count(*) AS held FROM throttle_leases WHERE key = ? AND holder <> ?',
      ).get(key, holder) as { held: number };
      if (held >= slots) return false;
      this.#stmt(
        `INSERT INTO throttle_leases (key, holder, expires_at) VALUES (?, ?, ?)
         ON CONFLICT (key, holder) DO UPDATE SET expires_at = excluded.expires_at`,
      ).run(key, holder, now + ttlMs);
      return true;
    });
  }

  async release(key: string, holder: string): Promise<void> {
    this.#stmt('DELETE FROM throttle_leases WHERE key = ? AND holder = ?').run(key, holder);
  }

  async sweep(now: number): Promise<void> {
    this.#transaction(() => {
      this.#stmt('DELETE FROM throttle_buckets WHERE full_at <= ?').run(now);
      this.#stmt('DELETE FROM throttle_counters WHERE expires_at <= ?').run(now);
      this.#stmt('DELETE FROM throttle_leases WHERE expires_at <= ?').run(now);
    });
  }

  /** The counter as it stands at `now`: a window that ended (and no lock running) counts from zero again. */
  #counter(key: string, counter: Counter, now: number): CounterRow {
    const row = this.#stmt(
      'SELECT failures, window_start, locked_until FROM throttle_counters WHERE key = ?',
    ).get(key) as CounterRow | undefined;
    if (!row || (now - row.window_start >= counter.windowMs && row.locked_until <= now)) {
      return { failures: 0, window_start: now, locked_until: 0 };
    }
    return row;
  }

  #stmt(sql: string) {
    let stmt = this.#statements.get(sql);
    if (!stmt) {
      stmt = this.#db.prepare(sql);
      this.#statements.set(sql, stmt);
    }
    return stmt;
  }

  #transaction<T>(fn: () => T): T {
    this.#db.exec('BEGIN IMMEDIATE');
    try {
      const result = fn();
      this.#db.exec('COMMIT');
      return result;
    } catch (err) {
      this.#db.exec('ROLLBACK');
      throw err;
    }
  }
}
