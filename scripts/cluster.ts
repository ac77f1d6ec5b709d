// `npm run start:cluster`: the system as a team runs it past one machine, on one: two authorization-server
// instances behind a reverse proxy on :4000, two Messages API instances behind one on :3001, all four on
// one PostgreSQL, and the AngularJS app on :3000 as usual. The proxy (http-proxy-3) spreads requests
// round-robin with no sticky sessions and sets X-Forwarded-For/-Proto/-Host, so the instances run with
// TRUST_PROXY=true; an instance that refuses connections is skipped for a few seconds, as nginx does.
//
// DATABASE_URL names the database; without it a PostgreSQL server is started in DATA_DIR/postgres
// (Debian's binaries, through @calling-api/testkit) and kept there between runs. DATA_DIR defaults to
// .data/cluster at the repository's root.
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import path from 'node:path';
import { Readable } from 'node:stream';
import { describeDatabase } from '@calling-api/postgres';
import { startPostgres, type TestPostgres } from '@calling-api/testkit/postgres';
import { createProxyServer } from 'http-proxy-3';
import {
  baseEnv,
  DEFAULT_AUDIENCE,
  DEFAULT_CONSOLE_ORIGIN,
  DEFAULT_PORTS,
  DEFAULT_SPA_ORIGIN,
  DEFAULT_TENANT_FILE,
  deriveTenant,
  describeExit,
  freePort,
  isPortFree,
  PROGRAMS,
  Program,
  REPO_ROOT,
  SystemStartError,
  waitUntilReady,
} from './system.ts';

const INSTANCES = 2;
/** How long a target that refused a connection is left out of the rotation. */
const DOWN_FOR_MS = 5000;

export type Cluster = {
  readonly urls: { auth: string; api: string; spa: string; console: string };
  readonly issuer: string;
  /** Each instance's own URL (behind the proxies), by program. */
  readonly instances: { auth: string[]; api: string[] };
  /** Where the data is, for people: PostgreSQL's host and database, never its password. */
  readonly database: string;
  readonly programs: readonly Program[];
  stop(): Promise<void>;
};

export type ClusterOptions = {
  dataDir: string;
  databaseUrl?: string;
  ports?: Partial<typeof DEFAULT_PORTS>;
  onLog?: (line: string) => void;
  onProgress?: (message: string) => void;
};

type Target = { url: string; downUntil: number };

/** Bodies the proxy holds to retry a request at another instance; larger ones are refused (413). */
const MAX_BODY_BYTES = 1024 * 1024;

function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        req.destroy();
        reject(new Error('too large'));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(chunks.length === 0 ? undefined : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** A reverse proxy on `port` (loopback) spreading requests over `targets` in turn. */
function balancer(port: number, targets: string[], label: string): Promise<Server> {
  const proxy = createProxyServer({ xfwd: true, proxyTimeout: 30_000 });
  const pool: Target[] = targets.map((url) => ({ url, downUntil: 0 }));
  let next = 0;
  const pick = (): Target => {
    const now = Date.now();
    for (let i = 0; i < pool.length; i++) {
      const t = pool[next++ % pool.length]!;
      if (t.downUntil <= now) return t;
    }
    return pool[next++ % pool.length]!; // all marked down: try anyway
  };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    // The instances believe these headers (TRUST_PROXY): only this proxy may set them, as nginx's
    // proxy_set_header does. X-Forwarded-For is appended to, and the instances trust its last entry only.
    delete req.headers['x-forwarded-host'];
    delete req.headers['x-forwarded-proto'];
    delete req.headers['x-forwarded-port'];
    // The body is read first (these are small: forms, JSON, token requests), so that a request an
    // instance refused to connect for can go to the next one, as nginx's proxy_next_upstream does.
    readBody(req).then(
      (body) => {
        const attempt = (tries: number) => {
          const target = pick();
          const buffer = Readable.from(body === undefined ? [] : [body]);
          proxy.web(req, res, { target: target.url, buffer }, (err: Error & { code?: string }) => {
            if (err.code === 'ECONNREFUSED') {
              target.downUntil = Date.now() + DOWN_FOR_MS;
              if (!res.headersSent && tries < pool.length) {
                attempt(tries + 1);
                return;
              }
            }
            if (res.headersSent) {
              res.destroy();
              return;
            }
            res.writeHead(502, { 'content-type': 'application/json', 'retry-after': '1' });
            res.end(
              JSON.stringify({ error: 'bad_gateway', error_description: `${label}: no instance answered` }),
            );
          });
        };
        attempt(1);
      },
      () => {
        res.writeHead(413, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({ error: 'payload_too_large', error_description: 'The request body is too large.' }),
        );
      },
    );
  });
  server.keepAliveTimeout = 5000;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

