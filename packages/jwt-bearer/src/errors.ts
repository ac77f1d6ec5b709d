// Every rejection is a class that carries its own HTTP status, RFC 6750 §3 challenge and a
// stable `code` callers can switch on, so adapters (Express or other) need no `if` ladder.

/** Stable codes: part of the public API, never renamed. */
export type BearerErrorCode =
  | 'ERR_BEARER_MISSING'
  | 'ERR_BEARER_INVALID_REQUEST'
  | 'ERR_BEARER_MULTIPLE_METHODS'
  | 'ERR_BEARER_QUERY_REFUSED'
  | 'ERR_TOKEN_TOO_LARGE'
  | 'ERR_TOKEN_MALFORMED'
  | 'ERR_TOKEN_ALG_NOT_ALLOWED'
  | 'ERR_TOKEN_TYP'
  | 'ERR_TOKEN_UNTRUSTED_KEY_HEADER'
  | 'ERR_TOKEN_CRIT'
  | 'ERR_TOKEN_KID_UNKNOWN'
  | 'ERR_TOKEN_SIGNATURE'
  | 'ERR_TOKEN_EXPIRED'
  | 'ERR_TOKEN_NOT_YET_VALID'
  | 'ERR_TOKEN_IAT'
  | 'ERR_TOKEN_ISSUER'
  | 'ERR_TOKEN_AUDIENCE'
  | 'ERR_TOKEN_CLAIM_MISSING'
  | 'ERR_TOKEN_CLAIM_INVALID'
  | 'ERR_INSUFFICIENT_SCOPE'
  | 'ERR_DPOP_PROOF'
  | 'ERR_DPOP_BOUND_AS_BEARER'
  | 'ERR_DPOP_NOT_BOUND'
  | 'ERR_DPOP_REQUIRED'
  | 'ERR_DPOP_REPLAY_FULL'
  | 'ERR_DPOP_KEY_BUSY'
  | 'ERR_JWKS_UNAVAILABLE';

export type ErrorBody = { error: string; error_description: string };

/** The HTTP authentication schemes an access token may come with (RFC 6750, RFC 9449). */
export type AuthScheme = 'Bearer' | 'DPoP';

/** RFC 9449 §7.1: a DPoP challenge names the proof algorithms the server takes. */
export const DPOP_CHALLENGE_ALGS = 'ES256 ES384 ES512 PS256 PS384 PS512 RS256 EdDSA Ed25519';

// RFC 6750 §3: error_description is limited to %x20-21 / %x23-5B / %x5D-7E: a double quote
// becomes a single one, a backslash and anything non-ASCII (possibly echoed from a token) "?".
const quote = (value: string): string =>
  value.replace(/"/g, "'").replace(/[^\x20-\x21\x23-\x5b\x5d-\x7e]/g, '?');

/** One challenge (RFC 9110 §11.6.1): `Bearer realm="api", error="...", error_description="..."`. */
export function challenge(scheme: string, realm: string, params: Record<string, string | undefined>): string {
  const parts = [`realm="${quote(realm)}"`];
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined) parts.push(`${name}="${quote(value)}"`);
  }
  return `${scheme} ${parts.join(', ')}`;
}

export abstract class BearerError extends Error {
  abstract readonly status: number;
  /** RFC 6750 error code; undefined when the challenge must carry none (no credentials). */
  abstract readonly error: string | undefined;
  readonly code: BearerErrorCode;
  readonly description: string;

  constructor(code: BearerErrorCode, description: string, options?: { cause?: unknown }) {
    // A refusal is an answer, not a bug: capturing its stack would cost more than the
    // signature check an attacker makes us do, and no one reads it.
    const stackTraceLimit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(description, options);
    Error.stackTraceLimit = stackTraceLimit;
    this.name = new.target.name;
    this.code = code;
    this.description = description;
  }

  /** Alias of `status`, for error handlers that read `statusCode`. */
  get statusCode(): number {
    return this.status;
  }

  /** The challenge parameters after the realm; subclasses add their own (scope). */
  protected challengeParams(): Record<string, string | undefined> {
    return { error: this.error, error_description: this.description };
  }

