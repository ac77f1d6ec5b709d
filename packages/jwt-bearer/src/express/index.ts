// Layer 4: the Express 5 adapter. It only maps a request to the core's input and a BearerError
// to a response; every decision lives in the framework-free layers.
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import * as checks from '../claim-check.ts';
import { type BearerEnv, optionsFromEnv } from '../config-from-env.ts';
import type { JsonObject } from '../decode-token.ts';
import {
  challengeSchemes,
  type DpopSettings,
  type SenderConstraint,
  senderConstraint,
} from '../dpop/sender-constraint.ts';
import { type AuthScheme, BearerError, MissingCredentialsError } from '../errors.ts';
import {
  type BearerRequest,
  type Credentials,
  type ExtractOptions,
  extractCredentials,
} from '../extract-token.ts';
import { createVerifier, type JwtVerifier, type VerifiedToken, type VerifierOptions } from '../verifier.ts';

declare global {
  namespace Express {
    interface Request {
      /** Set by auth() once the bearer token is verified. */
      auth?: VerifiedToken;
    }
  }
}

export type AuthOptions = Partial<VerifierOptions> &
  ExtractOptions & {
    /** The realm of the WWW-Authenticate challenge (default "api"). */
    realm?: string;
    /** A verifier built elsewhere (shared between routers, or observed for readiness). */
    verifier?: JwtVerifier;
    /** Where to read ISSUER_BASE_URL / AUDIENCE / JWKS_URI / AUTH0_* when options lack them. */
    env?: BearerEnv;
    /**
     * false: a request without credentials passes on with `req.auth` undefined (optional
     * authentication); credentials that are there are still verified, and refused when bad.
     */
    authRequired?: boolean;
    /**
     * Sender-constrained tokens (RFC 9449): `mode` `off` (default: bearer tokens only), `allowed` (either)
     * or `required` (DPoP-bound only); proofs are checked for this request's method and URL.
     */
    dpop?: DpopSettings & {
      /** The origin clients call (e.g. https://api.example.com), for the proofs' htu; default: the request's. */
      publicOrigin?: string;
    };
    /**
     * The JSON body of a refusal, for an API with an error shape of its own (default `{ error,
     * error_description }`); the status and `WWW-Authenticate` stay as RFC 6750 and RFC 9449 say.
     */
    errorBody?: ErrorBodyRenderer;
  };

export type ErrorBodyRenderer = (error: BearerError) => unknown;

export type AuthMiddleware = RequestHandler & { verifier: JwtVerifier };

/** `res.locals` keys: the realm and the token's scheme for later guards, and the refusal's code for request logs. */
export const LOCALS = {
  realm: 'bearerRealm',
  refusal: 'bearerRefusal',
  scheme: 'bearerScheme',
  constraint: 'bearerConstraint',
  errorBody: 'bearerErrorBody',
} as const;

type PreparedAnswer = { key: string; headers: [string, string][]; body: string; length: number };

// Refusals are mostly shared instances (one per kind): their headers and body are rendered once.
const prepared = new WeakMap<BearerError, PreparedAnswer>();

function prepare(error: BearerError, realm: string, schemes: readonly AuthScheme[]): PreparedAnswer {
  const key = `${realm} ${schemes.join(' ')}`;
  let answer = prepared.get(error);
  if (answer === undefined || answer.key !== key) {
    // A string body goes out in one write with the headers (a Buffer would be a second chunk).
    const body = JSON.stringify(error.body());
    answer = {
      key,
      headers: Object.entries(error.headers(realm, schemes)),
      body,
      length: Buffer.byteLength(body),
    };
    prepared.set(error, answer);
  }
  return answer;
}

/** Sends a BearerError as status + WWW-Authenticate (or Retry-After) + `{ error, error_description }` or `errorBody`'s. */
export function sendBearerError(
  res: Response,
  error: BearerError,
  realm = 'api',
  schemes: readonly AuthScheme[] = ['Bearer'],
  errorBody?: ErrorBodyRenderer,
): void {
  const answer = prepare(error, realm, schemes);
  const { headers } = answer;
  const body = errorBody ? JSON.stringify(errorBody(error)) : answer.body;
  const length = errorBody ? Buffer.byteLength(body) : answer.length;
  res.locals[LOCALS.refusal] = error.code;
  res.statusCode = error.status;
  for (const [name, value] of headers) res.setHeader(name, value);
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', length);
  res.end(body);
}

const BEARER_ONLY = senderConstraint({ mode: 'off' });

function renderOrPass(error: unknown, res: Response, next: NextFunction): void {
  if (!(error instanceof BearerError)) {
    next(error);
    return;
  }
  const constraint = (res.locals[LOCALS.constraint] as SenderConstraint | undefined) ?? BEARER_ONLY;
  const used = res.locals[LOCALS.scheme] as AuthScheme | undefined;
  sendBearerError(
    res,
    error,
    (res.locals[LOCALS.realm] as string) ?? 'api',
    challengeSchemes(error.code, used, constraint),
    res.locals[LOCALS.errorBody] as ErrorBodyRenderer | undefined,
  );
}

/** Every value of one header: Node keeps only the first of some in req.headers, rawHeaders has them all. */
function headerValues(req: Request, lowerCaseName: string): string[] {
  const raw = req.rawHeaders;
  const values: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i]!.length === lowerCaseName.length && raw[i]!.toLowerCase() === lowerCaseName)
      values.push(raw[i + 1]!);
  }
  return values;
}

