// `npm start`: the authorization server, the Messages API, the AngularJS app and the tenant console
// together, with their log lines prefixed, the URLs and the demo sign-ins printed once all four
// answer, and a clean stop of all four on Ctrl-C or SIGTERM.
//
// Ports: AUTH_PORT (4000), API_PORT (3001), SPA_PORT (3000), CONSOLE_PORT (4001). With another SPA or
// console port the default tenant is copied to a temporary file with that app's callback/logout URLs
// and web origin moved to it. TENANT_FILE, when set, is used as it is. Data stays in each program's
// own default folder unless DATA_DIR names one folder for all (sub-folders auth/ and api/).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { DEFAULT_PORTS, type Ports, type RunningSystem, SystemStartError, startSystem } from './system.ts';

function portFromEnv(name: string, fallback: number): number {
  const raw = process.env[name]?.trim();
  if (raw === undefined || raw === '') return fallback;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    console.error(`npm start: ${name} must be a port number from 1 to 65535 (got "${raw}")`);
    process.exit(2);
  }
  return port;
}

interface DemoUser {
  email: string;
  password: string;
  role: string;
  scopes: string;
}

/** The tenant's users that have a demo password, with the scopes their roles grant. */
function demoUsers(tenantFile: string): DemoUser[] {
  try {
    const tenant = JSON.parse(readFileSync(tenantFile, 'utf8')) as {
      users?: Array<{ email?: unknown; password?: unknown; roles?: unknown }>;
      roles?: Array<{ name?: unknown; permissions?: Array<{ audience?: unknown; scope?: unknown }> }>;
    };
    // The Management API's permissions are many: one line says what they are for.
    const scopesOf = new Map(
      (tenant.roles ?? []).map((r) => [
        r.name,
        (r.permissions ?? []).map((p) =>
          p.audience === MANAGEMENT_API_ALIAS ? 'the Management API (the console)' : String(p.scope),
        ),
      ]),
    );
    return (tenant.users ?? [])
      .filter((u) => typeof u.email === 'string' && typeof u.password === 'string')
      .map((u) => {
        const roles = Array.isArray(u.roles) ? u.roles.map(String) : [];
        const scopes = [...new Set(roles.flatMap((r) => scopesOf.get(r) ?? []))];
        return {
          email: String(u.email),
          password: String(u.password),
          role: roles.join(', ') || '(none)',
          scopes: scopes.join(' ') || '(none)',
        };
      });
  } catch {
    return [];
  }
}

const MANAGEMENT_API_ALIAS = '##ISSUER##api/v2/';

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => `  ${r.map((c, i) => c.padEnd(widths[i]!)).join('   ')}`.trimEnd()).join('\n');
}

function banner(system: RunningSystem): string {
  const urls = table([
    ['AngularJS app', system.urls.spa, '<- open this in a browser'],
    ['Messages API', `${system.urls.api}/api/public`, `audience ${system.audience}`],
    ['authorization server', system.urls.auth, `issuer ${system.issuer}`],
    ['tenant console', system.urls.console, `the dashboard, on the Management API ${system.issuer}api/v2/`],
  ]);
  const users = demoUsers(system.tenantFile);
  const signIns =
    users.length === 0
      ? `  (no demo users with a password in ${system.tenantFile})`
      : table([
          ['email', 'password', 'role', 'may'],
          ...users.map((u) => [u.email, u.password, u.role, u.scopes]),
        ]);
  return `\nAll four are ready.\n\n${urls}\n\nDemo sign-ins:\n${signIns}\n\nCtrl-C stops all four.\n`;
}

const ports: Ports = {
  auth: portFromEnv('AUTH_PORT', DEFAULT_PORTS.auth),
  api: portFromEnv('API_PORT', DEFAULT_PORTS.api),
  spa: portFromEnv('SPA_PORT', DEFAULT_PORTS.spa),
  console: portFromEnv('CONSOLE_PORT', DEFAULT_PORTS.console),
};
const tenantFile = process.env['TENANT_FILE']?.trim() || undefined;
const dataDir = process.env['DATA_DIR']?.trim() || undefined;

let system: RunningSystem | undefined;
let shuttingDown = false;
const startUp = new AbortController();

async function shutdown(signal: string): Promise<void> {
  if (shuttingDown) {
    // A second Ctrl-C: do not wait for the grace period.
    process.exit(130);
  }
  shuttingDown = true;
  console.log(
    `\n${signal}: stopping the console, the AngularJS app, the Messages API and the authorization server...`,
  );
  if (system === undefined) {
    startUp.abort(); // startSystem stops what it started, then rejects; see below
    return;
  }
  await system.stop();
  console.log('stopped.');
  process.exit(0);
}
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));

try {
  system = await startSystem({
    ports,
    signal: startUp.signal,
    ...(tenantFile ? { tenantFile } : {}),
    ...(dataDir ? { dataDir: path.resolve(dataDir) } : {}),
    onProgress: (event) => {
      if (event.kind === 'starting') console.log(`starting ${event.title} on ${event.url} ...`);
      else console.log(`${event.title} ready in ${(event.ms / 1000).toFixed(1)} s`);
    },
  });
} catch (error) {
  if (shuttingDown) {
    console.log('stopped.');
    process.exit(0);
  }
  if (error instanceof SystemStartError) {
    console.error(`\nnpm start: ${error.message}`);
    if (/already in use|given to both/.test(error.message)) {
      console.error(
        'Choose other ports with AUTH_PORT, API_PORT, SPA_PORT and CONSOLE_PORT, e.g. SPA_PORT=3100 npm start',
      );
    }
    process.exit(1);
  }
  throw error;
}

console.log(banner(system));

const ended = await system.ended;
if (!shuttingDown) {
  console.error(`\nnpm start: the ${ended.title} stopped on its own (${ended.how}); stopping the others.`);
  await system.stop();
  process.exit(1);
}
