// Auth0's `audience` as RFC 8707 resource indicators: a resource must be an absolute URI, so other identifiers get a URN.
const URN_PREFIX = 'urn:x-audience:';

export const toResource = (audience: string): string =>
  URL.canParse(audience) ? audience : `${URN_PREFIX}${encodeURIComponent(audience)}`;

export const fromResource = (resource: string): string =>
  resource.startsWith(URN_PREFIX) ? decodeURIComponent(resource.slice(URN_PREFIX.length)) : resource;

/** Auth0's access tokens name `<issuer>userinfo` as a second audience when `openid` was granted. */
export const userinfoAudience = (issuer: string): string =>
  new URL('userinfo', issuer.endsWith('/') ? issuer : `${issuer}/`).href;
