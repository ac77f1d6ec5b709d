// Layer 2: verify a JWT access token. Cheapest refusals first: size, what the caches already
// know, structure, header (alg, typ, key headers), claims (time, audience, issuer), key lookup
// (unknown kid), and only then the one signature check, so a flood of forged tokens costs at
// most one signature check each. Everything is synchronous once the keys are loaded; only
// loading them (first use, unknown kid) waits on the network.
import { decodeToken, type JsonObject } from './decode-token.ts';
import { BearerConfigError, BearerError, InvalidTokenError, KeySetUnavailableError } from './errors.ts';
import { DEFAULT_MAX_TOKEN_LENGTH } from './extract-token.ts';
import { createKeySet, type KeySet, type KeySetMetrics, type KeySetOptions } from './key-set.ts';
import { BAD_SIGNATURE, KeyTable, KID_UNKNOWN } from './key-table.ts';
import { PROFILES, type ProfileName, type TokenProfile } from './profiles.ts';
import { type ClaimContext, claimValidators, timeValidators } from './validate-claims.ts';
import { ASYMMETRIC_ALGORITHMS, validateHeader } from './validate-header.ts';
import { VerifiedTokenCache } from './verified-token-cache.ts';

export type VerifierOptions = KeySetOptions & {
  /** The API identifier(s); a token must name at least one in `aud`. */
  audience: string | readonly string[];
  /** Allowed JWS algorithms (default ["RS256"]); only asymmetric ones are accepted. */
  algorithms?: readonly string[];
  /** Token dialect: "rfc9068" (default) or "auth0". */
  profile?: ProfileName;
  /** Leeway for exp, nbf and iat, in seconds (default 5, at most 300). */
  clockToleranceSeconds?: number;
  maxTokenAgeSeconds?: number;
  maxTokenLength?: number;
  /** Cache of verification results; false turns it off (default on, 10 000 entries). */
  cache?: false | { maxEntries?: number };
};

export type VerifiedToken = { header: JsonObject; payload: JsonObject; token: string };

export type VerifierMetrics = KeySetMetrics & {
  verifications: number;
  signatureChecks: number;
  cacheHits: number;
  /** Replays of a token whose signature already failed against the current keys. */
  badSignatureHits: number;
  cacheSize: number;
  rejections: number;
};

export type JwtVerifier = {
  verify(token: string): Promise<VerifiedToken>;
  /**
   * Synchronous verification: the verified token, a thrown BearerError, or undefined when the
   * issuer's keys must be fetched first (before the first load, or for an unknown kid); then
   * call verify().
   */
  verifyNow(token: string): VerifiedToken | undefined;
  /** Fetches metadata and keys now; resolves true when keys are loaded. */
  refresh(): Promise<boolean>;
  readonly ready: boolean;
  readonly issuer: string | undefined;
  readonly metrics: VerifierMetrics;
  readonly keySet: KeySet;
};

type Settings = {
  audiences: readonly string[];
  algorithms: ReadonlySet<string>;
  profile: TokenProfile;
  clockToleranceSeconds: number;
  maxTokenAgeSeconds: number | undefined;
  maxLength: number;
  cacheEntries: number;
  now: () => number;
};

/** The keys are not at hand: fetch them, then judge again. */
const FETCH_KEYS = Symbol('fetch keys');

const EMPTY = new InvalidTokenError('The access token is empty.', 'ERR_TOKEN_MALFORMED');
const UNSIGNED = new InvalidTokenError('The token has no signature.', 'ERR_TOKEN_MALFORMED');
const UNVERIFIABLE = new InvalidTokenError('The access token could not be verified.', 'ERR_TOKEN_MALFORMED');
const BAD_SIGNATURE_MEMORY_MS = 5 * 60_000;

