// Layer 1: pull the bearer token out of a request, per RFC 6750 §2, and nothing else.
import {
  type AuthScheme,
  InvalidRequestError,
  InvalidTokenError,
  MissingCredentialsError,
} from './errors.ts';

/** The parts of an HTTP request that may carry a bearer token, framework-free. */
export type BearerRequest = {
  /** Every value of the Authorization header (Node: `req.headersDistinct.authorization`). */
  authorization?: string | readonly string[] | undefined;
  /** The parsed URL query. */
  query?: Readonly<Record<string, unknown>> | undefined;
  /** The parsed body; only read when `isFormBody` (RFC 6750 §2.2). */
  body?: unknown;
  /** True when the body is application/x-www-form-urlencoded and the method has a body (not GET/HEAD). */
  isFormBody?: boolean;
};

export type ExtractOptions = {
  /** RFC 6750 §2.3 URI query parameter; off by default because URLs end up in logs and Referer headers. */
  allowQuery?: boolean;
  /** RFC 6750 §2.2 form-encoded body parameter; on by default. */
  allowFormBody?: boolean;
  /** Tokens longer than this are refused before any parsing (default 8192 characters). */
  maxTokenLength?: number;
};

export const DEFAULT_MAX_TOKEN_LENGTH = 8192;

// RFC 6750 §2.1: credentials = "Bearer" 1*SP b64token; b64token = 1*( ALPHA / DIGIT / "-" / "." /
// "_" / "~" / "+" / "/" ) *"="; the scheme is case-insensitive (RFC 9110 §11.1). RFC 9449 §7.1: the
// DPoP scheme carries a token of the same syntax.
const BEARER_SCHEME = /^bearer(?: |$)/i;
const BEARER_CREDENTIALS = /^bearer +([A-Za-z0-9\-._~+/]+=*)$/i;
const DPOP_SCHEME = /^dpop(?: |$)/i;
const DPOP_CREDENTIALS = /^dpop +([A-Za-z0-9\-._~+/]+=*)$/i;

/** A token and the scheme it came with. */
export type Credentials = { scheme: AuthScheme; token: string };

function headerCredentials(
  authorization: BearerRequest['authorization'],
  dpop: boolean,
): Credentials | undefined {
  const value = singleAuthorization(authorization);
  if (value === undefined) return undefined;
  if (dpop && DPOP_SCHEME.test(value)) {
    const match = DPOP_CREDENTIALS.exec(value);
    if (!match) {
      throw new InvalidRequestError(
        'The Authorization header must be "DPoP <token>" with a token made of base64url characters (RFC 9449 §7.1).',
      );
    }
    return { scheme: 'DPoP', token: match[1]! };
  }
  const token = bearerToken(value);
  return token === undefined ? undefined : { scheme: 'Bearer', token };
}

function singleAuthorization(authorization: BearerRequest['authorization']): string | undefined {
  if (authorization === undefined) return undefined;
  const values = typeof authorization === 'string' ? [authorization] : authorization;
  if (values.length === 0) return undefined;
  if (values.length > 1) {
    throw new InvalidRequestError(
      'More than one Authorization header was sent.',
      'ERR_BEARER_MULTIPLE_METHODS',
    );
  }
  return values[0]!.trim();
}

function bearerToken(value: string): string | undefined {
  // Another scheme (Basic, Digest...) carries no bearer credentials: answered as "missing".
  if (!BEARER_SCHEME.test(value)) return undefined;
  const match = BEARER_CREDENTIALS.exec(value);
  if (!match) {
    throw new InvalidRequestError(
      'The Authorization header must be "Bearer <token>" with a token made of base64url characters (RFC 6750 §2.1).',
    );
  }
  return match[1]!;
}

function parameterToken(container: unknown, where: string): string | undefined {
  if (container === null || typeof container !== 'object') return undefined;
  if (!Object.hasOwn(container, 'access_token')) return undefined;
  const value = (container as Record<string, unknown>)['access_token'];
  if (typeof value !== 'string' || value.length === 0) {
    throw new InvalidRequestError(`The access_token ${where} parameter must appear once, with a value.`);
  }
  return value;
}

/**
 * Returns the one bearer token of the request, or throws: MissingCredentialsError (no token),
 * InvalidRequestError (several methods, a refused method, bad syntax), InvalidTokenError (too large).
 */
export function extractToken(request: BearerRequest, options: ExtractOptions = {}): string {
  return extractCredentials(request, options).token;
}

/** The one token of the request and its scheme: `DPoP` only in the Authorization header, and only when `dpop`. */
export function extractCredentials(
  request: BearerRequest,
  options: ExtractOptions & { dpop?: boolean } = {},
): Credentials {
  const maxLength = options.maxTokenLength ?? DEFAULT_MAX_TOKEN_LENGTH;
  const header = headerCredentials(request.authorization, options.dpop === true);
  const fromHeader = header?.token;
  const fromQuery = parameterToken(request.query, 'query');
  const fromBody = request.isFormBody === true ? parameterToken(request.body, 'form body') : undefined;

  const found = [fromHeader, fromQuery, fromBody].filter((t) => t !== undefined);
  if (found.length > 1) {
    // RFC 6750 §2: "Clients MUST NOT use more than one method to transmit the token in each request."
    throw new InvalidRequestError(
      'The access token was sent in more than one way; use only the Authorization header.',
      'ERR_BEARER_MULTIPLE_METHODS',
    );
  }
  if (fromQuery !== undefined && options.allowQuery !== true) {
    throw new InvalidRequestError(
      'Access tokens are not accepted in the URL query; send them in the Authorization header.',
      'ERR_BEARER_QUERY_REFUSED',
    );
  }
  if (fromBody !== undefined && options.allowFormBody === false) {
    throw new InvalidRequestError(
      'Access tokens are not accepted in the request body; send them in the Authorization header.',
    );
  }
  const token = found[0];
  if (token === undefined) throw new MissingCredentialsError();
  if (token.length > maxLength) {
    throw new InvalidTokenError(
      `The access token is longer than ${maxLength} characters.`,
      'ERR_TOKEN_TOO_LARGE',
    );
  }
  if (fromHeader === undefined && !/^[A-Za-z0-9\-._~+/]+=*$/.test(token)) {
    throw new InvalidRequestError('The access_token parameter is not a b64token (RFC 6750 §2.1).');
  }
  return { scheme: header?.scheme ?? 'Bearer', token };
}
