// The issuer's key set: fetched once, cached, refetched on an unknown kid at most once per
// cooldown, refreshed in the background when old, and kept in use when the endpoint fails.
// jose's createRemoteJWKSet does most of this, but it fails requests once its cache is stale and
// the endpoint is down, and exposes no change signal (the verified-token cache needs one), no
// readiness and no fetch counts; so jose keeps key selection and import (createLocalJWKSet) and
// this file owns only the fetch policy.
import { createLocalJWKSet, type JSONWebKeySet, type JWSHeaderParameters } from 'jose';
import { discoverIssuer, type IssuerMetadata } from './discovery.ts';
import { InvalidTokenError, KeySetUnavailableError } from './errors.ts';
import { assertFetchableUrl, fetchJson } from './fetch-json.ts';

export type KeySetOptions = {
  /** Where discovery starts; unused when both `jwksUri` and `issuer` are known. */
  issuerBaseURL?: string | undefined;
  /** The exact `iss`; when absent it comes from discovery (or equals issuerBaseURL with an explicit jwksUri). */
  issuer?: string | undefined;
  jwksUri?: string | undefined;
  /** Per-fetch timeout (default 5000 ms). */
  timeoutMs?: number;
  /** Largest discovery document or JWKS accepted (default 512 KiB). */
  maxBytes?: number;
  /** Least time between two fetches caused by unknown kids or by requests before the first load (default 30 s). */
  cooldownMs?: number;
  /** Age after which the key set is refreshed in the background (default 10 min). */
  maxAgeMs?: number;
  /** Clock in milliseconds, for tests. */
  now?: () => number;
};

export type KeySetMetrics = {
  discoveryFetches: number;
  jwksFetches: number;
  fetchFailures: number;
  keySetChanges: number;
  lastError: string | undefined;
};

type Lookup = ReturnType<typeof createLocalJWKSet>;
type VerificationKey = Awaited<ReturnType<Lookup>>;

export class RemoteKeySet {
  readonly metrics: KeySetMetrics = {
    discoveryFetches: 0,
    jwksFetches: 0,
    fetchFailures: 0,
    keySetChanges: 0,
    lastError: undefined,
  };
  readonly #options: Required<Omit<KeySetOptions, 'issuerBaseURL' | 'issuer' | 'jwksUri'>> &
    Pick<KeySetOptions, 'issuerBaseURL' | 'issuer' | 'jwksUri'>;
  #metadata: IssuerMetadata | undefined;
  #lookup: Lookup | undefined;
  #fingerprint: string | undefined;
  #generation = 0;
  #lastAttempt = Number.NEGATIVE_INFINITY;
  #lastSuccess = Number.NEGATIVE_INFINITY;
  #pending: Promise<boolean> | undefined;
  readonly #listeners = new Set<(generation: number) => void>();