export function createVerifier(options: VerifierOptions): JwtVerifier {
  const settings = settingsFrom(options);
  const keySet = createKeySet(options);
  const memory = new Memory(settings, keySet);
  const counters = { verifications: 0, signatureChecks: 0, cacheHits: 0, rejections: 0 };
  const tooLong = new InvalidTokenError(
    `The access token is longer than ${settings.maxLength} characters.`,
    'ERR_TOKEN_TOO_LARGE',
  );

  const claimContext = (): ClaimContext => ({
    issuer: keySet.issuer!,
    audiences: settings.audiences,
    now: Math.floor(settings.now() / 1000),
    clockToleranceSeconds: settings.clockToleranceSeconds,
    maxTokenAgeSeconds: settings.maxTokenAgeSeconds,
    profile: settings.profile,
  });

  /** The key that must have signed this token, or FETCH_KEYS when the key set may hold it after a fetch. */
  function signingKey(header: JsonObject, final: boolean) {
    const keys = keySet.current();
    if (keys === undefined) {
      if (!final && keySet.canFetch()) return FETCH_KEYS;
      throw new KeySetUnavailableError(
        "The issuer's signing keys could not be loaded yet; try again shortly.",
        keySet.retryAfterSeconds(),
      );
    }
    const kid = header['kid'] as string | undefined;
    // An unknown kid may be a new key of the issuer: one refetch per cooldown finds out.
    if (!keys.knows(kid) && kid !== undefined) {
      if (!final && keySet.canFetch()) return FETCH_KEYS;
      throw KID_UNKNOWN;
    }
    return keys.keyFor(header['alg'] as string, kid);
  }

  /** One verification, synchronously; FETCH_KEYS when it cannot be finished without the network. */
  function judge(token: string, final: boolean): VerifiedToken | typeof FETCH_KEYS {
    if (typeof token !== 'string' || token.length === 0) throw EMPTY;
    if (token.length > settings.maxLength) throw tooLong;
    const cacheKey = memory.keyOf(token);
    const known = memory.recall(token, cacheKey, claimContext);
    if (known !== undefined) {
      counters.cacheHits++;
      return known;
    }
    const { header, payload } = decodeToken(token);
    validateHeader(header, settings.algorithms, settings.profile);
    if (token.endsWith('.')) throw UNSIGNED;
    // Claims before any key work when the exact issuer is known; with discovery it is known
    // once the keys are loaded, so then right after the key lookup. Never skipped.
    const issuerKnown = keySet.issuer !== undefined;
    if (issuerKnown) checkClaims(payload, claimContext());
    const key = signingKey(header, final);
    if (key === FETCH_KEYS) return FETCH_KEYS;
    if (!issuerKnown) checkClaims(payload, claimContext());
    counters.signatureChecks++;
    try {
      KeyTable.checkSignature(token, header['alg'] as string, key);
    } catch (error) {
      memory.rememberBadSignature(cacheKey);
      throw error;
    }
    return memory.remember(token, cacheKey, header, payload);
  }

  /** Counts the outcome; anything unexpected is still the token's refusal, never a 5xx. */
  function counted<T>(attempt: () => T): T {
    try {
      const result = attempt();
      if (result !== undefined) counters.verifications++;
      return result;
    } catch (error) {
      counters.verifications++;
      counters.rejections++;
      throw error instanceof BearerError ? error : UNVERIFIABLE;
    }
  }

  const verifyNow = (token: string): VerifiedToken | undefined =>
    counted(() => {
      const result = judge(token, false);
      return result === FETCH_KEYS ? undefined : result;
    });

  return {
    verifyNow,
    async verify(token) {
      const first = verifyNow(token);
      if (first !== undefined) return first;
      await keySet.refresh();
      return counted(() => judge(token, true) as VerifiedToken);
    },
    refresh: () => keySet.refresh(),
    get ready() {
      return keySet.loaded;
    },
    get issuer() {
      return keySet.issuer;
    },
    get metrics() {
      return { ...keySet.metrics, ...counters, ...memory.metrics() };
    },
    keySet,
  };
}

const CLAIM_CHECKS = Object.values(claimValidators);
const TIME_CHECKS = Object.values(timeValidators);

function checkClaims(payload: JsonObject, context: ClaimContext, checks = CLAIM_CHECKS): void {
  for (const validate of checks) validate(payload, context);
}

