// Layer 1: pull the bearer token out of a request, per RFC 6750 §2, and nothing else.
import { InvalidRequestError, InvalidTokenError, MissingCredentialsError } from './errors.ts';

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
// "_" / "~" / "+" / "/" ) *"="; the scheme is case-insensitive (RFC 9110 §11.1).
const BEARER_SCHEME = /^bearer(?: |$)/i;
const BEARER_CREDENTIALS = /^bearer +([A-Za-z0-9\-._~+/]+=*)$/i;

function headerToken(authorization: BearerRequest['authorization']): string | undefined {
  if (authorization === undefined) return undefined;
  const values = typeof authorization === 'string' ? [authorization] : authorization;
  if (values.length === 0) return undefined;
  if (values.length > 1) {
    throw new InvalidRequestError(
      'More than one Authorization header was sent.',
      'ERR_BEARER_MULTIPLE_METHODS',
    );
  }
  const value = values[0]!.trim();
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
  const maxLength = options.maxTokenLength ?? DEFAULT_MAX_TOKEN_LENGTH;
  const fromHeader = headerToken(request.authorization);
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
  return token;
}
