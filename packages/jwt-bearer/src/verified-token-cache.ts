// Results of verifications, so a repeated token costs a hash and a lookup instead of a
// signature check. Keyed by SHA-256 of the token (the token itself is never kept), bounded,
// never used past the entry's expiry (the token's exp for a success), and emptied whenever the
// issuer's key set changes. The verifier keeps two: successes, and bad signatures (a given
// string fails the same way against the same keys, so replaying a forged token is cheap too).
import { hash } from 'node:crypto';
import type { JsonObject } from './decode-token.ts';

export type CachedVerification = {
  header: JsonObject;
  payload: JsonObject;
  expiresAtMs: number;
  generation: number;
};

type Entry = { expiresAtMs: number; generation: number };

export class VerifiedTokenCache<T extends Entry = CachedVerification> {
  readonly #entries = new Map<string, T>();
  readonly #maxEntries: number;

  constructor(maxEntries: number) {
    if (!Number.isInteger(maxEntries) || maxEntries < 1)
      throw new TypeError('maxEntries must be a positive integer');
    this.#maxEntries = maxEntries;
  }

  get size(): number {
    return this.#entries.size;
  }

  static keyOf(token: string): string {
    return hash('sha256', token, 'base64url'); // one-shot: no Hash object per request
  }

  get(key: string, generation: number, nowMs: number): T | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.generation !== generation || entry.expiresAtMs <= nowMs) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry;
  }

  set(key: string, entry: T): void {
    if (this.#entries.size >= this.#maxEntries) {
      // Oldest insertion first (Map order): a bounded FIFO is enough, hits need no reordering.
      const oldest = this.#entries.keys().next();
      if (!oldest.done) this.#entries.delete(oldest.value);
    }
    this.#entries.set(key, entry);
  }

  clear(): void {
    this.#entries.clear();
  }
}
