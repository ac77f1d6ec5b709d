// The whole system as child processes: authorization server, then Messages API, then SPA, then the tenant
// console, each
// started with the repository's Node 24 and awaited on its readiness URL. Used by `npm start`
// (scripts/start.ts), the browser tests (e2e/) and the login-time benchmark; it is a library so
// that all three start the programs exactly the same way.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatLogLine } from './log-lines.ts';

export const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
export const DEFAULT_TENANT_FILE = path.join(REPO_ROOT, 'apps/auth-server/tenant.json');
export const DEFAULT_PORTS: Ports = { auth: 4000, api: 3001, spa: 3000, console: 4001 };
/** The API identifier of the default tenant: an identifier, not a location, so it stays the same on any port. */
export const DEFAULT_AUDIENCE = 'http://localhost:3001/api';
/** The origin the default tenant lists for the SPA (callback, logout, web origin). */
export const DEFAULT_SPA_ORIGIN = 'http://localhost:3000';
/** The origin the default tenant lists for the tenant console. */
export const DEFAULT_CONSOLE_ORIGIN = 'http://localhost:4001';

export type ProgramName = 'auth' | 'api' | 'spa' | 'console';
export type Ports = Record<ProgramName, number>;

export const PROGRAMS: Record<ProgramName, { title: string; main: string; readyPath: string }> = {
  auth: {
    title: 'authorization server',
    main: 'apps/auth-server/src/main.ts',
    readyPath: '/.well-known/openid-configuration',
  },
  api: { title: 'Messages API', main: 'apps/api/src/main.ts', readyPath: '/healthz' },
  spa: { title: 'AngularJS app', main: 'apps/spa/server/main.ts', readyPath: '/' },
  console: { title: 'tenant console', main: 'apps/console/server/main.ts', readyPath: '/' },
};
const START_ORDER: readonly ProgramName[] = ['auth', 'api', 'spa', 'console'];

export interface SystemOptions {
  /** Ports to listen on; a missing one gets its contract default (4000/3001/3000/4001), `0` a free one. */
  ports?: Partial<Ports>;
  /** A folder for all data (each program gets its own sub-folder); without it, each program's own default. */
  dataDir?: string;
  /** The tenant as given; without it, the default tenant with the SPA's URLs moved to its port when needed. */
  tenantFile?: string;
  /** Access-token lifetime (seconds) to write into a derived tenant; only with the default tenant. */
  accessTokenLifetime?: number;
  /** Extra environment per program (after the computed one, so it wins). */
  env?: Partial<Record<ProgramName, Record<string, string>>>;
  /** Where each prefixed log line goes; default: stdout. Lines are kept for error messages either way. */
  onLog?: (line: string) => void;
  /** Progress ("starting ... ready in 0.4 s"); default: nothing. */
  onProgress?: (event: ProgressEvent) => void;
  /** How long one program may take to become ready (ms). The SPA may build its bundle first. */
  readyTimeoutMs?: number;
  /** Time between SIGTERM and SIGKILL when stopping (ms). */
  stopGraceMs?: number;
  /** Aborting it during start-up stops what was started and rejects with SystemStartError. */
  signal?: AbortSignal;
}

export type ProgressEvent =
  | { kind: 'starting'; program: ProgramName; title: string; url: string }
  | { kind: 'ready'; program: ProgramName; title: string; url: string; ms: number };

export interface RunningSystem {
  readonly ports: Ports;
  readonly urls: Record<ProgramName, string>;
  readonly issuer: string;
  readonly audience: string;
  readonly clientId: string;
  /** The tenant file the authorization server was started with. */
  readonly tenantFile: string;
  /** The last log lines of a program (prefixed, colour-free). */
  logs(program: ProgramName): readonly string[];
  /** Settles when a program ends on its own (a crash, a port taken later): which one, and how. */
  readonly ended: Promise<{ program: ProgramName; title: string; how: string }>;
  /** SIGTERM to every program (the last started first), SIGKILL to any still running after the grace period. */
  stop(): Promise<void>;
}

