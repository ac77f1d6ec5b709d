// Layer 2: verify a JWT access token. Cheapest refusals first: size, structure, header (alg,
// typ, key headers), claims (time, audience, issuer), key lookup (unknown kid), and only then
// the signature, so a flood of forged tokens costs at most one signature check each.
import { compactVerify } from 'jose';
import { decodeToken, type JsonObject } from './decode-token.ts';
import { InvalidTokenError, KeySetUnavailableError } from './errors.ts';
import { DEFAULT_MAX_TOKEN_LENGTH } from './extract-token.ts';
import { type KeySetMetrics, type KeySetOptions, RemoteKeySet } from './jwks-cache.ts';
import { PROFILES, type ProfileName } from './profiles.ts';
import { type ClaimContext, timeValidators, validateClaims } from './validate-claims.ts';
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
   * Synchronous fast path: the cached result for a token verified before (time claims
   * re-checked), an InvalidTokenError for a replayed bad signature, or undefined: then call
   * verify().
   */
  verifyCached(token: string): VerifiedToken | undefined;
  /** Fetches discovery and JWKS now; resolves true when keys are loaded. */
  refresh(): Promise<boolean>;
  readonly ready: boolean;
  readonly issuer: string | undefined;
  readonly metrics: VerifierMetrics;
  readonly keySet: RemoteKeySet;
};

