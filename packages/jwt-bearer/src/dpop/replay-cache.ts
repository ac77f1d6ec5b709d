// RFC 9449 §11.1: a proof's `jti` may be used once within the window its `iat` is accepted for. Bounded in
// time (an entry outlives its window by nothing) and in memory (past `maxEntries`, the oldest entries go
// first: they are the nearest to leaving the window anyway; `evictions` counts it for operators).
export class ReplayCache {
  private readonly entries = new Map<string, number>();
  private readonly maxEntries: number;
  evictions = 0;

  constructor(maxEntries = 100_000) {
    if (!(Number.isInteger(maxEntries) && maxEntries > 0))
      throw new TypeError('maxEntries must be a positive integer');
    this.maxEntries = maxEntries;
  }

  /** Records `key` until `expiresAtMs`; false when it was seen before and has not expired. */
  firstUse(key: string, expiresAtMs: number, nowMs: number): boolean {
    const seen = this.entries.get(key);
    if (seen !== undefined && seen > nowMs) return false;
    this.entries.delete(key);
    this.sweep(nowMs);
    this.entries.set(key, expiresAtMs);
    return true;
  }

  get size(): number {
    return this.entries.size;
  }

  /** Insertion order is close to expiry order (one window for all), so expired entries sit at the front. */
  private sweep(nowMs: number): void {
    for (const [key, expiresAt] of this.entries) {
      if (expiresAt > nowMs && this.entries.size < this.maxEntries) break;
      if (expiresAt > nowMs) this.evictions++;
      this.entries.delete(key);
    }
  }
}
