// A real PostgreSQL server for tests: TEST_DATABASE_URL when set, otherwise one started here from Debian's
// binaries (/usr/lib/postgresql/<version>/bin, or PG_BIN) in a temporary folder on a free loopback port,
// with its unix socket in that folder, and removed by stop(). initdb refuses to run as root, so as root
// (CI) the server runs as the `postgres` user. Each test takes its own database (createDatabase).
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from './free-port.ts';
import { type Spawned, spawnAndWait } from './spawn-and-wait.ts';

export type TestPostgres = {
  /** The server's maintenance database, password included: for test code only, never to be printed. */
  readonly url: string;
  /** Whether this kit started the server (and so can restart and remove it). */
  readonly own: boolean;
  /** The temporary folder holding the server's files and socket; undefined for TEST_DATABASE_URL. */
  readonly folder: string | undefined;
  /** What starting it cost (initdb and start), in milliseconds; 0 for TEST_DATABASE_URL. */
  readonly startupMs: number;
  /** A new, empty database; its URL. Dropped by stop(). */
  createDatabase(): Promise<string>;
  /** Stops the server (fast shutdown: connections are cut) and, after `downMs`, starts it again on the same port. */
  restart(downMs?: number): Promise<void>;
  stop(): Promise<void>;
};

export type PostgresOptions = {
  /** Start a server here even when TEST_DATABASE_URL is set (a test that restarts it needs that). */
  own?: boolean;
  /**
   * A folder to keep the server in across runs (`npm run start:cluster`): created on first use with its
   * password beside the data, reused after, never removed, and durable (fsync on). Without it: a
   * temporary folder, removed by stop(), and no fsync (durability is not under test).
   */
  keepIn?: string;
  /** The port to listen on; a free one by default. */
  port?: number;
};

export async function startPostgres(options: PostgresOptions = {}): Promise<TestPostgres> {
  const external = process.env.TEST_DATABASE_URL;
  return external && !options.own && !options.keepIn ? externalServer(external) : ownServer(options);
}

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.href;
}

async function admin<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

function databases(url: string) {
  const created: string[] = [];
  return {
    async create(): Promise<string> {
      const name = `testkit_${randomBytes(6).toString('hex')}`;
      await admin(url, (c) => c.query(`CREATE DATABASE ${name}`));
      created.push(name);
      return withDatabase(url, name);
    },
    async dropAll(): Promise<void> {
      await admin(url, async (c) => {
        for (const name of created.splice(0)) await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      });
    },
  };
}

async function externalServer(url: string): Promise<TestPostgres> {
  const dbs = databases(url);
  return {
    url,
    own: false,
    folder: undefined,
    startupMs: 0,
    createDatabase: () => dbs.create(),
    async restart() {
      throw new Error(
        'testkit: TEST_DATABASE_URL names a server this kit did not start; it cannot restart it',
      );
    },
    stop: () => dbs.dropAll(),
  };
}