  constructor(options: KeySetOptions) {
    if (options.jwksUri === undefined && options.issuerBaseURL === undefined) {
      throw new TypeError('A key set needs issuerBaseURL (for discovery) or jwksUri.');
    }
    if (options.jwksUri !== undefined && (options.issuer ?? options.issuerBaseURL) === undefined) {
      throw new TypeError('With an explicit jwksUri, the issuer must be given too.');
    }
    if (options.jwksUri !== undefined) assertFetchableUrl(options.jwksUri, 'jwksUri');
    if (options.issuerBaseURL !== undefined) assertFetchableUrl(options.issuerBaseURL, 'issuerBaseURL');
    this.#options = {
      timeoutMs: 5000,
      maxBytes: 512 * 1024,
      cooldownMs: 30_000,
      maxAgeMs: 10 * 60_000,
      now: Date.now,
      ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)),
    };
    if (options.jwksUri !== undefined) {
      this.#metadata = { issuer: (options.issuer ?? options.issuerBaseURL)!, jwksUri: options.jwksUri };
    }
  }

  get loaded(): boolean {
    return this.#lookup !== undefined;
  }

  /** Increases each time the set of keys changes; cached verification results carry it. */
  get generation(): number {
    return this.#generation;
  }

  /** The exact issuer tokens must name; undefined until discovery has answered. */
  get issuer(): string | undefined {
    return this.#options.issuer ?? this.#metadata?.issuer;
  }

  get jwksUri(): string | undefined {
    return this.#metadata?.jwksUri;
  }

  onChange(listener: (generation: number) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #coolingDown(): boolean {
    return this.#options.now() - this.#lastAttempt < this.#options.cooldownMs;
  }

  #retryAfterSeconds(): number {
    const remaining = this.#options.cooldownMs - (this.#options.now() - this.#lastAttempt);
    return Math.max(1, Math.ceil(remaining / 1000));
  }

  /** One fetch at a time: callers arriving during a fetch share it. Never rejects; true when keys are loaded. */
  refresh(): Promise<boolean> {
    this.#pending ??= this.#fetch().finally(() => {
      this.#pending = undefined;
    });
    return this.#pending;
  }

  async #fetch(): Promise<boolean> {
    this.#lastAttempt = this.#options.now();
    const limits = { timeoutMs: this.#options.timeoutMs, maxBytes: this.#options.maxBytes };
    try {
      if (this.#metadata === undefined) {
        this.metrics.discoveryFetches++;
        this.#metadata = await discoverIssuer(this.#options.issuerBaseURL!, limits);
      }
      this.metrics.jwksFetches++;
      const jwks = (await fetchJson(this.#metadata.jwksUri, limits)) as JSONWebKeySet;
      const lookup = createLocalJWKSet(jwks); // throws on a malformed set: the old keys stay
      const fingerprint = JSON.stringify(jwks.keys);
      this.#lastSuccess = this.#options.now();
      if (fingerprint !== this.#fingerprint) {
        const first = this.#fingerprint === undefined;
        this.#fingerprint = fingerprint;
        this.#lookup = lookup;
        this.#generation++;
        if (!first) this.metrics.keySetChanges++;
        for (const listener of this.#listeners) listener(this.#generation);
      }
      return true;
    } catch (error) {
      this.metrics.fetchFailures++;
      this.metrics.lastError = error instanceof Error ? error.message : String(error);
      return this.loaded;
    }
  }

  /** Loads the keys if they never were (bounded by the cooldown); throws KeySetUnavailableError if it cannot. */
  async ensureLoaded(): Promise<void> {
    if (this.loaded) {
      // Background refresh of an old set: no request waits for it, failures keep the old keys.
      if (this.#options.now() - this.#lastSuccess > this.#options.maxAgeMs && !this.#coolingDown()) {
        void this.refresh();
      }
      return;
    }
    if (this.#pending !== undefined) await this.#pending;
    else if (!this.#coolingDown()) await this.refresh();
    if (!this.loaded) {
      throw new KeySetUnavailableError(
        "The issuer's signing keys could not be loaded yet; try again shortly.",
        this.#retryAfterSeconds(),
      );
    }
  }

  /** The verification key for a token header; an unknown kid triggers at most one refetch per cooldown. */
  async getKey(header: JWSHeaderParameters): Promise<VerificationKey> {
    await this.ensureLoaded();
    try {
      return await this.#select(header);
    } catch (error) {
      if (!(error instanceof InvalidTokenError) || error.code !== 'ERR_TOKEN_KID_UNKNOWN') throw error;
      if (this.#pending !== undefined) await this.#pending;
      else if (!this.#coolingDown()) await this.refresh();
      else throw error;
      return this.#select(header);
    }
  }

  async #select(header: JWSHeaderParameters): Promise<VerificationKey> {
    try {
      return (await this.#lookup!(header)) as VerificationKey;
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code === 'ERR_JWKS_NO_MATCHING_KEY') {
        throw new InvalidTokenError(
          "The token's signing key (kid) is not one of the issuer's keys.",
          'ERR_TOKEN_KID_UNKNOWN',
        );
      }
      if (code === 'ERR_JWKS_MULTIPLE_MATCHING_KEYS') {
        throw new InvalidTokenError(
          'The token names no key (kid) and the issuer has several.',
          'ERR_TOKEN_KID_UNKNOWN',
        );
      }
      throw new InvalidTokenError(
        "The issuer's key for this token cannot be used.",
        'ERR_TOKEN_KID_UNKNOWN',
        {
          cause: error,
        },
      );
    }
  }
}
