// The issuer's public keys, imported once into node:crypto KeyObjects, and the one signature
// check per token. node:crypto verifies synchronously: about half the CPU of WebCrypto (which
// jose uses) per RSA check and no thread-pool round trip, which matters most on the path an
// attacker chooses, a flood of distinct forged tokens.
import { constants, createPublicKey, type KeyObject, verify } from 'node:crypto';
import { BearerConfigError, InvalidTokenError } from './errors.ts';

export type PublicJwk = { kty?: string; kid?: string; alg?: string; use?: string; key_ops?: string[] };
export type JsonWebKeySet = { keys: readonly PublicJwk[] };

const PSS = constants.RSA_PKCS1_PSS_PADDING;

/**
 * How node:crypto checks each JWS algorithm (RFC 7518 §3). Without options the KeyObject itself
 * is passed: wrapping it in `{ key, ... }` makes node:crypto prepare the key again on every call,
 * half as much again as the RSA check itself.
 */
type Scheme = {
  kty: string;
  curves?: readonly string[];
  digest: string | null;
  options?: object;
  der?: boolean;
};

const SCHEMES: Readonly<Record<string, Scheme>> = {
  RS256: { kty: 'RSA', digest: 'sha256' },
  RS384: { kty: 'RSA', digest: 'sha384' },
  RS512: { kty: 'RSA', digest: 'sha512' },
  PS256: { kty: 'RSA', digest: 'sha256', options: { padding: PSS, saltLength: 32 } },
  PS384: { kty: 'RSA', digest: 'sha384', options: { padding: PSS, saltLength: 48 } },
  PS512: { kty: 'RSA', digest: 'sha512', options: { padding: PSS, saltLength: 64 } },
  // JWS carries r||s (RFC 7518 §3.4); node:crypto takes DER with the bare KeyObject, which is cheaper than
  // asking it to read r||s (dsaEncoding) through an options object.
  ES256: { kty: 'EC', curves: ['P-256'], digest: 'sha256', der: true },
  ES384: { kty: 'EC', curves: ['P-384'], digest: 'sha384', der: true },
  ES512: { kty: 'EC', curves: ['P-521'], digest: 'sha512', der: true },
  EdDSA: { kty: 'OKP', curves: ['Ed25519', 'Ed448'], digest: null },
  Ed25519: { kty: 'OKP', curves: ['Ed25519'], digest: null },
};

/** Asymmetric JWS algorithms a verifier may allow; "none" and HMAC are never among them. */
export const ASYMMETRIC_ALGORITHMS: readonly string[] = Object.keys(SCHEMES);

type Entry = { kid: string | undefined; alg: string | undefined; kty: string; crv: unknown; key: KeyObject };

const KID_UNKNOWN = new InvalidTokenError(
  "The token's signing key (kid) is not one of the issuer's keys.",
  'ERR_TOKEN_KID_UNKNOWN',
);
const KID_AMBIGUOUS = new InvalidTokenError(
  'The token names no key (kid) and the issuer has several that could have signed it.',
  'ERR_TOKEN_KID_UNKNOWN',
);
const BAD_SIGNATURE = new InvalidTokenError('The access token signature is invalid.', 'ERR_TOKEN_SIGNATURE');

/** Whether a JWK may verify signatures at all (RFC 7517 §4.2, §4.3). */
const isSigningKey = (jwk: PublicJwk): boolean =>
  (jwk.use === undefined || jwk.use === 'sig') &&
  (jwk.key_ops === undefined || (Array.isArray(jwk.key_ops) && jwk.key_ops.includes('verify')));

function importPublic(jwk: PublicJwk): KeyObject {
  if (jwk.kty === 'oct') throw new BearerConfigError('a symmetric (oct) key cannot verify access tokens');
  // Only the public members: a private JWK handed over by mistake is not kept in memory.
  const key = createPublicKey({ key: jwk as never, format: 'jwk' });
  // RFC 7518 §3.3: RSA keys of 2048 bits or more.
  if (key.asymmetricKeyType === 'rsa' && (key.asymmetricKeyDetails?.modulusLength ?? 0) < 2048) {
    throw new BearerConfigError('RSA keys shorter than 2048 bits are refused');
  }
  return key;
}

export class KeyTable {
  readonly #entries: readonly Entry[];
  /** Only key: used for any kid (a single public key given by configuration). */
  readonly #anyKid: boolean;

  private constructor(entries: Entry[], anyKid: boolean) {
    this.#entries = entries;
    this.#anyKid = anyKid;
  }