async function ownServer(options: PostgresOptions): Promise<TestPostgres> {
  const started = performance.now();
  const bin = await postgresBinaries();
  const owner = unprivilegedOwner();
  const kept = options.keepIn !== undefined;
  if (kept) mkdirSync(options.keepIn!, { recursive: true, mode: 0o700 });
  const dir = kept ? options.keepIn! : mkdtempSync(join(tmpdir(), 'testkit-pg-'));
  const removeDir = () => {
    if (!kept) rmSync(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 50 });
  };
  let server: Spawned | undefined;
  // A test process that ends without stop() (a failed assertion in a hook, Ctrl-C) still leaves nothing behind.
  const onExit = () => {
    server?.child.kill('SIGQUIT');
    removeDir();
  };
  process.once('exit', onExit);
  try {
    const ids = owner ? { uid: owner.uid, gid: owner.gid } : {};
    if (owner) chownSync(dir, owner.uid, owner.gid);
    const data = join(dir, 'data');
    const pwfile = join(dir, 'password');
    let password: string;
    if (kept && existsSync(join(data, 'PG_VERSION'))) {
      password = readFileSync(pwfile, 'utf8');
    } else {
      password = randomBytes(18).toString('base64url');
      writeFileSync(pwfile, password, { mode: 0o600 });
      if (owner) chownSync(pwfile, owner.uid, owner.gid);
      execFileSync(
        join(bin, 'initdb'),
        [
          '-D',
          data,
          '-U',
          'postgres',
          '--auth=scram-sha-256',
          `--pwfile=${pwfile}`,
          '-E',
          'UTF8',
          '--locale=C',
        ],
        { ...ids, stdio: 'pipe', env: { PATH: process.env.PATH, LANG: 'C' } },
      );
      if (!kept) rmSync(pwfile);
    }
    const port = options.port ?? (await freePort());
    const url = `postgres://postgres:${password}@127.0.0.1:${port}/postgres`;
    const start = () =>
      spawnAndWait(
        join(bin, 'postgres'),
        [
          ...['-D', data, '-p', String(port), '-k', dir],
          ...['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200'],
          // In tests durability is not under test: skip the fsyncs that make a 2-core machine wait.
          ...(kept ? [] : ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off']),
        ],
        {
          ...ids,
          env: { PATH: process.env.PATH, LANG: 'C' },
          ready: () => canConnect(url),
          label: 'postgres',
        },
      );
    server = await start();
    const startupMs = performance.now() - started;
    const dbs = databases(url);
    return {
      url,
      own: true,
      folder: dir,
      startupMs,
      createDatabase: () => dbs.create(),
      async restart(downMs = 0) {
        await server?.stop('SIGINT', 10_000);
        await new Promise((r) => setTimeout(r, downMs));
        server = await start();
      },
      async stop() {
        await server?.stop('SIGINT', 10_000);
        server = undefined;
        process.removeListener('exit', onExit);
        removeDir();
      },
    };
  } catch (err) {
    await server?.stop('SIGQUIT');
    process.removeListener('exit', onExit);
    removeDir();
    throw err;
  }
}

async function canConnect(url: string): Promise<boolean> {
  await admin(url, (c) => c.query('SELECT 1'));
  return true;
}

/** As root, the `postgres` user's ids: initdb and postgres refuse to run as root. */
function unprivilegedOwner(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('postgres:'));
  if (!line) {
    throw new Error(
      'testkit: running as root, and there is no "postgres" user to run PostgreSQL as (Debian\'s postgresql package creates it)',
    );
  }
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

function findBinaries(): string | undefined {
  const has = (dir: string) => existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'postgres'));
  if (process.env.PG_BIN) return has(process.env.PG_BIN) ? process.env.PG_BIN : undefined;
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((v) => /^\d+$/.test(v))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  return versions.map((v) => join(root, v, 'bin')).find(has);
}

/** The server's binaries; as root on Debian, installed with apt-get when missing (as CI's fresh machine may need). */
async function postgresBinaries(): Promise<string> {
  const found = findBinaries();
  if (found) return found;
  const where = process.env.PG_BIN ?? '/usr/lib/postgresql/<version>/bin';
  const canInstall =
    process.platform === 'linux' && process.getuid?.() === 0 && existsSync('/usr/bin/apt-get');
  if (!canInstall) {
    throw new Error(
      `testkit: no PostgreSQL server binaries (initdb, postgres) in ${where}; install Debian's postgresql package, set PG_BIN, or set TEST_DATABASE_URL`,
    );
  }
  console.log("testkit: no PostgreSQL server binaries; installing Debian's postgresql package");
  for (const args of [['update'], ['install', '-y', '--no-install-recommends', 'postgresql']]) {
    const code = await new Promise<number>((resolve) => {
      const child = spawn('apt-get', args, {
        stdio: ['ignore', 'inherit', 'inherit'],
        env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
      });
      child.once('error', () => resolve(127));
      child.once('exit', (c) => resolve(c ?? 1));
    });
    if (code !== 0) throw new Error(`testkit: "apt-get ${args.join(' ')}" failed (exit ${code})`);
  }
  const installed = findBinaries();
  if (!installed) throw new Error(`testkit: postgresql installed, but no initdb and postgres in ${where}`);
  return installed;
}
