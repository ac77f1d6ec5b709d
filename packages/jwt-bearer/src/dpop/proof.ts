// RFC 9449 §4.3 and §7.1: check a DPoP proof sent with a DPoP-bound access token. Cheapest refusals first;
// the one signature check (node:crypto, synchronous, with the key the proof itself carries) comes after
// the request checks, then the binding to the token and the replay check.
import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { KeyTable } from '../key-table.ts';
import { DPOP_ALGORITHMS } from './algorithms.ts';
import { DpopKeyBusyError, DpopReplayFullError, InvalidDpopProofError } from './errors.ts';
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
const REPLAY_FULL = new DpopReplayFullError();
const KEY_BUSY = new DpopKeyBusyError();
const PRIVATE_JWK_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];
const JWS_COMPACT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
/** RFC 7638 §3.2: the members a thumbprint covers, per key type, in lexicographic order. */
const THUMBPRINT_MEMBERS: Record<string, readonly string[]> = {
  EC: ['crv', 'kty', 'x', 'y'],
  RSA: ['e', 'kty', 'n'],
  OKP: ['crv', 'kty', 'x'],
};

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

/** Which keys may make a proof with each algorithm (RFC 7518 §3): the key must fit `alg`, not merely sign. */
const KEY_FOR_ALG: Record<string, (jwk: Record<string, unknown>) => boolean> = {
  ES256: (k) => k.kty === 'EC' && k.crv === 'P-256',
  ES384: (k) => k.kty === 'EC' && k.crv === 'P-384',
  ES512: (k) => k.kty === 'EC' && k.crv === 'P-521',
  PS256: rsaOfUsualSize,
  PS384: rsaOfUsualSize,
  PS512: rsaOfUsualSize,
  RS256: rsaOfUsualSize,
  EdDSA: (k) => k.kty === 'OKP' && (k.crv === 'Ed25519' || k.crv === 'Ed448'),
  Ed25519: (k) => k.kty === 'OKP' && k.crv === 'Ed25519',
};

/** RSA from 2048 to 4096 bits: a larger modulus only makes each check (and the key's import) dearer. */
function rsaOfUsualSize(jwk: Record<string, unknown>): boolean {
  if (jwk.kty !== 'RSA' || typeof jwk.n !== 'string') return false;
  const bits = Math.floor((jwk.n.length * 6) / 8) * 8;
  return bits >= 2048 && bits <= 4096 + 8;
}

/** RFC 7638: the thumbprint over the key type's required members, from the JWK as sent (no import). */
function thumbprintOf(jwk: Record<string, unknown>): string {
  const members = THUMBPRINT_MEMBERS[String(jwk.kty)];
  if (!members || !members.every((m) => typeof jwk[m] === 'string')) {
    throw new InvalidDpopProofError('The DPoP proof key must be an EC, RSA or OKP public key.');
  }
  return createHash('sha256')
    .update(JSON.stringify(Object.fromEntries(members.map((m) => [m, jwk[m]]))))
    .digest('base64url');
}

// A page uses one key for all its proofs: its import is done once. Only a key some token is bound to
// gets here (the thumbprint is compared first), so a flood of made-up keys imports nothing.
const keys = new Map<string, KeyObject>();
const MAX_KEYS = 10_000;

function importKey(thumbprint: string, jwk: Record<string, unknown>): KeyObject {
  let key = keys.get(thumbprint);
  if (key === undefined) {
    const members = THUMBPRINT_MEMBERS[String(jwk.kty)]!;
    try {
      key = createPublicKey({ key: Object.fromEntries(members.map((m) => [m, jwk[m]])), format: 'jwk' });
    } catch {
      throw new InvalidDpopProofError('The DPoP proof key is not a usable public key.');
    }
    if (keys.size >= MAX_KEYS) keys.delete(keys.keys().next().value!);
    keys.set(thumbprint, key);
  }
  return key;
}

