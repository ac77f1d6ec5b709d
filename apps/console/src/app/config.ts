// The console's runtime configuration, written by its static server to /config.json and parsed where it
// enters (the server before it listens, the page before it bootstraps). No DOM and no Angular here.

export interface ConsoleConfig {
  /** The authorization server; the Management API is at `<issuer>api/v2/`. */
  readonly issuer: string;
  readonly clientId: string;
  /** Bind tokens to a per-page DPoP key when the server offers DPoP. */
  readonly dpop: boolean;
}

/** Auth0's scope names of the Management API: the console asks for all, the user's role decides. */
export const MANAGEMENT_SCOPES: readonly string[] = [
  ...['users', 'roles', 'resource_servers', 'clients', 'client_grants'].flatMap((thing) =>
    ['read', 'create', 'update', 'delete'].map((verb) => `${verb}:${thing}`),
  ),
  'read:role_members',
  'create:role_members',
  'delete:role_members',
  'read:client_keys',
  'update:client_keys',
];

/** `<issuer>api/v2/`, Auth0's Management API identifier and base URL. */
export const managementApiOf = (issuer: string): string =>
  `${issuer.endsWith('/') ? issuer : `${issuer}/`}api/v2/`;

export class ConfigError extends Error {
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(`Invalid console configuration:\n- ${problems.join('\n- ')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/** Validates an untrusted value (the parsed /config.json). */
export function parseConsoleConfig(input: unknown): ConsoleConfig {
  if (typeof input !== 'object' || input === null || Array.isArray(input))
    throw new ConfigError(['the configuration is not a JSON object']);
  const raw = input as Record<string, unknown>;
  const problems: string[] = [];
  const issuer = raw['issuer'];
  if (typeof issuer !== 'string' || !URL.canParse(issuer)) problems.push('issuer must be an absolute URL');
  else {
    const url = new URL(issuer);
    if (
      !['http:', 'https:'].includes(url.protocol) ||
      url.search ||
      url.hash ||
      url.username ||
      url.pathname !== '/'
    )
      problems.push('issuer must be an http(s) origin, e.g. http://localhost:4000/');
  }
  const clientId = raw['clientId'];
  if (typeof clientId !== 'string' || clientId.trim() === '') problems.push('clientId is missing');
  const dpop = raw['dpop'] ?? true;
  if (typeof dpop !== 'boolean') problems.push('dpop must be true or false');
  if (problems.length > 0) throw new ConfigError(problems);
  return { issuer: issuer as string, clientId: clientId as string, dpop: dpop as boolean };
}
