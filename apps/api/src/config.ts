// The API's configuration, parsed once from the environment at start; the rest of the code
// trusts the typed value. Development defaults point at the embedded authorization server and
// are refused under NODE_ENV=production.
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type DpopMode, optionsFromEnv, type VerifierOptions } from '@calling-api/jwt-bearer';
import { isDatabaseUrl, trafficProtected } from '@calling-api/postgres';
import { z } from 'zod';
import type { StorageConfig } from './messages/open-message-store.ts';

export const APP_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export const DEV_DEFAULTS = {
  ISSUER_BASE_URL: 'http://localhost:4000/',
  AUDIENCE: 'http://localhost:3001/api',
  CORS_ORIGINS: 'http://localhost:3000',
} as const;

const optional = z
  .string()
  .trim()
  .transform((v) => (v === '' ? undefined : v))
  .optional();

const origin = z.url().refine((value) => new URL(value).origin === value, {
  message: 'each CORS origin must be scheme://host[:port] with no path or trailing slash',
});

const PORT_ERROR = { error: 'must be an integer from 0 to 65535' };
const schema = z.object({
  NODE_ENV: optional,
  PORT: z.coerce.number(PORT_ERROR).int(PORT_ERROR).min(0, PORT_ERROR).max(65535, PORT_ERROR).default(3001),
  HOST: optional,
  ISSUER_BASE_URL: optional.pipe(z.url().optional()),
  AUDIENCE: optional,
  JWKS_URI: optional.pipe(z.url().optional()),
  AUTH0_DOMAIN: optional,
  AUTH0_AUDIENCE: optional,
  CORS_ORIGINS: z
    .string()
    .optional()
    .transform((value) =>
      (value ?? DEV_DEFAULTS.CORS_ORIGINS)
        .split(',')
        .map((o) => o.trim())
        .filter((o) => o.length > 0),
    )
    .pipe(z.array(origin)),
  DATA_DIR: optional,
  /** postgres://user:password@host:port/database: messages in PostgreSQL, shared by every instance. */
  DATABASE_URL: optional.pipe(
    z.string().refine(isDatabaseUrl, 'must be a postgres:// or postgresql:// URL').optional(), // never echo it
  ),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(100).default(10),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Least time between two JWKS refetches caused by unknown kids (ms). */
  JWKS_COOLDOWN_MS: z.coerce.number().int().min(0).default(30_000),
  /** Per-fetch timeout for discovery and JWKS (ms). */
  JWKS_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(5_000),
  /** One log line per request (method, path without query, status, time, caller); on by default. */
  LOG_REQUESTS: z
    .enum(['true', 'false', '1', '0', ''])
    .default('true')
    .transform((v) => v !== 'false' && v !== '0'),
  /** Entries of the verified-token cache; 0 turns it off. */
  TOKEN_CACHE_SIZE: z.coerce.number().int().min(0).max(1_000_000).default(10_000),
  /**
   * Sender-constrained tokens (RFC 9449): `allowed` takes DPoP-bound tokens with their proofs and bearer
   * tokens (the default), `required` only the former, `off` only the latter.
   */
  DPOP: z.enum(['required', 'allowed', 'off']).default('allowed'),
  /** The origin clients call this API at (https://api.example.com), for DPoP proofs behind a proxy. */
  PUBLIC_ORIGIN: optional.pipe(origin.optional()),
  /** Serve GET /metrics (verifier counters, memory); off by default: operators and benchmarks only. */
  EXPOSE_METRICS: z
    .enum(['true', 'false', '1', '0', ''])
    .default('false')
    .transform((v) => v === 'true' || v === '1'),
});

