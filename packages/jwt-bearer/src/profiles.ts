// Token dialects. RFC 9068 is the default; Auth0's default access-token dialect differs in
// `typ` (JWT), uses `azp` for the client, and has no `jti` requirement.

export type ProfileName = 'rfc9068' | 'auth0';

export type TokenProfile = {
  name: ProfileName;
  /** Accepted `typ` header values, lower case, without the optional "application/" prefix (RFC 7515 §4.1.9). */
  typ: readonly string[];
  /** Claims that must be present. */
  requiredClaims: readonly string[];
  /** At least one of these names the client the token was issued to. */
  clientClaims: readonly string[];
};

export const PROFILES: Readonly<Record<ProfileName, TokenProfile>> = {
  // RFC 9068 §2.2: iss, exp, aud, sub, client_id, iat, jti are REQUIRED; §2.1: typ "at+jwt".
  rfc9068: {
    name: 'rfc9068',
    typ: ['at+jwt'],
    requiredClaims: ['iss', 'exp', 'aud', 'sub', 'iat', 'jti'],
    clientClaims: ['client_id'],
  },
  auth0: {
    name: 'auth0',
    typ: ['jwt', 'at+jwt'],
    requiredClaims: ['iss', 'exp', 'aud', 'sub', 'iat'],
    clientClaims: ['azp', 'client_id'],
  },
};
