// npm run bench -- token-storage: client_credentials tokens/s of the real authorization server on PostgreSQL
// against SQLite (one instance each, measured in alternation in the same run), and of two instances on one
// PostgreSQL against one. The token path reads the tenant from memory on both stores, so the goal is that
// PostgreSQL costs little (>= 0.8 of SQLite); on 2 cores two instances cannot double, so that ratio is reported.

import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, type Spawned, spawnAndWait } from '@calling-api/testkit';
import { startPostgres } from '@calling-api/testkit/postgres';

const require = createRequire(import.meta.url);
const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 5);
const CONNECTIONS = Number(process.env['BENCH_CONNECTIONS'] ?? 10);
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 3);
const GOAL = 0.8;

type AutocannonResult = {
  latency: { p50: number; p99: number };
  non2xx: number;
  errors: number;
  '2xx': number;
  duration: number;
};
const autocannon = require('autocannon') as (options: Record<string, unknown>) => Promise<AutocannonResult>;

const SERVER_MAIN = fileURLToPath(new URL('../apps/auth-server/src/main.ts', import.meta.url));
const BODY = new URLSearchParams({
  grant_type: 'client_credentials',
  client_id: 'messages-m2m',
  client_secret: 'dev-m2m-secret',
  audience: 'http://localhost:3001/api',
}).toString();

type Instance = { url: string; server: Spawned; dataDir: string };

async function startInstance(env: Record<string, string>): Promise<Instance> {
  const port = await freePort();
  const url = `http://localhost:${port}/`;
  const dataDir = mkdtempSync(join(tmpdir(), 'token-storage-bench-'));
  const server = await spawnAndWait(process.execPath, [SERVER_MAIN], {
    env: {
      PATH: process.env['PATH'],
      PORT: String(port),
      ISSUER: url,
      DATA_DIR: dataDir,
      LOG_LEVEL: 'warn',
      ...env,
    },
    ready: async () => (await fetch(`${url}.well-known/openid-configuration`)).ok,
    timeoutMs: 30_000,
    label: 'auth-server',
  });
  return { url, server, dataDir };
}

async function stopInstance(i: Instance): Promise<void> {
  await i.server.stop();
  rmSync(i.dataDir, { recursive: true, force: true });
}

type Load = { tokensPerSecond: number; p50: number; p99: number; failed: number };

/** autocannon against each instance at once, the connections shared out; a 1 s warm-up first. */
async function load(instances: Instance[]): Promise<Load> {
  const run = (duration: number) =>
    Promise.all(
      instances.map((i) =>
        autocannon({
          url: `${i.url}oauth/token`,
          method: 'POST',
          body: BODY,
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          connections: Math.max(1, Math.round(CONNECTIONS / instances.length)),
          duration,
        }),
      ),
    );
  await run(1);
  const results = await run(SECONDS);
  return {
    tokensPerSecond: results.reduce((sum, r) => sum + r['2xx'] / r.duration, 0),
    p50: Math.max(...results.map((r) => r.latency.p50)),
    p99: Math.max(...results.map((r) => r.latency.p99)),
    failed: results.reduce((sum, r) => sum + r.non2xx + r.errors, 0),
  };
}

const fmt = (n: number, digits = 0) =>
  n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const line = (label: string, runs: Load[]) =>
  console.log(
    `  ${label.padEnd(26)} ${runs.map((r) => fmt(r.tokensPerSecond)).join(' / ')} tokens/s` +
      `   (p50 ${fmt(median(runs.map((r) => r.p50)), 1)} ms, p99 ${fmt(median(runs.map((r) => r.p99)), 1)} ms)`,
  );

async function main(): Promise<void> {
  const postgres = await startPostgres();
  const started: Instance[] = [];
  try {
    const databaseUrl = await postgres.createDatabase();
    const sqlite = await startInstance({});
    const pgOne = await startInstance({ DATABASE_URL: databaseUrl });
    const pgTwo = await startInstance({ DATABASE_URL: databaseUrl });
    started.push(sqlite, pgOne, pgTwo);

    const runs = { sqlite: [] as Load[], postgres: [] as Load[], twoInstances: [] as Load[] };
    // Alternating rounds, so that a burst of outside load on the shared machine falls on both stores alike.
    for (let round = 0; round < ROUNDS; round++) {
      runs.sqlite.push(await load([sqlite]));
      runs.postgres.push(await load([pgOne]));
      runs.twoInstances.push(await load([pgOne, pgTwo]));
    }
    const rate = (xs: Load[]) => median(xs.map((r) => r.tokensPerSecond));
    const ratio = rate(runs.postgres) / rate(runs.sqlite);
    const scaling = rate(runs.twoInstances) / rate(runs.postgres);
    console.log(
      `autocannon: POST /oauth/token client_credentials, ${CONNECTIONS} connections, ${SECONDS} s per run, ${ROUNDS} alternating rounds` +
        ` (PostgreSQL started by the bench in ${fmt(postgres.startupMs / 1000, 2)} s${postgres.own ? '' : ': TEST_DATABASE_URL'})`,
    );
    line('SQLite, one instance', runs.sqlite);
    line('PostgreSQL, one instance', runs.postgres);
    line('PostgreSQL, two instances', runs.twoInstances);
    console.log(
      `ratio PostgreSQL : SQLite (one instance, medians) = ${fmt(ratio, 2)} (goal >= ${GOAL}) ${ratio >= GOAL ? 'MET' : 'NOT MET'}`,
    );
    console.log(
      `ratio two instances : one on PostgreSQL = ${fmt(scaling, 2)} (reported; 2 cores cannot double)`,
    );
    const failed = [...runs.sqlite, ...runs.postgres, ...runs.twoInstances].reduce((s, r) => s + r.failed, 0);
    if (failed > 0) {
      console.error(`${failed} requests failed or were not 2xx`);
      process.exitCode = 1;
    }
  } finally {
    for (const i of started) await stopInstance(i);
    await postgres.stop();
  }
}

await main();