  /** The `WWW-Authenticate` challenges of this refusal, one per scheme the caller could use. */
  challenges(realm = 'api', schemes: readonly AuthScheme[] = ['Bearer']): string[] {
    const params = this.challengeParams();
    return schemes.map((scheme) =>
      challenge(scheme, realm, scheme === 'DPoP' ? { ...params, algs: DPOP_CHALLENGE_ALGS } : params),
    );
  }

  /** Response headers for this rejection. */
  headers(realm = 'api', schemes: readonly AuthScheme[] = ['Bearer']): Record<string, string> {
    return { 'WWW-Authenticate': this.challenges(realm, schemes).join(', ') };
  }

  body(): ErrorBody {
    return { error: this.error ?? 'unauthorized', error_description: this.description };
  }
}

/** RFC 6750 §3.1: the request carries no bearer credentials at all: 401, no error code. */
export class MissingCredentialsError extends BearerError {
  readonly status = 401;
  readonly error = undefined;
  constructor(description = 'An Authorization header with a Bearer access token is required.') {
    super('ERR_BEARER_MISSING', description);
  }
  protected override challengeParams(): Record<string, string | undefined> {
    return {};
  }
}

/** RFC 6750 §3.1 invalid_request: malformed request, more than one method, token in the query. */
export class InvalidRequestError extends BearerError {
  readonly status = 400;
  readonly error = 'invalid_request';
  constructor(
    description = 'The request is malformed.',
    code: BearerErrorCode = 'ERR_BEARER_INVALID_REQUEST',
    options?: { cause?: unknown },
  ) {
    super(code, description, options);
  }
}

/** RFC 6750 §3.1 invalid_token: expired, revoked, malformed, forged, or meant for someone else. */
export class InvalidTokenError extends BearerError {
  readonly status = 401;
  readonly error = 'invalid_token';
  constructor(
    description = 'The access token is invalid.',
    code: BearerErrorCode = 'ERR_TOKEN_MALFORMED',
    options?: { cause?: unknown },
  ) {
    super(code, description, options);
  }
}

/** RFC 6750 §3.1 insufficient_scope: a genuine token without what the route needs. */
export class InsufficientScopeError extends BearerError {
  readonly status = 403;
  readonly error = 'insufficient_scope';
  readonly scopes: readonly string[];
  constructor(scopes: readonly string[] = [], description?: string) {
    super(
      'ERR_INSUFFICIENT_SCOPE',
      description ?? `The access token lacks the required scope: ${scopes.join(' ') || '(claim check)'}.`,
    );
    this.scopes = scopes;
  }
  protected override challengeParams(): Record<string, string | undefined> {
    return { ...super.challengeParams(), scope: this.scopes.length > 0 ? this.scopes.join(' ') : undefined };
  }
}

/**
 * A refusal for now, not a judgement of the token: no challenge (the credentials are not at fault) and
 * `Retry-After`, so that the client tries again later instead of signing in again.
 */
export abstract class RetryLaterError extends BearerError {
  readonly retryAfterSeconds: number;
  constructor(
    code: BearerErrorCode,
    description: string,
    retryAfterSeconds = 5,
    options?: { cause?: unknown },
  ) {
    super(code, description, options);
    this.retryAfterSeconds = retryAfterSeconds;
  }
  override challenges(): string[] {
    return [];
  }
  override headers(): Record<string, string> {
    return { 'Retry-After': String(this.retryAfterSeconds) };
  }
}

/**
 * The issuer's keys have never been loaded (discovery or JWKS unreachable at start): the
 * token cannot be judged yet, which is the server's state, not the caller's fault: 503.
 */
export class KeySetUnavailableError extends RetryLaterError {
  readonly status = 503;
  readonly error = 'temporarily_unavailable';
  constructor(description: string, retryAfterSeconds = 5, options?: { cause?: unknown }) {
    super('ERR_JWKS_UNAVAILABLE', description, retryAfterSeconds, options);
  }
}

/** A verifier or check refused its own options: thrown once, at start-up, never per request. */
export class BearerConfigError extends TypeError {
  override name = 'BearerConfigError';
}

export const isBearerError = (value: unknown): value is BearerError => value instanceof BearerError;
