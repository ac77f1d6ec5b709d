// Start-up configuration: read once from the environment, validated, then trusted everywhere.
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { SECRET_ENV_NAME } from '../tenant/tenant-schema.ts';

export const APP_DIR = fileURLToPath(new URL('../../', import.meta.url));
export const DEV_M2M_SECRET = 'dev-m2m-secret';

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

const envSchema = z.object({
  NODE_ENV: z.string().optional(),
  PORT: z.coerce.number().int().min(0).max(65535).default(4000),
  /** Listen address; loopback only (127.0.0.1 and ::1) when unset. */
  HOST: z.string().trim().optional(),
  ISSUER: z
    .string()
    .url()
    .refine((v) => !v.endsWith('/'), 'must not end with a slash')
    .refine((v) => !v.includes('?') && !v.includes('#'), 'must not have a query or fragment')
    .optional(),
  DATA_DIR: z.string().min(1).default('.data'),
  TENANT_FILE: z.string().min(1).default('tenant.json'),
  M2M_CLIENT_SECRET: z.string().min(1).default(DEV_M2M_SECRET),
  TRUST_PROXY: z.enum(['true', 'false', '1', '0']).default('false'),
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
  tenantFile: string;
  logLevel: string;
  /** Secrets that tenant applications may name (`clientSecret: { env: NAME_CLIENT_SECRET }`); no other variable. */
  secrets: Record<string, string | undefined>;
};

export class ConfigError extends Error {
  override name = 'ConfigError';
}

const fromApp = (p: string) => (isAbsolute(p) ? p : resolve(APP_DIR, p));

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
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
  const issuer = e.ISSUER ?? `http://localhost:${e.PORT}`;
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
    if (problems.length > 0) {
      throw new ConfigError(
        `refusing development defaults with NODE_ENV=production:\n  ${problems.join('\n  ')}`,
      );
    }
  }
  return {
    production,
    trustProxy: e.TRUST_PROXY === 'true' || e.TRUST_PROXY === '1',
    port: e.PORT,
    host: e.HOST || undefined,
    issuer,
    dataDir: fromApp(e.DATA_DIR),
    tenantFile: fromApp(e.TENANT_FILE),
    logLevel: e.LOG_LEVEL,
    secrets: {
      ...Object.fromEntries(Object.entries(env).filter(([name]) => SECRET_ENV_NAME.test(name))),
      M2M_CLIENT_SECRET: e.M2M_CLIENT_SECRET,
    },
  };
}
