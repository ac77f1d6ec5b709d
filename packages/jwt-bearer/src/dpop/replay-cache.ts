// RFC 9449 §11.1: a proof's `jti` may be used once within the window its `iat` is accepted for. Bounded in
// time (an entry lives as long as its window, no longer) and in memory, and closed when full: a live entry
// is never evicted to make room (that would let an attacker flush a victim's proof out with proofs of
// their own and replay it), so past `maxEntries` live entries (`full`), or `maxPerKey` for one key
// (`key-full`: that client is going faster than any browser does), new proofs are refused until old ones
// expire.

export type ReplayVerdict = 'recorded' | 'seen' | 'full' | 'key-full';

export class ReplayCache {
  private readonly entries = new Map<string, { key: string; expiresAt: number }>();
  private readonly perKey = new Map<string, number>();
  private readonly maxEntries: number;
  private readonly maxPerKey: number;
  /** Proofs refused because the cache (or one key's share of it) was full. */
  refusals = 0;

  constructor(options: { maxEntries?: number; maxPerKey?: number } = {}) {
    this.maxEntries = options.maxEntries ?? 200_000;
    this.maxPerKey = options.maxPerKey ?? 2_000;
    for (const [name, value] of Object.entries({ maxEntries: this.maxEntries, maxPerKey: this.maxPerKey })) {
      if (!(Number.isInteger(value) && value > 0)) throw new TypeError(`${name} must be a positive integer`);
    }
  }

  /** Records proof `id` of `key` (its thumbprint) until `expiresAtMs`, unless seen before or there is no room. */
  record(key: string, id: string, expiresAtMs: number, nowMs: number): ReplayVerdict {
    this.sweep(nowMs);
    const entry = `${key}:${id}`;
    const seen = this.entries.get(entry);
    if (seen !== undefined && seen.expiresAt > nowMs) return 'seen';
    const ofKey = this.perKey.get(key) ?? 0;
    const refused =
      this.entries.size >= this.maxEntries ? 'full' : ofKey >= this.maxPerKey ? 'key-full' : undefined;
    if (refused) {
      this.refusals++;
      return refused;
    }
    this.entries.set(entry, { key, expiresAt: expiresAtMs });
    this.perKey.set(key, ofKey + 1);
    return 'recorded';
  }

  get size(): number {
    return this.entries.size;
  }

  /** Every proof has the same window, so insertion order is expiry order: expired entries sit at the front. */
  private sweep(nowMs: number): void {
    for (const [entry, { key, expiresAt }] of this.entries) {
      if (expiresAt > nowMs) break;
      this.entries.delete(entry);
      const left = (this.perKey.get(key) ?? 1) - 1;
      if (left > 0) this.perKey.set(key, left);
      else this.perKey.delete(key);
    }
  }
}
