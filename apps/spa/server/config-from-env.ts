// Turns the static server's environment into the SPA's /config.json, validated before the
// server listens, so a bad setting is a clear start-up error rather than a broken page.
import { ConfigError, parseSpaConfig, type SpaConfig } from '../src/app/config/spa-config.ts';

export const DEFAULTS = {
  ISSUER_BASE_URL: 'http://localhost:4000/',
  CLIENT_ID: 'angularjs-spa',
  AUDIENCE: 'http://localhost:3001/api',
  SCOPE: 'openid profile email offline_access read:messages write:messages',
  API_URL: 'http://localhost:3001',
} as const;

export interface ServerConfig {
  readonly port: number;
  /** Where to listen instead of loopback (e.g. "0.0.0.0"); undefined: 127.0.0.1 and ::1 only. */
  readonly host: string | undefined;
  /** NODE_ENV=production: https only, and no source maps served. */
  readonly production: boolean;
  readonly spa: SpaConfig;
  /** Further origins the page may connect to WITHOUT the token (CSP connect-src only). */
  readonly extraConnectSrc: readonly string[];
}

type Env = Readonly<Record<string, string | undefined>>;

const value = (env: Env, name: string): string | undefined => {
  const v = env[name]?.trim();
  return v === '' ? undefined : v;
};

export function spaConfigFromEnv(env: Env): SpaConfig {
  const auth0Domain = value(env, 'AUTH0_DOMAIN');
  const problems: string[] = [];
  if (auth0Domain && value(env, 'ISSUER_BASE_URL')) {
    problems.push('set either AUTH0_DOMAIN or ISSUER_BASE_URL, not both');
  }
  if (auth0Domain && !/^[a-z0-9.-]+$/i.test(auth0Domain)) {
    problems.push('AUTH0_DOMAIN must be a host name such as "tenant.eu.auth0.com" (no scheme, no path)');
  }
  const issuer = auth0Domain
    ? `https://${auth0Domain}/`
    : (value(env, 'ISSUER_BASE_URL') ?? DEFAULTS.ISSUER_BASE_URL);
  const clientId = value(env, 'CLIENT_ID') ?? value(env, 'AUTH0_CLIENT_ID') ?? DEFAULTS.CLIENT_ID;
  const audience = value(env, 'AUDIENCE') ?? value(env, 'AUTH0_AUDIENCE') ?? DEFAULTS.AUDIENCE;
  const scope = (value(env, 'SCOPE') ?? DEFAULTS.SCOPE).split(/\s+/).join(' ');
  const apiUrl = value(env, 'API_URL') ?? DEFAULTS.API_URL;
  const dpopSetting = value(env, 'DPOP') ?? 'true';
  if (!['true', 'false'].includes(dpopSetting))
    problems.push(`DPOP must be true or false, not ${JSON.stringify(dpopSetting)}`);
  let allowedApiOrigins: string[] = [];
  const listed = value(env, 'ALLOWED_API_ORIGINS');
  if (listed) {
    allowedApiOrigins = listed
      .split(',')
      .map((o) => o.trim())
      .filter((o) => o !== '');
  } else {
    try {
      allowedApiOrigins = [new URL(apiUrl).origin];
    } catch {
      problems.push(`API_URL is not an absolute URL: ${JSON.stringify(apiUrl)}`);
    }
  }
  if (env['NODE_ENV'] === 'production') {
    for (const [name, v] of [
      ['ISSUER_BASE_URL', issuer],
      ['API_URL', apiUrl],
    ] as const) {
      if (v.startsWith('http:')) problems.push(`${name} must use https when NODE_ENV=production`);
    }
  }
  let spa: SpaConfig | undefined;
  try {
    spa = parseSpaConfig({
      issuer,
      clientId,
      audience,
      scope,
      apiUrl,
      allowedApiOrigins,
      dpop: dpopSetting !== 'false',
      ...(auth0Domain ? { auth0Domain } : {}),
    });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    problems.push(...error.problems);
  }
  if (problems.length > 0 || !spa) throw new ConfigError(problems);
  return spa;
}

export function serverConfigFromEnv(env: Env): ServerConfig {
  const rawPort = value(env, 'PORT') ?? '3000';
  const port = Number(rawPort);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new ConfigError([`PORT must be an integer from 0 to 65535, not ${JSON.stringify(rawPort)}`]);
  }
  return {
    port,
    host: value(env, 'HOST'),
    production: env['NODE_ENV'] === 'production',
    spa: spaConfigFromEnv(env),
    extraConnectSrc: extraConnectSrcFromEnv(env),
  };
}

/** EXTRA_CONNECT_SRC: comma list of http(s) origins, e.g. a service called without a token, or test hosts. */
export function extraConnectSrcFromEnv(env: Env): string[] {
  const listed = value(env, 'EXTRA_CONNECT_SRC');
  if (!listed) return [];
  const problems: string[] = [];
  const origins = listed
    .split(',')
    .map((o) => o.trim())
    .filter((o) => o !== '')
    .map((o) => {
      try {
        const url = new URL(o);
        if ((url.protocol === 'http:' || url.protocol === 'https:') && url.origin === o.replace(/\/$/, '')) {
          return url.origin;
        }
      } catch {}
      problems.push(
        `EXTRA_CONNECT_SRC: ${JSON.stringify(o)} is not an http(s) origin (scheme://host[:port])`,
      );
      return '';
    });
  if (problems.length > 0) throw new ConfigError(problems);
  return origins;
}
