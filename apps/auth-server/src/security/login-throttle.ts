// Slows password guessing without locking the real user out for good:
// - account + address: 5 failures in 15 min lock that pair for 15 min (the user elsewhere is unaffected);
// - address: 50 failures in 15 min lock the address for 15 min (one attacker trying many accounts);
// - account, from any address: after 5 failures each attempt waits longer (up to 10 s), never a lock;
// - sign-ups: 10 attempts (whatever their outcome) in 15 min lock the address's sign-ups for 15 min.
// Counters live in SQLite so a restart does not reset them.
import type { DatabaseSync } from 'node:sqlite';

export type ThrottlePolicy = {
  windowMs: number;
  lockMs: number;
  pairLimit: number;
  addressLimit: number;
  maxDelayMs: number;
  signupLimit: number;
};
export const DEFAULT_POLICY: ThrottlePolicy = {
  windowMs: 15 * 60_000,
  lockMs: 15 * 60_000,
  pairLimit: 5,
  addressLimit: 50,
  maxDelayMs: 10_000,
  signupLimit: 10,
};

export type ThrottleVerdict =
  | { locked: false; delayMs: number }
  /** `busy`: too many attempts already in flight (a short wait helps); `locked`: too many failures. */
  | { locked: true; reason: 'locked' | 'busy'; retryAfterSeconds: number };

type Row = { failures: number; window_start: number; locked_until: number };

export class LoginThrottle {
  private readonly db: DatabaseSync;
  private readonly policy: ThrottlePolicy;
  private readonly pending = new Map<string, number>();

  constructor(db: DatabaseSync, policy: ThrottlePolicy = DEFAULT_POLICY) {
    this.db = db;
    this.policy = policy;
  }

  private read(key: string, now: number): Row {
    const row = this.db
      .prepare('SELECT failures, window_start, locked_until FROM login_failures WHERE key = ?')
      .get(key) as Row | undefined;
    if (!row || (now - row.window_start > this.policy.windowMs && row.locked_until <= now)) {
      return { failures: 0, window_start: now, locked_until: 0 };
    }
    return row;
  }

  check(email: string, address: string, now = Date.now()): ThrottleVerdict {
    const locks = [this.read(pairKey(email, address), now), this.read(`ip:${address}`, now)]
      .map((r) => r.locked_until)
      .filter((until) => until > now);
    if (locks.length > 0) return lockedUntil(Math.max(...locks), now);
    // From the 5th failure on, each further attempt waits 250 ms, then 500, 1000, … up to maxDelayMs.
    const over = this.read(`acct:${email.toLowerCase()}`, now).failures - this.policy.pairLimit;
    return { locked: false, delayMs: over >= 0 ? Math.min(250 * 2 ** over, this.policy.maxDelayMs) : 0 };
  }

  /**
   * Checks, and when the attempt may go on, holds a place for it until settle() (one synchronous
   * step, so parallel guesses cannot all pass the check while the first password hash is being
   * computed). Attempts in flight count against the limits as if they had failed; they live in
   * memory only, so a crash mid-check never turns a right password into a recorded failure.
   */
  admit(email: string, address: string, now = Date.now()): ThrottleVerdict {
    const verdict = this.check(email, address, now);
    if (verdict.locked) return verdict;
    const pair = pairKey(email, address);
    const ip = `ip:${address}`;
    const busy =
      this.read(pair, now).failures + this.inFlight(pair) >= this.policy.pairLimit ||
      this.read(ip, now).failures + this.inFlight(ip) >= this.policy.addressLimit;
    if (busy) return { locked: true, reason: 'busy', retryAfterSeconds: 1 };
    this.pending.set(pair, this.inFlight(pair) + 1);
    this.pending.set(ip, this.inFlight(ip) + 1);
    return verdict;
  }

  /** Ends an admitted attempt: a success clears the account's counters, a failure is recorded. */
  settle(email: string, address: string, succeeded: boolean, now = Date.now()): void {
    for (const key of [pairKey(email, address), `ip:${address}`]) {
      const left = this.inFlight(key) - 1;
      if (left > 0) this.pending.set(key, left);
      else this.pending.delete(key);
    }
    if (succeeded) this.recordSuccess(email, address);
    else this.recordFailure(email, address, now);
  }

  /**
   * Counts a sign-up attempt from an address before it is processed, whatever it turns out to be, so
   * sign-up cannot be used to create accounts in bulk or to test many emails at once.
   */
  admitSignup(address: string, now = Date.now()): ThrottleVerdict {
    const key = `signup:${address}`;
    const row = this.read(key, now);
    if (row.locked_until > now) return lockedUntil(row.locked_until, now);
    this.bump(key, this.policy.signupLimit, now);
    return { locked: false, delayMs: 0 };
  }

  private inFlight(key: string): number {
    return this.pending.get(key) ?? 0;
  }

  recordFailure(email: string, address: string, now = Date.now()): void {
    this.bump(pairKey(email, address), this.policy.pairLimit, now);
    this.bump(`ip:${address}`, this.policy.addressLimit, now);
    this.bump(`acct:${email.toLowerCase()}`, Number.POSITIVE_INFINITY, now);
  }

  recordSuccess(email: string, address: string): void {
    this.db
      .prepare('DELETE FROM login_failures WHERE key IN (?, ?)')
      .run(pairKey(email, address), `acct:${email.toLowerCase()}`);
  }

  private bump(key: string, limit: number, now: number): void {
    const row = this.read(key, now);
    const failures = row.failures + 1;
    const lockedUntil = failures >= limit ? now + this.policy.lockMs : row.locked_until;
    this.db
      .prepare(
        `INSERT INTO login_failures (key, failures, window_start, locked_until) VALUES (?, ?, ?, ?)
         ON CONFLICT (key) DO UPDATE SET failures = excluded.failures, window_start = excluded.window_start, locked_until = excluded.locked_until`,
      )
      .run(key, failures >= limit ? 0 : failures, failures >= limit ? now : row.window_start, lockedUntil);
  }
}

const lockedUntil = (until: number, now: number): ThrottleVerdict => ({
  locked: true,
  reason: 'locked',
  retryAfterSeconds: Math.ceil((until - now) / 1000),
});

const pairKey = (email: string, address: string) => `pair:${email.toLowerCase()}|${address}`;
