// OpenID Connect Discovery 1.0 §4: the issuer's metadata gives the exact issuer string and jwks_uri.
import { assertFetchableUrl, type FetchLimits, fetchJson } from './fetch-json.ts';

export type IssuerMetadata = { issuer: string; jwksUri: string };

const withoutTrailingSlash = (value: string): string => value.replace(/\/+$/, '');

export function discoveryUrl(issuerBaseURL: string): string {
  return `${withoutTrailingSlash(issuerBaseURL)}/.well-known/openid-configuration`;
}

export async function discoverIssuer(issuerBaseURL: string, limits: FetchLimits): Promise<IssuerMetadata> {
  const document = await fetchJson(discoveryUrl(issuerBaseURL), limits);
  if (document === null || typeof document !== 'object')
    throw new Error('The discovery document is not an object');
  const { issuer, jwks_uri: jwksUri } = document as Record<string, unknown>;
  if (typeof issuer !== 'string' || typeof jwksUri !== 'string') {
    throw new Error('The discovery document lacks "issuer" or "jwks_uri"');
  }
  // OIDC Discovery §4.3: the issuer in the document must be the one we asked (Auth0's ends in
  // "/", so a trailing slash is the only difference tolerated); tokens are then held to it exactly.
  if (withoutTrailingSlash(issuer) !== withoutTrailingSlash(issuerBaseURL)) {
    throw new Error(`The discovery document names issuer ${issuer}, not ${issuerBaseURL}`);
  }
  assertFetchableUrl(jwksUri, 'jwks_uri');
  return { issuer, jwksUri };
}
