// Structural decoding of a JWS compact token without any key: the cheap checks that let a
// malformed token be refused before a key lookup or a signature check.
import { InvalidTokenError } from './errors.ts';

export type JsonObject = Record<string, unknown>;

export type DecodedToken = {
  header: JsonObject;
  payload: JsonObject;
  /** The token as received, for the signature check. */
  compact: string;
};

const SEGMENT = /^[A-Za-z0-9_-]*$/;
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/**
 * True when the segment's last character leaves its unused low bits at zero (RFC 4648 §3.5).
 * Decoders ignore those bits, so without this check one signature has 16 spellings that all
 * verify: a token would not be one string (deny-lists, replay caches and logs keyed on the
 * token could be sidestepped by re-spelling it).
 */
function isCanonical(segment: string): boolean {
  const unusedBits = segment.length % 4 === 2 ? 4 : segment.length % 4 === 3 ? 2 : 0;
  if (unusedBits === 0 || segment.length === 0) return true;
  return (ALPHABET.indexOf(segment.at(-1)!) & ((1 << unusedBits) - 1)) === 0;
}

function decodeSegment(segment: string, what: 'header' | 'payload'): JsonObject {
  // base64url without padding: a length of 4n+1 cannot be decoded exactly (RFC 4648 §5).
  if (segment.length === 0 || segment.length % 4 === 1 || !SEGMENT.test(segment) || !isCanonical(segment)) {
    throw new InvalidTokenError(`The token's ${what} is not base64url.`, 'ERR_TOKEN_MALFORMED');
  }
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
  } catch {
    throw new InvalidTokenError(`The token's ${what} is not JSON.`, 'ERR_TOKEN_MALFORMED');
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new InvalidTokenError(`The token's ${what} is not a JSON object.`, 'ERR_TOKEN_MALFORMED');
  }
  return value as JsonObject;
}

/** Splits and decodes `header.payload.signature`; refuses JWE (5 parts) and anything else. */
export function decodeToken(compact: string): DecodedToken {
  const parts = compact.split('.');
  if (parts.length === 5) {
    throw new InvalidTokenError('Encrypted (JWE) access tokens are not accepted.', 'ERR_TOKEN_MALFORMED');
  }
  if (parts.length !== 3) {
    throw new InvalidTokenError(
      'The access token is not a JWT (header.payload.signature).',
      'ERR_TOKEN_MALFORMED',
    );
  }
  const header = decodeSegment(parts[0]!, 'header');
  const payload = decodeSegment(parts[1]!, 'payload');
  const signature = parts[2]!;
  if (!SEGMENT.test(signature) || signature.length % 4 === 1 || !isCanonical(signature)) {
    throw new InvalidTokenError("The token's signature is not base64url.", 'ERR_TOKEN_MALFORMED');
  }
  // An empty signature is what alg "none" looks like; the header check names the alg first.
  return { header, payload, compact };
}