/** The options, checked once: a verifier that could accept what it should not never starts. */
function settingsFrom(options: VerifierOptions): Settings {
  const audiences = typeof options.audience === 'string' ? [options.audience] : [...(options.audience ?? [])];
  if (audiences.length === 0 || audiences.some((a) => typeof a !== 'string' || a.length === 0)) {
    throw new BearerConfigError('audience must be a non-empty string or array of strings');
  }
  const algorithms = options.algorithms ?? ['RS256'];
  if (algorithms.length === 0) throw new BearerConfigError('algorithms must not be empty');
  for (const alg of algorithms) {
    // Never "none", never HMAC (a public key would become the shared secret).
    if (!ASYMMETRIC_ALGORITHMS.includes(alg)) {
      throw new BearerConfigError(`algorithm ${alg} cannot be allowed: only asymmetric JWS algorithms are`);
    }
  }
  const profile = PROFILES[options.profile ?? 'rfc9068'];
  if (profile === undefined) throw new BearerConfigError(`unknown profile ${String(options.profile)}`);
  const tolerance = options.clockToleranceSeconds ?? 5;
  if (!(tolerance >= 0 && tolerance <= 300)) {
    throw new BearerConfigError('clockToleranceSeconds must be within 0..300');
  }
  return {
    audiences,
    algorithms: new Set(algorithms),
    profile,
    clockToleranceSeconds: tolerance,
    maxTokenAgeSeconds: options.maxTokenAgeSeconds,
    maxLength: options.maxTokenLength ?? DEFAULT_MAX_TOKEN_LENGTH,
    cacheEntries: options.cache === false ? 0 : (options.cache?.maxEntries ?? 10_000),
    now: options.now ?? Date.now,
  };
}

/**
 * What earlier verifications taught: verified claims (re-checked for time on every hit) and bad
 * signatures (a given string fails the same way against the same keys). Both are keyed by a hash
 * of the token and emptied whenever the key set changes.
 */
class Memory {
  readonly #verified: VerifiedTokenCache | undefined;
  readonly #badSignatures: VerifiedTokenCache<{ expiresAtMs: number; generation: number }> | undefined;
  readonly #keySet: KeySet;
  readonly #now: () => number;
  #badSignatureHits = 0;

  constructor(settings: Settings, keySet: KeySet) {
    const entries = settings.cacheEntries;
    this.#verified = entries > 0 ? new VerifiedTokenCache(entries) : undefined;
    this.#badSignatures = entries > 0 ? new VerifiedTokenCache(Math.min(1000, entries)) : undefined;
    this.#keySet = keySet;
    this.#now = settings.now;
    keySet.onChange(() => {
      this.#verified?.clear();
      this.#badSignatures?.clear();
    });
  }

  keyOf(token: string): string | undefined {
    return this.#verified === undefined ? undefined : VerifiedTokenCache.keyOf(token);
  }

  /** A token verified before (its time claims judged again), a known bad signature (throws), or nothing. */
  recall(token: string, key: string | undefined, context: () => ClaimContext): VerifiedToken | undefined {
    if (key === undefined) return undefined;
    const generation = this.#keySet.generation;
    const hit = this.#verified!.get(key, generation, this.#now());
    if (hit !== undefined) {
      checkClaims(hit.payload, context(), TIME_CHECKS);
      return { header: hit.header, payload: hit.payload, token };
    }
    if (this.#badSignatures!.get(key, generation, this.#now()) !== undefined) {
      this.#badSignatureHits++;
      throw BAD_SIGNATURE;
    }
    return undefined;
  }

  rememberBadSignature(key: string | undefined): void {
    if (key === undefined) return;
    this.#badSignatures!.set(key, {
      expiresAtMs: this.#now() + BAD_SIGNATURE_MEMORY_MS,
      generation: this.#keySet.generation,
    });
  }

  /** Freezes the claims (cache hits hand the same objects to every request) and keeps them. */
  remember(token: string, key: string | undefined, header: JsonObject, payload: JsonObject): VerifiedToken {
    deepFreeze(header);
    deepFreeze(payload);
    if (key !== undefined) {
      this.#verified!.set(key, {
        header,
        payload,
        expiresAtMs: (payload['exp'] as number) * 1000,
        generation: this.#keySet.generation,
      });
    }
    return { header, payload, token };
  }

  metrics() {
    return { cacheSize: this.#verified?.size ?? 0, badSignatureHits: this.#badSignatureHits };
  }
}

function deepFreeze(value: unknown): void {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return;
  Object.freeze(value);
  for (const child of Object.values(value)) deepFreeze(child);
}
