// npm run bench -- token-endpoint: the real authorization server issuing client_credentials tokens under a
// bounded load (autocannon), against the raw RS256 signing rate of node:crypto measured in the same run.
// The ratio says how much of the signing budget the protocol around it (HTTP, client auth, policy, SQLite) costs.
import { type ChildProcess, spawn } from 'node:child_process';
import { generateKeyPairSync, sign } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 5);
const CONNECTIONS = Number(process.env['BENCH_CONNECTIONS'] ?? 10);
const GOAL = 0.6;

type AutocannonResult = {
  requests: { total: number; average: number };
  latency: { p50: number; p99: number; average: number };
  non2xx: number;
  errors: number;
  duration: number;
  '2xx': number;
};
type AutocannonOptions = {
  url: string;
  method?: string;
  body?: string;
  headers?: Record<string, string>;
  connections: number;
  duration: number;
};
const autocannon = require('autocannon') as (options: AutocannonOptions) => Promise<AutocannonResult>;

const here = fileURLToPath(new URL('.', import.meta.url));
const SERVER_MAIN = join(here, '..', 'apps', 'auth-server', 'src', 'main.ts');

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

async function startServer(dataDir: string): Promise<{ issuer: string; child: ChildProcess }> {
  const port = await freePort();
  const issuer = `http://localhost:${port}/`;
  const child = spawn(process.execPath, [SERVER_MAIN], {
    env: {
      PATH: process.env['PATH'],
      PORT: String(port),
      ISSUER: issuer,
      DATA_DIR: dataDir,
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`auth server exited with ${child.exitCode}`);
    try {
      if ((await fetch(`${issuer}.well-known/openid-configuration`)).status === 200) return { issuer, child };
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error('auth server did not become ready');
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Raw RS256 signatures per second on one thread: a JWT-sized input, a 2048-bit key, node:crypto only. */
function rawSigningRate(ms: number): number {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const input = Buffer.from(`${'h'.repeat(100)}.${'p'.repeat(400)}`);
  for (let i = 0; i < 50; i++) sign('sha256', input, privateKey); // warm-up
  let count = 0;
  const start = performance.now();
  while (performance.now() - start < ms) {
    sign('sha256', input, privateKey);
    count++;
  }
  return count / ((performance.now() - start) / 1000);
}

const fmt = (n: number, digits = 0) =>
  n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'token-bench-'));
  let server: { issuer: string; child: ChildProcess } | undefined;
  try {
    const rawBefore = rawSigningRate(2000);
    server = await startServer(dataDir);
    const url = `${server.issuer}oauth/token`;
    const body = new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: 'messages-m2m',
      client_secret: 'dev-m2m-secret',
      audience: 'http://localhost:3001/api',
    }).toString();
    const check = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body,
    });
    if (check.status !== 200)
      throw new Error(`token endpoint answered ${check.status}: ${await check.text()}`);
    const request = {
      url,
      method: 'POST',
      body,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      connections: CONNECTIONS,
    };
    await autocannon({ ...request, duration: 1 }); // warm-up, not recorded
    const result = await autocannon({ ...request, duration: SECONDS });
    const rawAfter = rawSigningRate(2000);
    const raw = (rawBefore + rawAfter) / 2;
    const tokensPerSecond = result['2xx'] / result.duration;
    const ratio = tokensPerSecond / raw;

    console.log(
      `autocannon: POST /oauth/token client_credentials, ${CONNECTIONS} connections, ${SECONDS} s (after a 1 s warm-up)`,
    );
    console.log(
      `  tokens issued       ${fmt(result['2xx'])} (non-2xx ${result.non2xx}, errors ${result.errors})`,
    );
    console.log(`  tokens/s            ${fmt(tokensPerSecond)}`);
    console.log(`  latency p50 / p99   ${fmt(result.latency.p50, 1)} ms / ${fmt(result.latency.p99, 1)} ms`);
    console.log(
      `raw RS256 signatures/s (node:crypto, one thread, 2048-bit): ${fmt(raw)} (before ${fmt(rawBefore)}, after ${fmt(rawAfter)})`,
    );
    console.log(
      `ratio tokens/s : raw signatures/s = ${fmt(ratio, 2)} (goal >= ${GOAL}) ${ratio >= GOAL ? 'MET' : 'NOT MET'}`,
    );
    if (result.non2xx > 0 || result.errors > 0) process.exitCode = 1;
  } finally {
    server?.child.kill('SIGTERM');
    rmSync(dataDir, { recursive: true, force: true });
  }
}

await main();
