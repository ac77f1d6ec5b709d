// RFC 9449 §4.3 and §7.1: check a DPoP proof sent with a DPoP-bound access token. Cheapest refusals first;
// the one signature check (with the key the proof itself carries) comes last, then the binding to the token.
import { createHash } from 'node:crypto';
import { calculateJwkThumbprint, EmbeddedJWK, type JWK, errors as joseErrors, jwtVerify } from 'jose';
import { DPOP_ALGORITHMS } from './algorithms.ts';
import { InvalidDpopProofError } from './errors.ts';
import type { ReplayCache } from './replay-cache.ts';

export type DpopCheckOptions = {
  algorithms?: readonly string[];
  /** How old a proof may be (its `iat`), in seconds (default 60); also how long a `jti` is remembered. */
  maxAgeSeconds?: number;
  /** Leeway for a proof from a client whose clock runs ahead, in seconds (default 5). */
  clockToleranceSeconds?: number;
  replay: ReplayCache;
  now?: () => number;
};

export type DpopRequest = {
  /** The DPoP header values (exactly one is allowed). */
  proof: string | readonly string[] | undefined;
  method: string;
  /** The absolute URL the request was sent to, as the client saw it. */
  url: string;
  /** The access token presented with the proof (its hash is `ath`). */
  accessToken: string;
  /** The token's `cnf.jkt`: the thumbprint of the key it is bound to. */
  boundTo: string;
};

const MAX_PROOF_LENGTH = 8192;
const PRIVATE_JWK_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];
const JWS_COMPACT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/**
 * The URL as RFC 9449 compares `htu`: without query and fragment, normalised per RFC 3986 §6.2.2 and
 * §6.2.3 (case, default port, empty path, dot segments by the URL parser; percent-encoding here).
 */
export function normaliseHtu(value: string): string | undefined {
  if (!URL.canParse(value)) return undefined;
  const url = new URL(value);
  url.search = '';
  url.hash = '';
  return url.href.replace(/%([0-9a-f]{2})/gi, (encoded, hex: string) => {
    const char = String.fromCharCode(Number.parseInt(hex, 16));
    return /[A-Za-z0-9\-._~]/.test(char) ? char : encoded.toUpperCase();
  });
}

export const accessTokenHash = (accessToken: string): string =>
  createHash('sha256').update(accessToken).digest('base64url');

/** Verifies the proof of one request; resolves with the key's thumbprint, or throws InvalidDpopProofError. */
export async function verifyDpopProof(request: DpopRequest, options: DpopCheckOptions): Promise<string> {
  const proof = singleProof(request.proof);
  const algorithms = options.algorithms ?? DPOP_ALGORITHMS;
  const maxAge = options.maxAgeSeconds ?? 60;
  const tolerance = options.clockToleranceSeconds ?? 5;
  const nowMs = (options.now ?? Date.now)();

  const header = protectedHeader(proof);
  if (typeof header.typ !== 'string' || header.typ.toLowerCase() !== 'dpop+jwt') {
    throw new InvalidDpopProofError('The DPoP proof must have typ "dpop+jwt".');
  }
  if (typeof header.alg !== 'string' || !algorithms.includes(header.alg)) {
    throw new InvalidDpopProofError(`The DPoP proof's algorithm must be one of ${algorithms.join(' ')}.`);
  }
  const jwk = header.jwk as JWK | undefined;
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) {
    throw new InvalidDpopProofError('The DPoP proof must carry its public key in the jwk header.');
  }
  if (PRIVATE_JWK_MEMBERS.some((member) => member in jwk)) {
    throw new InvalidDpopProofError(
      'The DPoP proof carries a private key: it must carry only the public key.',
    );
  }

  let payload: Record<string, unknown>;
  try {
    ({ payload } = await jwtVerify(proof, EmbeddedJWK, {
      typ: 'dpop+jwt',
      algorithms: [...algorithms],
      currentDate: new Date(nowMs),
      maxTokenAge: maxAge,
      clockTolerance: tolerance,
      requiredClaims: ['iat', 'jti', 'htm', 'htu'],
    }));
  } catch (error) {
    throw new InvalidDpopProofError(describe(error), { cause: error });
  }

  if (typeof payload.jti !== 'string' || payload.jti === '' || payload.jti.length > 256) {
    throw new InvalidDpopProofError('The DPoP proof needs a jti of 1 to 256 characters.');
  }
  if (payload.htm !== request.method) {
    throw new InvalidDpopProofError('The DPoP proof was made for another HTTP method (htm).');
  }
  const htu = typeof payload.htu === 'string' ? normaliseHtu(payload.htu) : undefined;
  if (htu === undefined || htu !== normaliseHtu(request.url)) {
    throw new InvalidDpopProofError('The DPoP proof was made for another URL (htu).');
  }
  if (payload.ath !== accessTokenHash(request.accessToken)) {
    throw new InvalidDpopProofError('The DPoP proof was made for another access token (ath).');
  }
  const thumbprint = await calculateJwkThumbprint(jwk);
  if (thumbprint !== request.boundTo) {
    throw new InvalidDpopProofError('The DPoP proof is signed by a key the access token is not bound to.');
  }
  // Remembered as long as its iat could still be accepted: a replay within that window is refused.
  const expiresAtMs = ((payload.iat as number) + maxAge + tolerance) * 1000;
  if (!options.replay.firstUse(`${thumbprint}:${payload.jti}`, expiresAtMs, nowMs)) {
    throw new InvalidDpopProofError('The DPoP proof was used before (jti).');
  }
  return thumbprint;
}

function singleProof(values: DpopRequest['proof']): string {
  const list = values === undefined ? [] : typeof values === 'string' ? [values] : values;
  if (list.length !== 1) {
    throw new InvalidDpopProofError(
      list.length === 0
        ? 'A DPoP-bound access token needs a DPoP proof header.'
        : 'Send exactly one DPoP header.',
    );
  }
  const proof = list[0]!.trim();
  if (proof.length > MAX_PROOF_LENGTH || !JWS_COMPACT.test(proof)) {
    throw new InvalidDpopProofError('The DPoP header is not a compact JWT.');
  }
  return proof;
}

function protectedHeader(proof: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(
      Buffer.from(proof.slice(0, proof.indexOf('.')), 'base64url').toString('utf8'),
    );
    if (typeof value === 'object' && value !== null && !Array.isArray(value))
      return value as Record<string, unknown>;
  } catch {
    // below
  }
  throw new InvalidDpopProofError('The DPoP proof header is not a JSON object.');
}

function describe(error: unknown): string {
  if (
    error instanceof joseErrors.JWTExpired ||
    (error instanceof joseErrors.JWTClaimValidationFailed && error.claim === 'iat')
  ) {
    return 'The DPoP proof is too old or from the future (iat).';
  }
  if (error instanceof joseErrors.JWSSignatureVerificationFailed)
    return 'The DPoP proof signature is invalid.';
  if (error instanceof joseErrors.JWTClaimValidationFailed)
    return `The DPoP proof lacks a valid ${error.claim} claim.`;
  return 'The DPoP proof could not be verified.';
}