/** Verifies the proof of one request; returns the key's thumbprint, or throws InvalidDpopProofError. */
export function verifyDpopProof(request: DpopRequest, options: DpopCheckOptions): string {
  const proof = singleProof(request.proof);
  const algorithms = options.algorithms ?? DPOP_ALGORITHMS;
  const maxAge = options.maxAgeSeconds ?? 60;
  const tolerance = options.clockToleranceSeconds ?? 5;
  const nowMs = (options.now ?? Date.now)();

  const [headerPart, payloadPart] = proof.split('.');
  const header = jsonSegment(headerPart!, 'header');
  if (typeof header.typ !== 'string' || header.typ.toLowerCase() !== 'dpop+jwt') {
    throw new InvalidDpopProofError('The DPoP proof must have typ "dpop+jwt".');
  }
  if (typeof header.alg !== 'string' || !algorithms.includes(header.alg)) {
    throw new InvalidDpopProofError(`The DPoP proof's algorithm must be one of ${algorithms.join(' ')}.`);
  }
  const jwk = header.jwk;
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) {
    throw new InvalidDpopProofError('The DPoP proof must carry its public key in the jwk header.');
  }
  if (PRIVATE_JWK_MEMBERS.some((member) => member in jwk)) {
    throw new InvalidDpopProofError(
      'The DPoP proof carries a private key: it must carry only the public key.',
    );
  }
  const payload = jsonSegment(payloadPart!, 'payload');
  checkClaims(payload, request, nowMs / 1000, maxAge, tolerance);

  // The binding before any key work: a proof made with another key costs neither an import nor a check.
  const thumbprint = thumbprintOf(jwk as Record<string, unknown>);
  if (thumbprint !== request.boundTo) {
    throw new InvalidDpopProofError('The DPoP proof is signed by a key the access token is not bound to.');
  }
  if (!KEY_FOR_ALG[header.alg]?.(jwk as Record<string, unknown>)) {
    throw new InvalidDpopProofError(`The DPoP proof's key does not fit its algorithm ${header.alg}.`);
  }
  try {
    KeyTable.checkSignature(proof, header.alg, importKey(thumbprint, jwk as Record<string, unknown>));
  } catch {
    throw new InvalidDpopProofError('The DPoP proof signature is invalid.');
  }
  // Remembered as long as its iat could still be accepted: a replay within that window is refused.
  const expiresAtMs = ((payload.iat as number) + maxAge + tolerance) * 1000;
  const verdict = options.replay.record(thumbprint, payload.jti as string, expiresAtMs, nowMs);
  if (verdict === 'seen') throw new InvalidDpopProofError('The DPoP proof was used before (jti).');
  if (verdict === 'full') throw REPLAY_FULL;
  if (verdict === 'key-full') throw KEY_BUSY;
  return thumbprint;
}

function checkClaims(
  payload: Record<string, unknown>,
  request: DpopRequest,
  now: number,
  maxAge: number,
  tolerance: number,
): void {
  const { iat, jti, htm, htu, ath } = payload;
  if (
    typeof iat !== 'number' ||
    !Number.isFinite(iat) ||
    iat > now + tolerance ||
    iat < now - maxAge - tolerance
  ) {
    throw new InvalidDpopProofError('The DPoP proof is too old, from the future, or has no iat.');
  }
  if (typeof jti !== 'string' || jti === '' || jti.length > 256) {
    throw new InvalidDpopProofError('The DPoP proof needs a jti of 1 to 256 characters.');
  }
  if (htm !== request.method) {
    throw new InvalidDpopProofError('The DPoP proof was made for another HTTP method (htm).');
  }
  // The usual case, a proof made for exactly the URL requested (no query), needs no URL parsing.
  if (htu !== request.url) {
    const normalised = typeof htu === 'string' ? normaliseHtu(htu) : undefined;
    if (normalised === undefined || normalised !== normaliseHtu(request.url)) {
      throw new InvalidDpopProofError('The DPoP proof was made for another URL (htu).');
    }
  }
  if (ath !== accessTokenHash(request.accessToken)) {
    throw new InvalidDpopProofError('The DPoP proof was made for another access token (ath).');
  }
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

function jsonSegment(segment: string, what: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
    if (typeof value === 'object' && value !== null && !Array.isArray(value))
      return value as Record<string, unknown>;
  } catch {
    // below
  }
  throw new InvalidDpopProofError(`The DPoP proof ${what} is not a JSON object.`);
}