export async function startCluster(options: ClusterOptions): Promise<Cluster> {
  const onLog = options.onLog ?? ((line: string) => process.stdout.write(`${line}\n`));
  const progress = options.onProgress ?? (() => {});
  const ports = { ...DEFAULT_PORTS, ...options.ports };
  for (const [name, port] of Object.entries(ports)) {
    if (!(await isPortFree(port))) throw new SystemStartError(`port ${port} (${name}) is already in use`);
  }
  mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });

  const started: Program[] = [];
  const servers: Server[] = [];
  let postgres: TestPostgres | undefined;
  const stop = async () => {
    for (const s of servers) s.close();
    for (const s of servers) s.closeAllConnections();
    for (const p of [...started].reverse()) await p.stop(5000);
    await postgres?.stop();
  };

  try {
    let databaseUrl = options.databaseUrl;
    if (!databaseUrl) {
      // As root the server runs as the postgres user, which must be able to pass through (not list) DATA_DIR.
      chmodSync(options.dataDir, 0o711);
      progress(`starting PostgreSQL in ${path.join(options.dataDir, 'postgres')} ...`);
      postgres = await startPostgres({ keepIn: path.join(options.dataDir, 'postgres') });
      databaseUrl = postgres.url;
    }
    const urls = {
      auth: `http://localhost:${ports.auth}`,
      api: `http://localhost:${ports.api}`,
      spa: `http://localhost:${ports.spa}`,
      console: `http://localhost:${ports.console}`,
    };
    const issuer = `${urls.auth}/`;
    // The tenant's SPA and console URLs follow their ports, as with npm start.
    let tenantFile = DEFAULT_TENANT_FILE;
    if (urls.spa !== DEFAULT_SPA_ORIGIN || urls.console !== DEFAULT_CONSOLE_ORIGIN) {
      tenantFile = path.join(options.dataDir, 'tenant.json');
      const tenant = deriveTenant(DEFAULT_TENANT_FILE, { spaOrigin: urls.spa, consoleOrigin: urls.console });
      writeFileSync(tenantFile, `${JSON.stringify(tenant, null, 2)}\n`, { mode: 0o600 });
    }
    const instancePorts = {
      auth: await Promise.all(Array.from({ length: INSTANCES }, () => freePort())),
      api: await Promise.all(Array.from({ length: INSTANCES }, () => freePort())),
    };
    const instances = {
      auth: instancePorts.auth.map((p) => `http://127.0.0.1:${p}`),
      api: instancePorts.api.map((p) => `http://127.0.0.1:${p}`),
    };
    servers.push(await balancer(ports.auth, instances.auth, 'authorization server'));
    servers.push(await balancer(ports.api, instances.api, 'Messages API'));

    const launch = async (
      name: 'auth' | 'api',
      index: number,
      env: Record<string, string>,
    ): Promise<Program> => {
      const program = new Program(
        {
          label: `${name}${index + 1}`,
          title: `${PROGRAMS[name].title} ${index + 1}`,
          main: PROGRAMS[name].main,
        },
        { ...baseEnv(), ...env, PORT: String(instancePorts[name][index]), DATABASE_URL: databaseUrl! },
        onLog,
      );
      started.push(program);
      await waitUntilReady(
        program,
        `${instances[name][index]}${PROGRAMS[name].readyPath}`,
        60_000,
        undefined,
      );
      return program;
    };
    progress(`starting ${INSTANCES} authorization servers behind ${urls.auth} ...`);
    // Together on an empty database: the migrations, the tenant and the first keys are made once.
    await Promise.all(
      instancePorts.auth.map((_, i) =>
        launch('auth', i, {
          ISSUER: issuer,
          TENANT_FILE: tenantFile,
          TRUST_PROXY: 'true',
          DATA_DIR: path.join(options.dataDir, `auth-${i + 1}`),
        }),
      ),
    );
    progress(`starting ${INSTANCES} Messages APIs behind ${urls.api} ...`);
    await Promise.all(
      instancePorts.api.map((_, i) =>
        launch('api', i, {
          ISSUER_BASE_URL: issuer,
          AUDIENCE: DEFAULT_AUDIENCE,
          CORS_ORIGINS: urls.spa,
          // DPoP proofs name the URL the client called: the proxy's, not this instance's.
          PUBLIC_ORIGIN: urls.api,
          DATA_DIR: path.join(options.dataDir, `api-${i + 1}`),
        }),
      ),
    );
    progress(`starting the AngularJS app on ${urls.spa} ...`);
    const spa = new Program(
      { label: 'spa', ...PROGRAMS.spa },
      {
        ...baseEnv(),
        PORT: String(ports.spa),
        ISSUER_BASE_URL: issuer,
        CLIENT_ID: 'angularjs-spa',
        AUDIENCE: DEFAULT_AUDIENCE,
        API_URL: urls.api,
        ALLOWED_API_ORIGINS: urls.api,
      },
      onLog,
    );
    started.push(spa);
    await waitUntilReady(spa, `${urls.spa}/`, 60_000, undefined);
    progress(`starting the tenant console on ${urls.console} ...`);
    const tenantConsole = new Program(
      { label: 'console', ...PROGRAMS.console },
      { ...baseEnv(), PORT: String(ports.console), ISSUER_BASE_URL: issuer, CLIENT_ID: 'tenant-console' },
      onLog,
    );
    started.push(tenantConsole);
    await waitUntilReady(tenantConsole, `${urls.console}/`, 60_000, undefined);
    return {
      urls,
      issuer,
      instances,
      database: describeDatabase(databaseUrl),
      programs: started,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

async function main(): Promise<void> {
  const dataDir = path.resolve(process.env['DATA_DIR']?.trim() || path.join(REPO_ROOT, '.data/cluster'));
  const databaseUrl = process.env['DATABASE_URL']?.trim() || undefined;
  let cluster: Cluster | undefined;
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) process.exit(130);
    stopping = true;
    console.log(`\n${signal}: stopping the cluster ...`);
    await cluster?.stop();
    console.log('stopped.');
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  try {
    cluster = await startCluster({
      dataDir,
      ...(databaseUrl ? { databaseUrl } : {}),
      onProgress: (message) => console.log(message),
    });
  } catch (error) {
    if (!(error instanceof SystemStartError)) throw error;
    console.error(`\nnpm run start:cluster: ${error.message}`);
    process.exit(1);
  }
  console.log(`
The cluster is ready, on ${cluster.database}.

  AngularJS app          ${cluster.urls.spa}   <- open this in a browser
  tenant console         ${cluster.urls.console}   (admin@example.com / Admin-password-1)
  Messages API           ${cluster.urls.api}   -> ${cluster.instances.api.join(', ')}
  authorization server   ${cluster.urls.auth}   -> ${cluster.instances.auth.join(', ')}   issuer ${cluster.issuer}

Sign in as alice@example.com / Alice-password-1 (or bob, carol: see npm start). Requests alternate
between the instances; stop one (kill its pid) and the other answers. Ctrl-C stops everything.
`);
  const ended = await Promise.race(cluster.programs.map((p) => p.exited.then((info) => ({ p, info }))));
  if (!stopping) {
    console.error(
      `\n${ended.p.title} stopped on its own (${describeExit(ended.info)}); the others keep running.`,
    );
  }
}

if (import.meta.main) await main();