export type ApiConfig = {
  production: boolean;
  port: number;
  host: string | undefined;
  corsOrigins: readonly string[];
  dataDir: string;
  /** Where messages are kept: SQLite in dataDir, or PostgreSQL. */
  storage: StorageConfig;
  logLevel: z.infer<typeof schema>['LOG_LEVEL'];
  exposeMetrics: boolean;
  logRequests: boolean;
  dpop: { mode: DpopMode; publicOrigin: string | undefined };
  verifier: VerifierOptions;
};

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Under NODE_ENV=production every setting that has a development default must be given. */
function refuseDevelopmentDefaults(
  env: Readonly<Record<string, string | undefined>>,
  usesAuth0: boolean,
): void {
  const given = (name: string) => (env[name]?.trim() ?? '') !== '';
  const missing = [
    ...(usesAuth0 ? [] : (['ISSUER_BASE_URL', 'AUDIENCE'] as const).filter((name) => !given(name))),
    ...(given('CORS_ORIGINS') ? [] : ['CORS_ORIGINS']),
    // DPoP proofs name the URL they were made for: it must be the API's real one, not the Host header a
    // client sends (which would let a proof made for another origin pass).
    ...(given('PUBLIC_ORIGIN') || env['DPOP'] === 'off' ? [] : ['PUBLIC_ORIGIN (or DPOP=off)']),
  ];
  if (missing.length > 0) {
    throw new ConfigError(
      `NODE_ENV=production needs ${missing.join(' and ')}${usesAuth0 ? '' : ' (or AUTH0_DOMAIN and AUTH0_AUDIENCE for the issuer)'}; development defaults are refused.`,
    );
  }
}

export function loadConfig(env: Readonly<Record<string, string | undefined>>): ApiConfig {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new ConfigError(`Invalid API configuration: ${problems}`);
  }
  const values = parsed.data;
  const production = values.NODE_ENV === 'production';
  const usesAuth0 = values.AUTH0_DOMAIN !== undefined;
  if (production) refuseDevelopmentDefaults(env, usesAuth0);
  if (production && values.DATABASE_URL && !trafficProtected(values.DATABASE_URL)) {
    throw new ConfigError(
      'NODE_ENV=production: DATABASE_URL must name a loopback host or ask for TLS with sslmode=require, verify-ca or verify-full.',
    );
  }
  let verifier: VerifierOptions;
  try {
    verifier = optionsFromEnv({
      AUTH0_DOMAIN: values.AUTH0_DOMAIN,
      AUTH0_AUDIENCE: values.AUTH0_AUDIENCE,
      ISSUER_BASE_URL: values.ISSUER_BASE_URL ?? (usesAuth0 ? undefined : DEV_DEFAULTS.ISSUER_BASE_URL),
      AUDIENCE: values.AUDIENCE ?? (usesAuth0 ? undefined : DEV_DEFAULTS.AUDIENCE),
      JWKS_URI: values.JWKS_URI,
    });
  } catch (error) {
    throw new ConfigError(`Invalid API configuration: ${(error as Error).message}`);
  }
  // Relative to the app folder, so `npm start` from the root and from apps/api share one store.
  const dataDir = resolve(APP_DIR, values.DATA_DIR ?? '.data');
  return {
    production,
    port: values.PORT,
    host: values.HOST,
    corsOrigins: values.CORS_ORIGINS,
    dataDir,
    storage: values.DATABASE_URL
      ? { kind: 'postgres', url: values.DATABASE_URL, poolSize: values.DATABASE_POOL_SIZE }
      : { kind: 'sqlite', dataDir },
    logLevel: values.LOG_LEVEL,
    exposeMetrics: values.EXPOSE_METRICS,
    logRequests: values.LOG_REQUESTS,
    dpop: { mode: values.DPOP, publicOrigin: values.PUBLIC_ORIGIN },
    verifier: {
      ...verifier,
      cooldownMs: values.JWKS_COOLDOWN_MS,
      timeoutMs: values.JWKS_TIMEOUT_MS,
      cache: values.TOKEN_CACHE_SIZE === 0 ? false : { maxEntries: values.TOKEN_CACHE_SIZE },
    },
  };
}