export class SystemStartError extends Error {
  override name = 'SystemStartError';
}

const LOG_LINES_KEPT = 200;

/** One program as a child process, its output prefixed with its label and its last lines kept. */
export class Program {
  readonly label: string;
  readonly title: string;
  readonly main: string;
  readonly child: ChildProcess;
  readonly lines: string[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  exitInfo: { code: number | null; signal: NodeJS.Signals | null } | undefined;

  constructor(
    program: { label: string; title: string; main: string },
    env: NodeJS.ProcessEnv,
    onLog: (line: string) => void,
  ) {
    this.label = program.label;
    this.title = program.title;
    this.main = program.main;
    this.child = spawn(nodeBinary(), [path.join(REPO_ROOT, program.main)], {
      cwd: REPO_ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const prefix = `${program.label.padEnd(7)} |`;
    const take = (stream: NodeJS.ReadableStream | null) => {
      if (!stream) return;
      let pending = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => {
        pending += chunk;
        const parts = pending.split('\n');
        pending = parts.pop() ?? '';
        for (const raw of parts) this.emit(`${prefix} ${formatLogLine(raw)}`, onLog);
      });
      stream.on('end', () => {
        if (pending !== '') this.emit(`${prefix} ${formatLogLine(pending)}`, onLog);
      });
    };
    take(this.child.stdout);
    take(this.child.stderr);
    this.exited = new Promise((resolve) => {
      this.child.on('exit', (code, signal) => {
        this.exitInfo = { code, signal };
        resolve(this.exitInfo);
      });
      this.child.on('error', (error) => {
        this.emit(`${prefix} cannot start: ${error.message}`, onLog);
        this.exitInfo = { code: -1, signal: null };
        resolve(this.exitInfo);
      });
    });
  }

  private emit(line: string, onLog: (line: string) => void): void {
    this.lines.push(line);
    if (this.lines.length > LOG_LINES_KEPT) this.lines.shift();
    onLog(line);
  }

  async stop(graceMs: number): Promise<void> {
    if (this.exitInfo) return;
    this.child.kill('SIGTERM');
    const killer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(killer);
  }
}

/** The Node 24 the repository installs (node_modules/.bin/node); the machine's own Node is too old. */
export function nodeBinary(): string {
  const local = path.join(REPO_ROOT, 'node_modules/.bin/node');
  return existsSync(local) ? local : process.execPath;
}

/** A port nobody listens on right now (on any interface), chosen by the kernel. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Whether `port` can be listened on (all interfaces), i.e. nothing else is using it. */
export async function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, () => server.close(() => resolve(true)));
  });
}

/**
 * The default tenant with the SPA application's callback, logout and web-origin URLs moved from
 * http://localhost:3000 to `spaOrigin` (and the console's from http://localhost:4001 to `consoleOrigin`),
 * and optionally every API's access-token lifetime changed. The authorization server compares redirect
 * URIs exactly, so an app on another port needs this.
 */
export function deriveTenant(
  source: string,
  changes: { spaOrigin: string; consoleOrigin?: string; accessTokenLifetime?: number | undefined },
): Record<string, unknown> {
  const tenant = JSON.parse(readFileSync(source, 'utf8')) as {
    apis?: Array<Record<string, unknown>>;
    applications?: Array<Record<string, unknown>>;
  };
  let moved = 0;
  const origins: [from: string, to: string][] = [
    [DEFAULT_SPA_ORIGIN, changes.spaOrigin],
    [DEFAULT_CONSOLE_ORIGIN, changes.consoleOrigin ?? DEFAULT_CONSOLE_ORIGIN],
  ];
  const move = (url: unknown) => {
    for (const [from, to] of origins) {
      if (typeof url !== 'string' || !url.startsWith(from)) continue;
      const rest = url.slice(from.length);
      if (rest !== '' && !rest.startsWith('/')) continue; // http://localhost:30001 is another origin
      if (from === DEFAULT_SPA_ORIGIN) moved++;
      return `${to}${rest}`;
    }
    return url;
  };
  for (const app of tenant.applications ?? []) {
    for (const key of ['callbackUrls', 'logoutUrls', 'webOrigins']) {
      const list = app[key];
      if (Array.isArray(list)) app[key] = list.map(move);
    }
  }
  if (moved === 0) {
    throw new SystemStartError(
      `${source}: no application lists ${DEFAULT_SPA_ORIGIN} in callbackUrls/logoutUrls/webOrigins, so the SPA cannot be moved to ${changes.spaOrigin}`,
    );
  }
  if (changes.accessTokenLifetime !== undefined) {
    if (!tenant.apis || tenant.apis.length === 0) {
      throw new SystemStartError(`${source}: the tenant has no APIs`);
    }
    for (const api of tenant.apis) api['accessTokenLifetime'] = changes.accessTokenLifetime;
  }
  return tenant;
}