  /** A JWKS as published: keys that cannot verify (use "enc", unknown kty, malformed) are left out. */
  static fromJwks(jwks: unknown): KeyTable {
    const keys = (jwks as { keys?: unknown } | null)?.keys;
    if (!Array.isArray(keys)) throw new TypeError('The JWKS has no "keys" array');
    const entries: Entry[] = [];
    for (const jwk of keys as PublicJwk[]) {
      if (jwk === null || typeof jwk !== 'object' || !isSigningKey(jwk)) continue;
      try {
        const kid = typeof jwk.kid === 'string' ? jwk.kid : undefined;
        const alg = typeof jwk.alg === 'string' ? jwk.alg : undefined;
        entries.push({
          kid,
          alg,
          kty: String(jwk.kty),
          crv: (jwk as { crv?: unknown }).crv,
          key: importPublic(jwk),
        });
      } catch {
        // One unusable key does not make the others unusable.
      }
    }
    return new KeyTable(entries, false);
  }

  /** One public key (PEM SPKI or JWK) from configuration; it verifies whatever kid a token names. */
  static fromPublicKey(publicKey: string | PublicJwk): KeyTable {
    let key: KeyObject;
    try {
      if (typeof publicKey === 'string') {
        if (/PRIVATE KEY/.test(publicKey))
          throw new BearerConfigError('publicKey must be a public key, not a private one');
        key = createPublicKey(publicKey);
      } else {
        key = importPublic(publicKey);
      }
    } catch (error) {
      if (error instanceof BearerConfigError) throw error;
      throw new BearerConfigError(`publicKey cannot be imported: ${(error as Error).message}`);
    }
    const jwk = key.export({ format: 'jwk' }) as PublicJwk;
    const alg =
      typeof publicKey === 'object' && typeof publicKey.alg === 'string' ? publicKey.alg : undefined;
    return new KeyTable(
      [{ kid: undefined, alg, kty: String(jwk.kty), crv: (jwk as { crv?: unknown }).crv, key }],
      true,
    );
  }

  get size(): number {
    return this.#entries.length;
  }

  /** Whether a token naming this kid could find a key here (without a refetch). */
  knows(kid: unknown): boolean {
    return this.#anyKid || this.#entries.some((e) => e.kid === kid);
  }

  /** The key for a header; InvalidTokenError when none, or several without a kid to choose. */
  keyFor(alg: string, kid: string | undefined): KeyObject {
    const scheme = SCHEMES[alg];
    let found: Entry | undefined;
    for (const entry of this.#entries) {
      if (!this.#anyKid && kid !== undefined && entry.kid !== kid) continue;
      if (scheme === undefined || entry.kty !== scheme.kty) continue;
      if (scheme.curves !== undefined && !scheme.curves.includes(entry.crv as string)) continue;
      if (entry.alg !== undefined && entry.alg !== alg) continue;
      if (found !== undefined) throw KID_AMBIGUOUS;
      found = entry;
    }
    if (found === undefined) throw KID_UNKNOWN;
    return found.key;
  }

  /** One signature check over the token's own bytes: `header.payload` against the signature. */
  static checkSignature(token: string, alg: string, key: KeyObject): void {
    const scheme = SCHEMES[alg];
    const dot = token.lastIndexOf('.');
    if (scheme === undefined || dot < 0) throw BAD_SIGNATURE;
    const signingInput = Buffer.from(token.slice(0, dot), 'latin1'); // base64url: ASCII only
    const raw = Buffer.from(token.slice(dot + 1), 'base64url');
    const signature = scheme.der ? p1363ToDer(raw) : raw;
    if (signature === undefined) throw BAD_SIGNATURE;
    let valid = false;
    try {
      const input = scheme.options === undefined ? key : { key, ...scheme.options };
      valid = verify(scheme.digest, signingInput, input, signature);
    } catch {
      // A key that does not fit the algorithm (an EC key for RS256...) is a failed check.
    }
    if (!valid) throw BAD_SIGNATURE;
  }
}

/** An ECDSA signature r||s (two equal halves) as DER: SEQUENCE { INTEGER r, INTEGER s } (X9.62). */
function p1363ToDer(signature: Buffer): Buffer | undefined {
  if (signature.length === 0 || signature.length % 2 !== 0 || signature.length > 132) return undefined;
  const integer = (half: Buffer): Buffer => {
    let start = 0;
    while (start < half.length - 1 && half[start] === 0) start++;
    const body = half.subarray(start);
    // A set high bit would read as negative: a zero byte keeps the integer positive.
    return body[0]! & 0x80
      ? Buffer.concat([Buffer.from([0x02, body.length + 1, 0]), body])
      : Buffer.concat([Buffer.from([0x02, body.length]), body]);
  };
  const half = signature.length / 2;
  const content = Buffer.concat([integer(signature.subarray(0, half)), integer(signature.subarray(half))]);
  // P-521 signatures pass 127 bytes: then the length takes the long form (0x81 n).
  const length = content.length < 0x80 ? Buffer.from([content.length]) : Buffer.from([0x81, content.length]);
  return Buffer.concat([Buffer.from([0x30]), length, content]);
}

export { BAD_SIGNATURE, KID_UNKNOWN };
