// The runtime configuration the static server writes to /config.json from its environment,
// parsed once where it enters (the server before it listens, the SPA before it bootstraps),
// so the same build runs against the embedded server, a hosted Auth0 tenant or another OIDC
// provider. No DOM and no Angular here: the server imports this file too.
import { parseAllowList } from '@calling-api/angularjs-auth/allow-list';

export interface SpaConfig {
  /** Issuer identifier; discovery is at `<issuer>/.well-known/openid-configuration`. */
  readonly issuer: string;
  readonly clientId: string;
  /** The API identifier, sent to /authorize as `audience` (Auth0's parameter). */
  readonly audience: string;
  readonly scope: string;
  /** Base URL of the Messages API, e.g. `http://localhost:3001`. */
  readonly apiUrl: string;
  /** Origins (with optional path prefix) whose requests carry the access token. */
  readonly allowedApiOrigins: readonly string[];
  /** Set for a hosted Auth0 tenant: its logout URL when discovery has no end_session_endpoint. */
  readonly auth0Domain?: string;
  /** Bind tokens to a per-page DPoP key when the authorization server offers DPoP (RFC 9449). */
  readonly dpop: boolean;
}

export class ConfigError extends Error {
  readonly code = 'ERR_SPA_CONFIG';
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(`Invalid SPA configuration:\n- ${problems.join('\n- ')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

function absoluteHttpUrl(value: unknown, name: string, problems: string[]): string {
  if (typeof value !== 'string' || value === '') {
    problems.push(`${name} is missing`);
    return '';
  }
  try {
    const url = new URL(value);
    if (url.protocol !== 'https:' && url.protocol !== 'http:')
      problems.push(`${name} must be an http(s) URL`);
    if (url.username || url.password || url.search || url.hash) {
      problems.push(`${name} must not carry user-info, a query or a fragment`);
    }
  } catch {
    problems.push(`${name} is not an absolute URL: ${JSON.stringify(value)}`);
  }
  return value;
}

function nonEmpty(value: unknown, name: string, problems: string[]): string {
  if (typeof value !== 'string' || value.trim() === '') {
    problems.push(`${name} is missing`);
    return '';
  }
  return value;
}

/** Validates an untrusted value (the parsed /config.json) and returns the typed config. */
export function parseSpaConfig(input: unknown): SpaConfig {
  const problems: string[] = [];
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new ConfigError(['the configuration is not a JSON object']);
  }
  const raw = input as Record<string, unknown>;
  const issuer = absoluteHttpUrl(raw['issuer'], 'issuer', problems);
  const clientId = nonEmpty(raw['clientId'], 'clientId', problems);
  const audience = nonEmpty(raw['audience'], 'audience', problems);
  const scope = nonEmpty(raw['scope'], 'scope', problems);
  const apiUrl = absoluteHttpUrl(raw['apiUrl'], 'apiUrl', problems);
  if (scope && !scope.split(' ').includes('openid')) problems.push('scope must include "openid"');
  const origins = raw['allowedApiOrigins'];
  let allowedApiOrigins: string[] = [];
  if (!Array.isArray(origins) || origins.length === 0 || !origins.every((o) => typeof o === 'string')) {
    problems.push('allowedApiOrigins must be a non-empty list of origins');
  } else {
    allowedApiOrigins = origins;
    try {
      parseAllowList(allowedApiOrigins);
    } catch (error) {
      problems.push((error as Error).message);
    }
  }
  const dpop = raw['dpop'] ?? true;
  if (typeof dpop !== 'boolean') problems.push('dpop must be true or false');
  const auth0Domain = raw['auth0Domain'];
  if (auth0Domain !== undefined && (typeof auth0Domain !== 'string' || !/^[a-z0-9.-]+$/i.test(auth0Domain))) {
    problems.push('auth0Domain must be a host name such as "tenant.eu.auth0.com"');
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return {
    issuer,
    clientId,
    audience,
    scope,
    apiUrl,
    allowedApiOrigins,
    dpop: dpop === true,
    ...(typeof auth0Domain === 'string' ? { auth0Domain } : {}),
  };
}
