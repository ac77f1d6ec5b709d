// Where the verification keys come from. RemoteKeySet: the issuer's metadata and JWKS, fetched
// once, refetched on an unknown kid at most once per cooldown, refreshed in the background when
// old (metadata and keys together, so a moved jwks_uri is followed), and kept in use when the
// endpoints fail. StaticKeySet: keys given by configuration, no network at all.
import { discoverIssuer, discoveryPlan, type IssuerMetadata } from './discovery.ts';
import { BearerConfigError } from './errors.ts';
import { assertFetchableUrl, fetchJson } from './fetch-json.ts';
import { type JsonWebKeySet, KeyTable, type PublicJwk } from './key-table.ts';

export type KeySetOptions = {
  /** Where discovery starts (the issuer, or one of its .well-known URLs); unused with `jwksUri` or static keys. */
  issuerBaseURL?: string | undefined;
  /** The exact `iss`; when absent it comes from discovery (or equals issuerBaseURL with an explicit jwksUri). */
  issuer?: string | undefined;
  jwksUri?: string | undefined;
  /** A JWKS given by configuration: no discovery, no fetch; `issuer` is then required. */
  jwks?: JsonWebKeySet | undefined;
  /** One public key (PEM SPKI or JWK) given by configuration; `issuer` is then required. */
  publicKey?: string | PublicJwk | undefined;
  /** Per-fetch timeout (default 5000 ms). */
  timeoutMs?: number;
  /** Largest discovery document or JWKS accepted (default 512 KiB). */
  maxBytes?: number;
  /** Least time between two fetches caused by unknown kids or by requests before the first load (default 30 s). */
  cooldownMs?: number;
  /** Age after which metadata and keys are refreshed in the background (default 10 min). */
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

export interface KeySet {
  readonly loaded: boolean;
  /** Increases each time the keys or the issuer change; cached verification results carry it. */
  readonly generation: number;
  /** The exact issuer tokens must name; undefined until discovery has answered. */
  readonly issuer: string | undefined;
  readonly jwksUri: string | undefined;
  readonly metrics: KeySetMetrics;
  /** The keys now (starting a background refresh when they are old); undefined before the first load. */
  current(): KeyTable | undefined;
  /** Whether a fetch may be started, or joined, now (the cooldown bounds fetches caused by requests). */
  canFetch(): boolean;
  /** Seconds until canFetch() turns true. */
  retryAfterSeconds(): number;
  /** Fetches now (callers arriving during a fetch share it). Never rejects; true when keys are loaded. */
  refresh(): Promise<boolean>;
  onChange(listener: (generation: number) => void): () => void;
}

const emptyMetrics = (): KeySetMetrics => ({
  discoveryFetches: 0,
  jwksFetches: 0,
  fetchFailures: 0,
  keySetChanges: 0,
  lastError: undefined,
});

/** The key set the options describe; refuses contradictory or unsafe options at once. */
export function createKeySet(options: KeySetOptions): KeySet {
  const statics = [options.jwks, options.publicKey].filter((v) => v !== undefined).length;
  if (statics === 0) return new RemoteKeySet(options);
  if (statics > 1 || options.jwksUri !== undefined || options.issuerBaseURL !== undefined) {
    throw new BearerConfigError(
      'jwks, publicKey, jwksUri and issuerBaseURL are alternatives: give only one source of keys',
    );
  }
  if (typeof options.issuer !== 'string' || options.issuer.length === 0) {
    throw new BearerConfigError('with a static jwks or publicKey, the exact issuer must be given');
  }
  let table: KeyTable;
  if (options.jwks !== undefined) {
    try {
      table = KeyTable.fromJwks(options.jwks);
    } catch (error) {
      throw new BearerConfigError(`jwks is not usable: ${(error as Error).message}`);
    }
    if (table.size === 0) throw new BearerConfigError('jwks holds no key that can verify signatures');
  } else {
    table = KeyTable.fromPublicKey(options.publicKey!);
  }
  return new StaticKeySet(options.issuer, table);
}

export class StaticKeySet implements KeySet {
  readonly loaded = true;
  readonly generation = 1;
  readonly jwksUri = undefined;
  readonly metrics = emptyMetrics();
  readonly issuer: string;
  readonly #table: KeyTable;

  constructor(issuer: string, table: KeyTable) {
    this.issuer = issuer;
    this.#table = table;
  }

  current(): KeyTable {
    return this.#table;
  }
  canFetch(): boolean {
    return false;
  }
  retryAfterSeconds(): number {
    return 0;
  }
  refresh(): Promise<boolean> {
    return Promise.resolve(true);
  }
  onChange(): () => void {
    return () => {};
  }
}

type RemoteOptions = Required<
  Pick<KeySetOptions, 'timeoutMs' | 'maxBytes' | 'cooldownMs' | 'maxAgeMs' | 'now'>
> &
  Pick<KeySetOptions, 'issuerBaseURL' | 'issuer' | 'jwksUri'>;

function assertIssuerBaseURL(value: string): void {
  const url = assertFetchableUrl(value, 'issuerBaseURL');
  if (url.hash !== '' || value.includes('#'))
    throw new BearerConfigError('issuerBaseURL must not have a fragment');
  if (url.search !== '' && !url.pathname.includes('/.well-known/')) {
    throw new BearerConfigError('issuerBaseURL must not have a query');
  }
  discoveryPlan(value);
}

export class RemoteKeySet implements KeySet {
  readonly metrics = emptyMetrics();
  readonly #options: RemoteOptions;
  /** Discovery in use: metadata is fetched again with every JWKS fetch. */
  readonly #discovers: boolean;
  #metadata: IssuerMetadata | undefined;
  #table: KeyTable | undefined;
  #fingerprint: string | undefined;
  #generation = 0;
  #lastAttempt = Number.NEGATIVE_INFINITY;
  #lastSuccess = Number.NEGATIVE_INFINITY;
  #pending: Promise<boolean> | undefined;
  readonly #listeners = new Set<(generation: number) => void>();

  constructor(options: KeySetOptions) {
    if (options.jwksUri === undefined && options.issuerBaseURL === undefined) {
      throw new BearerConfigError(
        'A key set needs issuerBaseURL (for discovery), jwksUri, jwks or publicKey.',
      );
    }
    if (options.jwksUri !== undefined && (options.issuer ?? options.issuerBaseURL) === undefined) {
      throw new BearerConfigError('With an explicit jwksUri, the issuer must be given too.');
    }
    if (options.jwksUri !== undefined) assertFetchableUrl(options.jwksUri, 'jwksUri');
    if (options.issuerBaseURL !== undefined) assertIssuerBaseURL(options.issuerBaseURL);
    this.#options = {
      timeoutMs: options.timeoutMs ?? 5000,
      maxBytes: options.maxBytes ?? 512 * 1024,
      cooldownMs: options.cooldownMs ?? 30_000,
      maxAgeMs: options.maxAgeMs ?? 10 * 60_000,
      now: options.now ?? Date.now,
      issuerBaseURL: options.issuerBaseURL,
      issuer: options.issuer,
      jwksUri: options.jwksUri,
    };
    this.#discovers = options.jwksUri === undefined;
    if (!this.#discovers) {
      this.#metadata = { issuer: (options.issuer ?? options.issuerBaseURL)!, jwksUri: options.jwksUri! };
    }
  }

  get loaded(): boolean {
    return this.#table !== undefined;
  }

  get generation(): number {
    return this.#generation;
  }

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

  current(): KeyTable | undefined {
    const old = this.#options.now() - this.#lastSuccess > this.#options.maxAgeMs;
    // Background refresh of an old set: no request waits for it, failures keep the old keys.
    if (this.#table !== undefined && old && this.#pending === undefined && !this.#coolingDown()) {
      void this.refresh();
    }
    return this.#table;
  }

  canFetch(): boolean {
    return this.#pending !== undefined || !this.#coolingDown();
  }

  retryAfterSeconds(): number {
    const remaining = this.#options.cooldownMs - (this.#options.now() - this.#lastAttempt);
    return Math.max(1, Math.ceil(remaining / 1000));
  }

  refresh(): Promise<boolean> {
    this.#pending ??= this.#fetch().finally(() => {
      this.#pending = undefined;
    });
    return this.#pending;
  }

  #coolingDown(): boolean {
    return this.#options.now() - this.#lastAttempt < this.#options.cooldownMs;
  }

  async #fetch(): Promise<boolean> {
    this.#lastAttempt = this.#options.now();
    try {
      const metadata = await this.#fetchMetadata();
      this.metrics.jwksFetches++;
      const jwks = await fetchJson(metadata.jwksUri, this.#limits());
      const table = KeyTable.fromJwks(jwks); // throws on a malformed set: the old keys stay
      this.#lastSuccess = this.#options.now();
      this.#install(metadata, table, JSON.stringify((jwks as JsonWebKeySet).keys));
      return true;
    } catch (error) {
      this.#recordFailure(error);
      return this.loaded;
    }
  }

  /** Fresh metadata when discovery is in use; the last known one if that fetch fails. */
  async #fetchMetadata(): Promise<IssuerMetadata> {
    if (!this.#discovers) return this.#metadata!;
    try {
      this.metrics.discoveryFetches++;
      return await discoverIssuer(this.#options.issuerBaseURL!, this.#limits());
    } catch (error) {
      if (this.#metadata === undefined) throw error;
      this.#recordFailure(error);
      return this.#metadata;
    }
  }

  #install(metadata: IssuerMetadata, table: KeyTable, keys: string): void {
    this.#metadata = metadata;
    const fingerprint = `${metadata.issuer}\n${keys}`;
    if (fingerprint === this.#fingerprint) return;
    const first = this.#fingerprint === undefined;
    this.#fingerprint = fingerprint;
    this.#table = table;
    this.#generation++;
    if (!first) this.metrics.keySetChanges++;
    for (const listener of this.#listeners) listener(this.#generation);
  }

  #recordFailure(error: unknown): void {
    this.metrics.fetchFailures++;
    this.metrics.lastError = error instanceof Error ? error.message : String(error);
  }

  #limits() {
    return { timeoutMs: this.#options.timeoutMs, maxBytes: this.#options.maxBytes };
  }
}