export async function waitUntilReady(
  program: Program,
  url: string,
  timeoutMs: number,
  signal: AbortSignal | undefined,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastProblem = 'no answer yet';
  while (Date.now() < deadline) {
    if (signal?.aborted) {
      throw new SystemStartError(`start-up of the ${program.title} cancelled`);
    }
    if (program.exitInfo) throw notReady(program, url, `exited (${describeExit(program.exitInfo)})`);
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2000), redirect: 'manual' });
      await response.body?.cancel();
      if (response.status === 200) return;
      lastProblem = `answered ${response.status}`;
    } catch (error) {
      lastProblem = (error as Error).message;
    }
    await Promise.race([new Promise((r) => setTimeout(r, 100)), program.exited]);
  }
  throw notReady(program, url, `not ready after ${(timeoutMs / 1000).toFixed(0)} s (last: ${lastProblem})`);
}

export function describeExit(info: { code: number | null; signal: NodeJS.Signals | null }): string {
  return info.signal ? `signal ${info.signal}` : `exit code ${info.code}`;
}

function notReady(program: Program, url: string, what: string): SystemStartError {
  const tail = program.lines.slice(-20);
  return new SystemStartError(
    `${program.title} (${program.main}) ${what}; readiness URL ${url}\n` +
      (tail.length > 0 ? `its last log lines:\n${tail.join('\n')}` : 'it wrote no log lines'),
  );
}

export function baseEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' };
  // A developer's shell may carry another program's PORT or DATA_DIR; each child gets its own.
  for (const name of ['PORT', 'DATA_DIR', 'TENANT_FILE', 'ISSUER', 'ISSUER_BASE_URL']) delete env[name];
  const bin = path.join(REPO_ROOT, 'node_modules/.bin');
  env['PATH'] = `${bin}${path.delimiter}${env['PATH'] ?? ''}`;
  return env;
}

