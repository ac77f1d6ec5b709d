// What the throttles need from storage: three atomic operations, nothing about accounts, networks or
// HTTP. Part of the server's storage (store/storage.ts): store/sqlite/sqlite-throttle-store.ts on the
// SQLite file, store/postgres/postgres-throttle-store.ts shared by every instance on PostgreSQL; the
// policy (login-throttle.ts, http/authorize-limits.ts) is the same on both.
//
// Every method must be atomic with respect to every other call on the same key, from any instance:
// two parallel take() on a bucket with one token give one `ok`, two acquire() on a one-slot lease
// give one `true`. Times are milliseconds since the epoch, passed in so that tests can move the clock.
import type { Bucket, Counter } from './abuse-policy.ts';

export type Taken = { ok: true } | { ok: false; retryAfterMs: number };
export type CounterState = { failures: number; lockedUntil: number };

export interface ThrottleStore {
  /** Takes one token from `key`'s bucket (a new bucket is full); refused, says how long until the next token. */
  take(key: string, bucket: Bucket, now: number): Promise<Taken>;
  /** Gives one token back to `key`'s bucket (the attempt did not count after all), never above capacity. */
  giveBack(key: string, bucket: Bucket, now: number): Promise<void>;

  /** The failures in `key`'s current window and the end of its lock (0 when none). */
  read(key: string, counter: Counter, now: number): Promise<CounterState>;
  /** Counts one failure; reaching the limit locks the key for `counter.lockMs` and starts a new window. */
  fail(key: string, counter: Counter, now: number): Promise<CounterState>;
  /** Forgets the counters of these keys (a right password clears the failures it proves were the owner's). */
  forget(keys: readonly string[]): Promise<void>;

  /**
   * Takes one of `slots` places on `key` for `holder` until release() or `now + ttlMs`, whichever
   * comes first; false when all places are held. Expiry is what frees the places of a process that died.
   */
  acquire(key: string, holder: string, slots: number, ttlMs: number, now: number): Promise<boolean>;
  release(key: string, holder: string): Promise<void>;

  /** Deletes what no longer limits anything: full buckets, ended windows and locks, expired places. */
  sweep(now: number): Promise<void>;
}
