// @calling-api/jwt-bearer: framework-free core. The Express adapter is "@calling-api/jwt-bearer/express".
export {
  type ClaimCheck,
  claimCheck,
  claimEquals,
  claimIncludes,
  requiredPermissions,
  requiredScopes,
  scopeIncludesAny,
  scopesOf,
} from './claim-check.ts';
export { type BearerEnv, optionsFromEnv } from './config-from-env.ts';
export { type DecodedToken, decodeToken, type JsonObject } from './decode-token.ts';
export { discoverIssuer, discoveryUrl, type IssuerMetadata } from './discovery.ts';
export { DPOP_ALGORITHMS } from './dpop/algorithms.ts';
export { InvalidDpopProofError } from './dpop/errors.ts';
export {
  accessTokenHash,
  type DpopCheckOptions,
  type DpopRequest,
  normaliseHtu,
  verifyDpopProof,
} from './dpop/proof.ts';
export { ReplayCache } from './dpop/replay-cache.ts';
export {
  BearerError,
  type BearerErrorCode,
  type ErrorBody,
  InsufficientScopeError,
  InvalidRequestError,
  InvalidTokenError,
  isBearerError,
  KeySetUnavailableError,
  MissingCredentialsError,
} from './errors.ts';
export {
  type BearerRequest,
  DEFAULT_MAX_TOKEN_LENGTH,
  type ExtractOptions,
  extractToken,
} from './extract-token.ts';
export { type KeySetMetrics, type KeySetOptions, RemoteKeySet } from './jwks-cache.ts';
export { PROFILES, type ProfileName, type TokenProfile } from './profiles.ts';
export { type ClaimContext, claimValidators, timeValidators, validateClaims } from './validate-claims.ts';
export { ASYMMETRIC_ALGORITHMS, validateHeader } from './validate-header.ts';
export {
  createVerifier,
  type JwtVerifier,
  type VerifiedToken,
  type VerifierMetrics,
  type VerifierOptions,
} from './verifier.ts';