/** Starts the authorization server, the API and the SPA, in that order, each awaited until ready. */
export async function startSystem(options: SystemOptions = {}): Promise<RunningSystem> {
  const onLog = options.onLog ?? ((line: string) => process.stdout.write(`${line}\n`));
  const readyTimeoutMs = options.readyTimeoutMs ?? 60_000;
  const stopGraceMs = options.stopGraceMs ?? 5_000;
  const ports = { ...DEFAULT_PORTS, ...options.ports };
  for (const [i, name] of START_ORDER.entries()) {
    const twin = START_ORDER.slice(0, i).find((other) => ports[other] !== 0 && ports[other] === ports[name]);
    if (twin)
      throw new SystemStartError(
        `port ${ports[name]} is given to both the ${PROGRAMS[twin].title} and the ${PROGRAMS[name].title}`,
      );
  }
  for (const name of START_ORDER) {
    if (ports[name] === 0) ports[name] = await freePort();
    else if (!(await isPortFree(ports[name]))) {
      throw new SystemStartError(`port ${ports[name]} for the ${PROGRAMS[name].title} is already in use`);
    }
  }

  const urls = {
    auth: `http://localhost:${ports.auth}`,
    api: `http://localhost:${ports.api}`,
    spa: `http://localhost:${ports.spa}`,
    console: `http://localhost:${ports.console}`,
  };
  // Auth0's form: the issuer is the server's URL with a trailing slash.
  const issuer = `${urls.auth}/`;
  const audience = DEFAULT_AUDIENCE;
  const clientId = 'angularjs-spa';

  const cleanups: Array<() => void> = [];
  let tenantFile = options.tenantFile ?? DEFAULT_TENANT_FILE;
  const moved = urls.spa !== DEFAULT_SPA_ORIGIN || urls.console !== DEFAULT_CONSOLE_ORIGIN;
  if (options.tenantFile === undefined && (moved || options.accessTokenLifetime)) {
    const dir = mkdtempSync(path.join(tmpdir(), 'calling-api-tenant-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    tenantFile = path.join(dir, 'tenant.json');
    const tenant = deriveTenant(DEFAULT_TENANT_FILE, {
      spaOrigin: urls.spa,
      consoleOrigin: urls.console,
      accessTokenLifetime: options.accessTokenLifetime,
    });
    writeFileSync(tenantFile, `${JSON.stringify(tenant, null, 2)}\n`, { mode: 0o600 });
  }

  const dataDirOf = (name: ProgramName): Record<string, string> =>
    options.dataDir === undefined ? {} : { DATA_DIR: path.join(options.dataDir, name) };
  const envOf: Record<ProgramName, Record<string, string>> = {
    auth: { PORT: String(ports.auth), ISSUER: issuer, TENANT_FILE: tenantFile, ...dataDirOf('auth') },
    api: {
      PORT: String(ports.api),
      ISSUER_BASE_URL: issuer,
      AUDIENCE: audience,
      CORS_ORIGINS: urls.spa,
      ...dataDirOf('api'),
    },
    spa: {
      PORT: String(ports.spa),
      ISSUER_BASE_URL: issuer,
      CLIENT_ID: clientId,
      AUDIENCE: audience,
      API_URL: urls.api,
      ALLOWED_API_ORIGINS: urls.api,
    },
    console: { PORT: String(ports.console), ISSUER_BASE_URL: issuer, CLIENT_ID: 'tenant-console' },
  };

  const started: Program[] = [];
  let stopping = false;
  const stop = async () => {
    stopping = true;
    for (const program of [...started].reverse()) await program.stop(stopGraceMs);
    for (const cleanup of cleanups.splice(0)) cleanup();
    process.off('exit', killOnExit);
  };
  // Last resort if the parent dies without calling stop(): no orphans listening on our ports.
  const killOnExit = () => {
    for (const program of started) if (!program.exitInfo) program.child.kill('SIGKILL');
  };
  process.on('exit', killOnExit);

  try {
    for (const name of START_ORDER) {
      if (options.signal?.aborted) throw new SystemStartError('start-up cancelled');
      const url = `${urls[name]}${PROGRAMS[name].readyPath}`;
      const title = PROGRAMS[name].title;
      options.onProgress?.({ kind: 'starting', program: name, title, url });
      const began = performance.now();
      const program = new Program(
        { label: name, ...PROGRAMS[name] },
        { ...baseEnv(), ...envOf[name], ...options.env?.[name] },
        onLog,
      );
      started.push(program);
      await waitUntilReady(program, url, readyTimeoutMs, options.signal);
      options.onProgress?.({ kind: 'ready', program: name, title, url, ms: performance.now() - began });
    }
  } catch (error) {
    await stop();
    throw error;
  }

  const byName = (name: ProgramName) => started.find((p) => p.label === name);
  const ended = new Promise<{ program: ProgramName; title: string; how: string }>((resolve) => {
    for (const program of started) {
      void program.exited.then((info) => {
        if (stopping) return;
        resolve({ program: program.label as ProgramName, title: program.title, how: describeExit(info) });
      });
    }
  });
  return {
    ended,
    ports,
    urls,
    issuer,
    audience,
    clientId,
    tenantFile,
    logs: (name) => byName(name)?.lines ?? [],
    stop,
  };
}