/** The parts of the request extraction reads; the query only when there is one (Express 5 parses it per read). */
function bearerRequest(req: Request): BearerRequest {
  const url = req.originalUrl ?? req.url ?? '';
  return {
    authorization: headerValues(req, 'authorization'),
    query: url.includes('?') ? (req.query as Record<string, unknown>) : undefined,
    body: req.body,
    isFormBody:
      req.method !== 'GET' &&
      req.method !== 'HEAD' &&
      typeof req.is('application/x-www-form-urlencoded') === 'string',
  };
}

function verifierFrom(options: AuthOptions): JwtVerifier {
  const { realm, verifier, env, allowQuery, allowFormBody, authRequired, dpop, errorBody, ...rest } = options;
  if (verifier !== undefined) return verifier;
  const complete =
    rest.audience !== undefined && (rest.issuerBaseURL ?? rest.jwksUri ?? rest.jwks ?? rest.publicKey);
  return createVerifier(complete ? (rest as VerifierOptions) : { ...optionsFromEnv(env), ...rest });
}

/** Requires a valid bearer access token (or, with authRequired false, none); puts `{ header, payload, token }` on `req.auth`. */
export function auth(options: AuthOptions = {}): AuthMiddleware {
  const verifier = verifierFrom(options);
  const realm = options.realm ?? 'api';
  const optional = options.authRequired === false;
  const constraint = senderConstraint(options.dpop);
  const publicOrigin = options.dpop?.publicOrigin?.replace(/\/$/, '');
  const extract: ExtractOptions & { dpop: boolean } = {
    allowQuery: options.allowQuery,
    allowFormBody: options.allowFormBody,
    maxTokenLength: options.maxTokenLength,
    dpop: constraint.mode !== 'off',
  };
  const proofRequest = (req: Request, token: string) => () => ({
    proof: headerValues(req, 'dpop'),
    method: req.method,
    url: `${publicOrigin ?? `${req.protocol}://${req.get('host')}`}${req.originalUrl ?? req.url}`,
    accessToken: token,
  });

  const refuse = (error: unknown, res: Response, next: NextFunction): void => {
    if (optional && error instanceof MissingCredentialsError) next();
    else renderOrPass(error, res, next);
  };
  /** Throws unless the token came the way its binding and this API allow (RFC 9449 §7). */
  const constrain = (req: Request, credentials: Credentials, verified: VerifiedToken): void => {
    if (constraint.mode !== 'off' || verified.payload['cnf'] !== undefined) {
      constraint.check(credentials.scheme, verified.payload, proofRequest(req, credentials.token));
    }
  };

  const handler: RequestHandler = (req, res, next) => {
    if (realm !== 'api') res.locals[LOCALS.realm] = realm;
    if (options.errorBody) res.locals[LOCALS.errorBody] = options.errorBody;
    if (constraint.mode !== 'off') res.locals[LOCALS.constraint] = constraint;
    let verified: VerifiedToken | undefined;
    try {
      const credentials = extractCredentials(bearerRequest(req), extract);
      if (credentials.scheme !== 'Bearer') res.locals[LOCALS.scheme] = credentials.scheme;
      verified = verifier.verifyNow(credentials.token);
      if (verified === undefined) {
        // Only before the first key load or for an unknown kid: wait for the issuer's keys.
        verifier.verify(credentials.token).then(
          (result) => {
            try {
              constrain(req, credentials, result);
            } catch (error) {
              refuse(error, res, next);
              return;
            }
            req.auth = result;
            next();
          },
          (error: unknown) => refuse(error, res, next),
        );
        return;
      }
      constrain(req, credentials, verified);
    } catch (error) {
      refuse(error, res, next);
      return;
    }
    req.auth = verified;
    next();
  };
  return Object.assign(handler, { verifier });
}

const NOT_AUTHENTICATED = new MissingCredentialsError();

function guard(check: checks.ClaimCheck): RequestHandler {
  return (req, res, next) => {
    try {
      if (req.auth === undefined) throw NOT_AUTHENTICATED;
      check(req.auth.payload as JsonObject);
    } catch (error) {
      renderOrPass(error, res, next);
      return;
    }
    next();
  };
}

/** Express guards over req.auth (use after auth()); each checks its arguments when created. */
export const requiredScopes = (...scopes: checks.ScopeList): RequestHandler =>
  guard(checks.requiredScopes(...scopes));
export const scopeIncludesAny = (...scopes: checks.ScopeList): RequestHandler =>
  guard(checks.scopeIncludesAny(...scopes));
export const requiredPermissions = (...permissions: checks.ScopeList): RequestHandler =>
  guard(checks.requiredPermissions(...permissions));
export const claimCheck = (test: (payload: JsonObject) => boolean, description?: string): RequestHandler =>
  guard(checks.claimCheck(test, description));
export const claimEquals = (...args: Parameters<typeof checks.claimEquals>): RequestHandler =>
  guard(checks.claimEquals(...args));
export const claimIncludes = (name: string, ...expected: checks.ClaimValue[]): RequestHandler =>
  guard(checks.claimIncludes(name, ...expected));

export * from '../index.ts';
