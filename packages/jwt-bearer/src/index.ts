// @calling-api/jwt-bearer: framework-free core. The Express adapter is "@calling-api/jwt-bearer/express".
export {
  type ClaimCheck,
  type ClaimValue,
  claimCheck,
  claimEquals,
  claimIncludes,
  requiredPermissions,
  requiredScopes,
  type ScopeList,
  scopeIncludesAny,
  scopesOf,
} from './claim-check.ts';
export { type BearerEnv, optionsFromEnv } from './config-from-env.ts';
export { type DecodedToken, decodeToken, type JsonObject } from './decode-token.ts';
export { discoverIssuer, discoveryPlan, discoveryUrl, type IssuerMetadata } from './discovery.ts';
export { DPOP_ALGORITHMS } from './dpop/algorithms.ts';
export { DpopKeyBusyError, DpopReplayFullError, InvalidDpopProofError } from './dpop/errors.ts';
export {
  accessTokenHash,
  type DpopCheckOptions,
  type DpopRequest,
  normaliseHtu,
  verifyDpopProof,
} from './dpop/proof.ts';
export { ReplayCache } from './dpop/replay-cache.ts';
export {
  challengeSchemes,
  type DpopMode,
  type DpopSettings,
  type SenderConstraint,
  senderConstraint,
} from './dpop/sender-constraint.ts';
export {
  type AuthScheme,
  BearerConfigError,
  BearerError,
  type BearerErrorCode,
  challenge,
  type ErrorBody,
  InsufficientScopeError,
  InvalidRequestError,
  InvalidTokenError,
  isBearerError,
  KeySetUnavailableError,
  MissingCredentialsError,
  RetryLaterError,
} from './errors.ts';
export {
  type BearerRequest,
  type Credentials,
  DEFAULT_MAX_TOKEN_LENGTH,
  type ExtractOptions,
  extractCredentials,
  extractToken,
} from './extract-token.ts';
export {
  createKeySet,
  type KeySet,
  type KeySetMetrics,
  type KeySetOptions,
  RemoteKeySet,
  StaticKeySet,
} from './key-set.ts';
export { type JsonWebKeySet, KeyTable, type PublicJwk } from './key-table.ts';
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
