// The console server's environment, validated before it listens: a bad value is a clear start-up error.
import { ConfigError, type ConsoleConfig, parseConsoleConfig } from '../src/app/config.ts';

export const DEFAULTS = {
  ISSUER_BASE_URL: 'http://localhost:4000/',
  CLIENT_ID: 'tenant-console',
  PORT: '4001',
};

export type ServerConfig = {
  readonly port: number;
  /** Where to listen instead of loopback; undefined: 127.0.0.1 and ::1 only. */
  readonly host: string | undefined;
  readonly production: boolean;
  readonly console: ConsoleConfig;
};

type Env = Readonly<Record<string, string | undefined>>;
const value = (env: Env, name: string) => (env[name]?.trim() ? env[name]!.trim() : undefined);

export function serverConfigFromEnv(env: Env): ServerConfig {
  const problems: string[] = [];
  const rawPort = value(env, 'PORT') ?? DEFAULTS.PORT;
  const port = Number(rawPort);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    problems.push(`PORT must be an integer from 0 to 65535, not ${JSON.stringify(rawPort)}`);
  const production = env['NODE_ENV'] === 'production';
  const issuer = value(env, 'ISSUER_BASE_URL') ?? DEFAULTS.ISSUER_BASE_URL;
  if (production && !issuer.startsWith('https:'))
    problems.push('ISSUER_BASE_URL must use https when NODE_ENV=production');
  const dpop = value(env, 'DPOP') ?? 'true';
  if (!['true', 'false'].includes(dpop))
    problems.push(`DPOP must be true or false, not ${JSON.stringify(dpop)}`);
  let parsed: ConsoleConfig | undefined;
  try {
    parsed = parseConsoleConfig({
      // Auth0's form, with the slash: the Management API is at <issuer>api/v2/.
      issuer: issuer.endsWith('/') ? issuer : `${issuer}/`,
      clientId: value(env, 'CLIENT_ID') ?? DEFAULTS.CLIENT_ID,
      dpop: dpop !== 'false',
    });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    problems.push(...error.problems);
  }
  if (problems.length > 0 || !parsed) throw new ConfigError(problems);
  return { port, host: value(env, 'HOST'), production, console: parsed };
}
