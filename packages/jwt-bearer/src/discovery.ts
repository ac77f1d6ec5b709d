// Issuer metadata: OpenID Connect Discovery 1.0 §4 first, then OAuth 2.0 Authorization Server
// Metadata (RFC 8414 §3) when the issuer has no OIDC document. It gives the exact issuer string
// tokens must carry and the jwks_uri.
import { assertFetchableUrl, type FetchLimits, FetchStatusError, fetchJson } from './fetch-json.ts';

export type IssuerMetadata = { issuer: string; jwksUri: string };

const OIDC = '/.well-known/openid-configuration';
const OAUTH = '/.well-known/oauth-authorization-server';

const withoutTrailingSlash = (value: string): string => value.replace(/\/+$/, '');

/**
 * The metadata documents to try, in order, and the issuer they must name. `issuerBaseURL` is the
 * issuer (with or without a trailing slash), or the URL of one of its .well-known documents.
 */
export function discoveryPlan(issuerBaseURL: string): { urls: string[]; issuer: string } {
  const url = new URL(issuerBaseURL);
  const { origin, pathname } = url;
  if (pathname.startsWith(`${OAUTH}/`) || pathname === OAUTH) {
    return { urls: [url.href], issuer: withoutTrailingSlash(`${origin}${pathname.slice(OAUTH.length)}`) };
  }
  const wellKnown = pathname.indexOf('/.well-known/');
  if (wellKnown >= 0) return { urls: [url.href], issuer: `${origin}${pathname.slice(0, wellKnown)}` };
  const path = withoutTrailingSlash(pathname);
  return { urls: [`${origin}${path}${OIDC}`, `${origin}${OAUTH}${path}`], issuer: `${origin}${path}` };
}

/** The first discovery URL (kept for callers that show where discovery starts). */
export function discoveryUrl(issuerBaseURL: string): string {
  return discoveryPlan(issuerBaseURL).urls[0]!;
}

async function fetchMetadata(urls: readonly string[], limits: FetchLimits): Promise<unknown> {
  for (const [i, url] of urls.entries()) {
    try {
      return await fetchJson(url, limits);
    } catch (error) {
      // Only "no such document" moves on: a timeout or a 500 is the issuer's state, not its kind.
      const last = i === urls.length - 1;
      if (last || !(error instanceof FetchStatusError) || error.status !== 404) throw error;
    }
  }
  throw new Error('no discovery URL'); // unreachable: the plan always has one
}

export async function discoverIssuer(issuerBaseURL: string, limits: FetchLimits): Promise<IssuerMetadata> {
  const plan = discoveryPlan(issuerBaseURL);
  const document = await fetchMetadata(plan.urls, limits);
  if (document === null || typeof document !== 'object')
    throw new Error('The discovery document is not an object');
  const { issuer, jwks_uri: jwksUri } = document as Record<string, unknown>;
  if (typeof issuer !== 'string' || typeof jwksUri !== 'string') {
    throw new Error('The discovery document lacks "issuer" or "jwks_uri"');
  }
  // The issuer in the document must be the one we asked (Auth0's ends in "/", so a trailing
  // slash is the only difference tolerated); tokens are then held to it exactly.
  if (withoutTrailingSlash(issuer) !== withoutTrailingSlash(plan.issuer)) {
    throw new Error(`The discovery document names issuer ${issuer}, not ${plan.issuer}`);
  }
  assertFetchableUrl(jwksUri, 'jwks_uri');
  return { issuer, jwksUri };
}
