// Layer 4: the Express 5 adapter. It only maps a request to the core's input and a BearerError
// to a response; every decision lives in the framework-free layers.
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import * as checks from '../claim-check.ts';
import { type BearerEnv, optionsFromEnv } from '../config-from-env.ts';
import type { JsonObject } from '../decode-token.ts';
import { BearerError, MissingCredentialsError } from '../errors.ts';
import { type ExtractOptions, extractToken } from '../extract-token.ts';
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
  };

export type AuthMiddleware = RequestHandler & { verifier: JwtVerifier };

const REALM_KEY = 'bearerRealm';

/** Sends a BearerError as status + WWW-Authenticate (or Retry-After) + `{ error, error_description }`. */
export function sendBearerError(res: Response, error: BearerError, realm = 'api'): void {
  res.status(error.status).set(error.headers(realm)).json(error.body());
}

function renderOrPass(error: unknown, res: Response, next: NextFunction): void {
  if (error instanceof BearerError) sendBearerError(res, error, (res.locals[REALM_KEY] as string) ?? 'api');
  else next(error);
}

/** Every Authorization value: Node keeps only the first in req.headers, rawHeaders has them all. */
function authorizationValues(req: Request): string[] {
  const raw = req.rawHeaders;
  const values: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i]!.length === 13 && raw[i]!.toLowerCase() === 'authorization') values.push(raw[i + 1]!);
  }
  return values;
}

function isFormBody(req: Request): boolean {
  return (
    req.method !== 'GET' &&
    req.method !== 'HEAD' &&
    typeof req.is('application/x-www-form-urlencoded') === 'string'
  );
}

/** Requires a valid bearer access token; puts `{ header, payload, token }` on `req.auth`. */
export function auth(options: AuthOptions = {}): AuthMiddleware {
  const { realm = 'api', verifier: given, env, allowQuery, allowFormBody, ...rest } = options;
  const maxTokenLength = rest.maxTokenLength;
  let verifier = given;
  if (verifier === undefined) {
    const fromOptions = rest.audience !== undefined && (rest.issuerBaseURL ?? rest.jwksUri) !== undefined;
    verifier = createVerifier(fromOptions ? (rest as VerifierOptions) : { ...optionsFromEnv(env), ...rest });
  }
  const extract: ExtractOptions = { allowQuery, allowFormBody, maxTokenLength };
  const active = verifier;
  const handler: RequestHandler = (req, res, next) => {
    res.locals[REALM_KEY] = realm;
    let token: string;
    let cached: VerifiedToken | undefined;
    try {
      token = extractToken(
        {
          authorization: authorizationValues(req),
          // Express 5 parses the query on every read of req.query: skip it when there is none.
          query: req.originalUrl.includes('?') ? (req.query as Record<string, unknown>) : undefined,
          body: req.body,
          isFormBody: isFormBody(req),
        },
        extract,
      );
      // A token verified before costs a hash and a lookup, without a promise in between.
      cached = active.verifyCached(token);
    } catch (error) {
      renderOrPass(error, res, next);
      return;
    }
    if (cached !== undefined) {
      req.auth = cached;
      next();
      return;
    }
    active.verify(token).then(
      (verified) => {
        req.auth = verified;
        next();
      },
      (error: unknown) => renderOrPass(error, res, next),
    );
  };
  return Object.assign(handler, { verifier: active });
}

function guard(check: checks.ClaimCheck): RequestHandler {
  return (req, res, next) => {
    try {
      if (req.auth === undefined) throw new MissingCredentialsError();
      check(req.auth.payload as JsonObject);
    } catch (error) {
      renderOrPass(error, res, next);
      return;
    }
    next();
  };
}

/** Express guards over req.auth (use after auth()). */
export const requiredScopes = (...scopes: string[]): RequestHandler =>
  guard(checks.requiredScopes(...scopes));
export const scopeIncludesAny = (...scopes: string[]): RequestHandler =>
  guard(checks.scopeIncludesAny(...scopes));
export const requiredPermissions = (...permissions: string[]): RequestHandler =>
  guard(checks.requiredPermissions(...permissions));
export const claimCheck = (test: (payload: JsonObject) => boolean, description: string): RequestHandler =>
  guard(checks.claimCheck(test, description));
export const claimEquals = (name: string, expected: string | number | boolean): RequestHandler =>
  guard(checks.claimEquals(name, expected));
export const claimIncludes = (name: string, ...expected: string[]): RequestHandler =>
  guard(checks.claimIncludes(name, ...expected));

export * from '../index.ts';