export function createVerifier(options: VerifierOptions): JwtVerifier {
  const audiences = typeof options.audience === 'string' ? [options.audience] : [...options.audience];
  if (audiences.length === 0 || audiences.some((a) => typeof a !== 'string' || a.length === 0)) {
    throw new TypeError('audience must be a non-empty string or array of strings');
  }
  const algorithms = options.algorithms ?? ['RS256'];
  for (const alg of algorithms) {
    // RFC 8725 §3.1/§3.2: never "none", never HMAC (a public key would become the shared secret).
    if (!ASYMMETRIC_ALGORITHMS.includes(alg)) {
      throw new TypeError(`algorithm ${alg} cannot be allowed: only asymmetric JWS algorithms are`);
    }
  }
  if (algorithms.length === 0) throw new TypeError('algorithms must not be empty');
  const allowed = new Set(algorithms);
  const profile = PROFILES[options.profile ?? 'rfc9068'];
  if (profile === undefined) throw new TypeError(`unknown profile ${String(options.profile)}`);
  const tolerance = options.clockToleranceSeconds ?? 5;
  if (!(tolerance >= 0 && tolerance <= 300))
    throw new TypeError('clockToleranceSeconds must be within 0..300');
  const maxLength = options.maxTokenLength ?? DEFAULT_MAX_TOKEN_LENGTH;
  const now = options.now ?? Date.now;

  const keySet = new RemoteKeySet(options);
  const maxEntries = options.cache === false ? 0 : (options.cache?.maxEntries ?? 10_000);
  const cache = maxEntries > 0 ? new VerifiedTokenCache(maxEntries) : undefined;
  const badSignatures =
    maxEntries > 0
      ? new VerifiedTokenCache<{ expiresAtMs: number; generation: number }>(Math.min(1000, maxEntries))
      : undefined;
  keySet.onChange(() => {
    cache?.clear();
    badSignatures?.clear();
  });

  const counters = { verifications: 0, signatureChecks: 0, cacheHits: 0, badSignatureHits: 0, rejections: 0 };

  const context = (issuer: string): ClaimContext => ({
    issuer,
    audiences,
    now: Math.floor(now() / 1000),
    clockToleranceSeconds: tolerance,
    maxTokenAgeSeconds: options.maxTokenAgeSeconds,
    profile,
  });

  /** What the caches know about this token: its verified claims, a known bad signature (throws), or nothing. */
  function cachedResult(token: string, cacheKey: string): VerifiedToken | undefined {
    const hit = cache?.get(cacheKey, keySet.generation, now());
    if (hit !== undefined) {
      // Time passes between hits: exp and nbf are judged again every time.
      validateClaims(hit.payload, context(keySet.issuer!), timeValidators);
      counters.cacheHits++;
      return { header: hit.header, payload: hit.payload, token };
    }
    // The same string fails the same way against the same keys: a replayed forgery is refused
    // here, before any decoding.
    if (badSignatures?.get(cacheKey, keySet.generation, now())) {
      counters.badSignatureHits++;
      throw new InvalidTokenError('The access token signature is invalid.', 'ERR_TOKEN_SIGNATURE');
    }
    return undefined;
  }

  async function verifyUncounted(token: string): Promise<VerifiedToken> {
    if (typeof token !== 'string' || token.length === 0) {
      throw new InvalidTokenError('The access token is empty.', 'ERR_TOKEN_MALFORMED');
    }
    if (token.length > maxLength) {
      throw new InvalidTokenError(
        `The access token is longer than ${maxLength} characters.`,
        'ERR_TOKEN_TOO_LARGE',
      );
    }
    const cacheKey = cache ? VerifiedTokenCache.keyOf(token) : undefined;
    const hit = cacheKey !== undefined ? cachedResult(token, cacheKey) : undefined;
    if (hit) return hit;

    const { header, payload } = decodeToken(token);
    validateHeader(header, allowed, profile);
    if (token.endsWith('.')) {
      throw new InvalidTokenError('The token has no signature.', 'ERR_TOKEN_MALFORMED');
    }
    await keySet.ensureLoaded(); // the exact issuer may only be known from discovery
    validateClaims(payload, context(keySet.issuer!));
    const key = await keySet.getKey(header);

    counters.signatureChecks++;
    try {
      await compactVerify(token, key, { algorithms: [...allowed] });
    } catch (error) {
      if (cacheKey !== undefined) {
        badSignatures?.set(cacheKey, { expiresAtMs: now() + 5 * 60_000, generation: keySet.generation });
      }
      throw new InvalidTokenError('The access token signature is invalid.', 'ERR_TOKEN_SIGNATURE', {
        cause: error,
      });
    }

    // Cache hits hand the same objects to every request that presents this token: read-only,
    // so no middleware can change what a later request sees.
    deepFreeze(header);
    deepFreeze(payload);
    if (cache && cacheKey !== undefined) {
      cache.set(cacheKey, {
        header,
        payload,
        expiresAtMs: (payload['exp'] as number) * 1000,
        generation: keySet.generation,
      });
    }
    return { header, payload, token };
  }

  return {
    async verify(token) {
      counters.verifications++;
      try {
        return await verifyUncounted(token);
      } catch (error) {
        counters.rejections++;
        if (error instanceof InvalidTokenError || error instanceof KeySetUnavailableError) throw error;
        // Anything unexpected is still the token's refusal, never a 5xx with a stack trace.
        throw new InvalidTokenError('The access token could not be verified.', 'ERR_TOKEN_MALFORMED', {
          cause: error,
        });
      }
    },
    verifyCached(token) {
      if (
        cache === undefined ||
        typeof token !== 'string' ||
        token.length === 0 ||
        token.length > maxLength
      ) {
        return undefined;
      }
      const key = VerifiedTokenCache.keyOf(token);
      try {
        const hit = cachedResult(token, key);
        if (hit) counters.verifications++;
        return hit;
      } catch (error) {
        counters.verifications++;
        counters.rejections++;
        throw error;
      }
    },
    refresh: () => keySet.refresh(),
    get ready() {
      return keySet.loaded;
    },
    get issuer() {
      return keySet.issuer;
    },
    get metrics() {
      return { ...keySet.metrics, ...counters, cacheSize: cache?.size ?? 0 };
    },
    keySet,
  };
}

function deepFreeze(value: unknown): void {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return;
  Object.freeze(value);
  for (const child of Object.values(value)) deepFreeze(child);
}
