// Start-up configuration: read once from the environment, validated, then trusted everywhere.
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeDatabase, isDatabaseUrl, trafficProtected } from '@calling-api/postgres';
import { z } from 'zod';
import { SECRET_ENV_NAME } from '../tenant/tenant-schema.ts';

export const APP_DIR = fileURLToPath(new URL('../../', import.meta.url));
export const DEV_M2M_SECRET = 'dev-m2m-secret';

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

const PORT_ERROR = { error: 'must be an integer from 0 to 65535' };
const envSchema = z.object({
  NODE_ENV: z.string().optional(),
  PORT: z.coerce.number(PORT_ERROR).int(PORT_ERROR).min(0, PORT_ERROR).max(65535, PORT_ERROR).default(4000),
  /** Listen address; loopback only (127.0.0.1 and ::1) when unset. */
  HOST: z.string().trim().optional(),
  // Auth0's form is https://tenant.example.com/ (with the slash); the slash is optional here and kept as given,
  // because `iss` must equal it character for character. Routes are served from the root, so no path.
  ISSUER: z
    .string()
    .url()
    .refine(
      (v) => /^https?:\/\/[^/?#]+\/?$/.test(v),
      'must be scheme://host[:port] or scheme://host[:port]/, no path, query or fragment',
    )
    .optional(),
  /** PEM certificate chain and private key: the server speaks https (npm run tenant -- dev-cert writes a pair). */
  TLS_CERT_FILE: z.string().min(1).optional(),
  TLS_KEY_FILE: z.string().min(1).optional(),
  DATA_DIR: z.string().min(1).default('.data'),
  /** postgres://user:password@host:port/database: the tenant, sessions, tokens and keys in PostgreSQL. */
  DATABASE_URL: z
    .string()
    .refine(
      isDatabaseUrl,
      'must be a postgres:// or postgresql:// URL', // never echo the value: it holds a password
    )
    .optional(),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(100).default(10),
  TENANT_FILE: z.string().min(1).default('tenant.json'),
  M2M_CLIENT_SECRET: z.string().min(1).default(DEV_M2M_SECRET),
  // No default: in production with an https issuer the operator must say which of the two it is.
  TRUST_PROXY: z.enum(['true', 'false', '1', '0']).optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export type Config = {
  production: boolean;
  /** Behind one TLS-terminating reverse proxy: trust its X-Forwarded-For/-Proto/-Host. */
  trustProxy: boolean;
  port: number;
  /** Where to listen instead of loopback (e.g. "0.0.0.0"); undefined: loopback only. */
  host: string | undefined;
  issuer: string;
  dataDir: string;
  /** Where the tenant, oidc-provider's models and the keys live: SQLite in dataDir, or PostgreSQL. */
  storage: StorageConfig;
  tenantFile: string;
  logLevel: string;
  /** Files of the certificate and key when the server itself terminates TLS. */
  tls: { certFile: string; keyFile: string } | undefined;
  /** Secrets that tenant applications may name (`clientSecret: { env: NAME_CLIENT_SECRET }`); no other variable. */
  secrets: Record<string, string | undefined>;
};

export type StorageConfig =
  | { kind: 'sqlite'; dataDir: string }
  | { kind: 'postgres'; url: string; poolSize: number };

export class ConfigError extends Error {
  override name = 'ConfigError';
}

const fromApp = (p: string) => (isAbsolute(p) ? p : resolve(APP_DIR, p));

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    // zod's messages name the rule, never the value, so DATABASE_URL's password is not shown.
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`invalid environment:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  const production = e.NODE_ENV === 'production';
  if (e.PORT === 0 && e.ISSUER === undefined) {
    throw new ConfigError(
      'invalid environment:\n  ISSUER: required when PORT=0 (the issuer must name the real port)',
    );
  }
  if ((e.TLS_CERT_FILE === undefined) !== (e.TLS_KEY_FILE === undefined)) {
    throw new ConfigError('invalid environment:\n  TLS_CERT_FILE and TLS_KEY_FILE: give both or neither');
  }
  const tls =
    e.TLS_CERT_FILE && e.TLS_KEY_FILE ? { certFile: e.TLS_CERT_FILE, keyFile: e.TLS_KEY_FILE } : undefined;
  const issuer = e.ISSUER ?? `${tls ? 'https' : 'http'}://localhost:${e.PORT}/`;
  if (tls && !issuer.startsWith('https:')) {
    throw new ConfigError(
      `invalid environment:\n  ISSUER: must be https when TLS_CERT_FILE is set (got ${issuer})`,
    );
  }
  const trustProxy = e.TRUST_PROXY === 'true' || e.TRUST_PROXY === '1';
  if (production) {
    const problems: string[] = [];
    if (e.M2M_CLIENT_SECRET === DEV_M2M_SECRET || env.M2M_CLIENT_SECRET === undefined) {
      problems.push('M2M_CLIENT_SECRET must be set to a real secret (the dev default is refused)');
    } else if (e.M2M_CLIENT_SECRET.length < 32) {
      problems.push('M2M_CLIENT_SECRET must be at least 32 characters');
    }
    const url = new URL(issuer);
    if (url.protocol !== 'https:' && !LOOPBACK_HOSTS.has(url.hostname)) {
      problems.push(`ISSUER must use https (got ${issuer})`);
    }
    if (e.DATABASE_URL && !trafficProtected(e.DATABASE_URL)) {
      problems.push(
        'DATABASE_URL must name a loopback host or ask for TLS with sslmode=require, verify-ca or verify-full',
      );
    }
    problems.push(...unsafeTransport({ https: url.protocol === 'https:', trustProxy: e.TRUST_PROXY, tls }));
    if (problems.length > 0) {
      throw new ConfigError(`refusing to start with NODE_ENV=production: ${problems.join('; ')}`);
    }
  }
  const dataDir = fromApp(e.DATA_DIR);
  return {
    production,
    trustProxy,
    port: e.PORT,
    host: e.HOST || undefined,
    issuer,
    dataDir,
    storage: e.DATABASE_URL
      ? { kind: 'postgres', url: e.DATABASE_URL, poolSize: e.DATABASE_POOL_SIZE }
      : { kind: 'sqlite', dataDir },
    tenantFile: fromApp(e.TENANT_FILE),
    logLevel: e.LOG_LEVEL,
    tls: tls && { certFile: fromApp(tls.certFile), keyFile: fromApp(tls.keyFile) },
    secrets: {
      ...Object.fromEntries(Object.entries(env).filter(([name]) => SECRET_ENV_NAME.test(name))),
      M2M_CLIENT_SECRET: e.M2M_CLIENT_SECRET,
    },
  };
}

/** Where the data is, for logs: the database's host, port and name, never its user or password. */
export function describeStorage(storage: StorageConfig): string {
  if (storage.kind === 'sqlite') return `SQLite in ${storage.dataDir}`;
  return describeDatabase(storage.url);
}

/**
 * The combinations of an https issuer, TRUST_PROXY and TLS files that would start fine and quietly
 * weaken the cookies (no Secure) or the per-network throttles (everyone with one address, or any
 * address a client likes).
 */
function unsafeTransport(p: { https: boolean; trustProxy: string | undefined; tls: unknown }): string[] {
  if (!p.https) return [];
  const direct = p.tls !== undefined;
  if (p.trustProxy === undefined) {
    return [
      direct
        ? 'TRUST_PROXY must be set: false, since this server terminates TLS itself (TLS_CERT_FILE)'
        : 'TRUST_PROXY must be set with an https ISSUER: true behind a TLS-terminating proxy, or false with TLS_CERT_FILE and TLS_KEY_FILE',
    ];
  }
  const trusted = p.trustProxy === 'true' || p.trustProxy === '1';
  if (!trusted && !direct) {
    return [
      'TRUST_PROXY=false with an https ISSUER needs TLS_CERT_FILE and TLS_KEY_FILE: otherwise something else terminates TLS, cookies lose Secure and every client shares its address',
    ];
  }
  if (trusted && direct) {
    return [
      'TRUST_PROXY=true with TLS_CERT_FILE: clients reach this server directly and could choose their own X-Forwarded-For; set TRUST_PROXY=false',
    ];
  }
  return [];
}
