// Claim validators as a table of small functions (RFC 7519 §4.1, RFC 9068 §4), run on the
// decoded payload before the signature check so that expired or misdirected tokens cost no RSA.
import { InvalidTokenError } from './errors.ts';
import type { TokenProfile } from './profiles.ts';

export type ClaimContext = {
  /** The issuer, exactly as the discovery document (or configuration) states it. */
  issuer: string;
  audiences: readonly string[];
  /** Seconds since the epoch. */
  now: number;
  clockToleranceSeconds: number;
  /** Refuse tokens whose iat is older than this many seconds; undefined: no limit. */
  maxTokenAgeSeconds: number | undefined;
  profile: TokenProfile;
};

type Payload = Record<string, unknown>;
type ClaimValidator = (payload: Payload, context: ClaimContext) => void;

const isNumericDate = (value: unknown): value is number =>
  typeof value === 'number' && Number.isFinite(value) && value >= 0;

const isNonEmptyString = (value: unknown): value is string => typeof value === 'string' && value.length > 0;

function numericDate(payload: Payload, name: string): number | undefined {
  const value = payload[name];
  if (value === undefined) return undefined;
  if (!isNumericDate(value)) {
    throw new InvalidTokenError(
      `The token's "${name}" claim is not a NumericDate.`,
      'ERR_TOKEN_CLAIM_INVALID',
    );
  }
  return value;
}

/** exp and nbf: the checks that are repeated on every cache hit. */
export const timeValidators: Readonly<Record<string, ClaimValidator>> = {
  exp(payload, { now, clockToleranceSeconds }) {
    const exp = numericDate(payload, 'exp');
    if (exp === undefined) {
      throw new InvalidTokenError('The token has no "exp" claim.', 'ERR_TOKEN_CLAIM_MISSING');
    }
    // RFC 7519 §4.1.4: the current time MUST be before exp.
    if (now - clockToleranceSeconds >= exp) {
      throw new InvalidTokenError('The access token has expired.', 'ERR_TOKEN_EXPIRED');
    }
  },
  nbf(payload, { now, clockToleranceSeconds }) {
    const nbf = numericDate(payload, 'nbf');
    if (nbf !== undefined && nbf > now + clockToleranceSeconds) {
      throw new InvalidTokenError('The access token is not valid yet (nbf).', 'ERR_TOKEN_NOT_YET_VALID');
    }
  },
  iat(payload, { now, clockToleranceSeconds, maxTokenAgeSeconds }) {
    const iat = numericDate(payload, 'iat');
    if (iat === undefined) return; // presence is the profile's business
    // Issued at or after the end of the tolerance window is the future, boundary included.
    if (iat >= now + clockToleranceSeconds) {
      throw new InvalidTokenError('The access token was issued in the future (iat).', 'ERR_TOKEN_IAT');
    }
    if (maxTokenAgeSeconds !== undefined && now - clockToleranceSeconds - iat > maxTokenAgeSeconds) {
      throw new InvalidTokenError('The access token is older than this API accepts.', 'ERR_TOKEN_EXPIRED');
    }
  },
};

export const claimValidators: Readonly<Record<string, ClaimValidator>> = {
  required(payload, { profile }) {
    for (const name of profile.requiredClaims) {
      if (payload[name] === undefined) {
        throw new InvalidTokenError(`The token has no "${name}" claim.`, 'ERR_TOKEN_CLAIM_MISSING');
      }
    }
    if (!profile.clientClaims.some((name) => isNonEmptyString(payload[name]))) {
      throw new InvalidTokenError(
        `The token names no client (${profile.clientClaims.join(' or ')}).`,
        'ERR_TOKEN_CLAIM_MISSING',
      );
    }
  },
  types(payload) {
    for (const name of ['sub', 'jti', 'client_id', 'azp'] as const) {
      if (payload[name] !== undefined && !isNonEmptyString(payload[name])) {
        throw new InvalidTokenError(
          `The token's "${name}" claim is not a string.`,
          'ERR_TOKEN_CLAIM_INVALID',
        );
      }
    }
    const { scope, permissions } = payload;
    if (scope !== undefined && typeof scope !== 'string') {
      throw new InvalidTokenError('The token\'s "scope" claim is not a string.', 'ERR_TOKEN_CLAIM_INVALID');
    }
    if (
      permissions !== undefined &&
      !(Array.isArray(permissions) && permissions.every((p) => typeof p === 'string'))
    ) {
      throw new InvalidTokenError(
        'The token\'s "permissions" claim is not an array of strings.',
        'ERR_TOKEN_CLAIM_INVALID',
      );
    }
  },
  ...timeValidators,
  aud(payload, { audiences }) {
    const { aud } = payload;
    const values = typeof aud === 'string' ? [aud] : aud;
    if (!Array.isArray(values) || !values.every((v) => typeof v === 'string')) {
      throw new InvalidTokenError(
        'The token\'s "aud" claim is not a string or an array of strings.',
        'ERR_TOKEN_AUDIENCE',
      );
    }
    if (!values.some((v) => audiences.includes(v))) {
      throw new InvalidTokenError('The access token is not meant for this API (aud).', 'ERR_TOKEN_AUDIENCE');
    }
  },
  // RFC 9068 §4: the issuer MUST match exactly; no trailing-slash leniency here.
  iss(payload, { issuer }) {
    if (payload['iss'] !== issuer) {
      throw new InvalidTokenError(
        'The access token was not issued by the expected issuer (iss).',
        'ERR_TOKEN_ISSUER',
      );
    }
  },
};

export function validateClaims(
  payload: Payload,
  context: ClaimContext,
  validators: Readonly<Record<string, ClaimValidator>> = claimValidators,
): void {
  for (const validate of Object.values(validators)) validate(payload, context);
}
