// JOSE header checks (RFC 8725 §3.1, §3.11; RFC 9068 §4), all before any key is looked up.
import { InvalidTokenError } from './errors.ts';
import { ASYMMETRIC_ALGORITHMS } from './key-table.ts';
import type { TokenProfile } from './profiles.ts';

export { ASYMMETRIC_ALGORITHMS };

// Headers that point at or embed key material: trusting them lets the token pick its own key.
const KEY_HEADERS = ['jku', 'x5u', 'x5c', 'jwk'] as const;

/** A header value as shown in an error: JSON, printable ASCII, short (it comes from the caller). */
const show = (value: unknown): string => {
  const text = (JSON.stringify(value ?? null) ?? 'null').replace(/[^\x20-\x7e]/g, '?');
  return text.length > 40 ? `${text.slice(0, 40)}...` : text;
};

export function normalizeTyp(typ: string): string {
  const lower = typ.toLowerCase();
  return lower.startsWith('application/') ? lower.slice('application/'.length) : lower;
}

export function validateHeader(
  header: Record<string, unknown>,
  allowed: ReadonlySet<string>,
  profile: TokenProfile,
): void {
  const { alg, typ, kid } = header;
  if (typeof alg !== 'string' || !allowed.has(alg)) {
    throw new InvalidTokenError(
      `The token's alg ${show(alg)} is not allowed (allowed: ${[...allowed].join(', ')}).`,
      'ERR_TOKEN_ALG_NOT_ALLOWED',
    );
  }
  for (const name of KEY_HEADERS) {
    if (name in header) {
      throw new InvalidTokenError(
        `The token's "${name}" header is refused: keys come only from the issuer's JWKS.`,
        'ERR_TOKEN_UNTRUSTED_KEY_HEADER',
      );
    }
  }
  if ('crit' in header) {
    throw new InvalidTokenError(
      'The token has critical header extensions this API does not support.',
      'ERR_TOKEN_CRIT',
    );
  }
  if (typeof typ !== 'string' || !profile.typ.includes(normalizeTyp(typ))) {
    throw new InvalidTokenError(
      `The token's typ ${show(typ)} is not an access-token type (expected ${profile.typ.join(' or ')}).`,
      'ERR_TOKEN_TYP',
    );
  }
  if (kid !== undefined && (typeof kid !== 'string' || kid.length === 0 || kid.length > 256)) {
    throw new InvalidTokenError('The token\'s "kid" header is not a usable key id.', 'ERR_TOKEN_MALFORMED');
  }
}
