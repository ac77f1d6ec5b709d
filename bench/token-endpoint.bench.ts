// npm run bench -- token-endpoint: the real authorization server issuing client_credentials tokens under a
// bounded load (autocannon), against the raw RS256 signing rate of node:crypto measured in the same run.
// The ratio says how much of the signing budget the protocol around it (HTTP, client auth, policy, SQLite) costs.
// Then the same load again during a flood of sign-in attempts for unknown emails, each from its own network,
// well past what the password threads can hash: its p99 ÷ the first run's p99 says how much a flood of
// password work still costs token requests (the review saw one go from 5 ms to 2,168 ms).
import { type ChildProcess, spawn } from 'node:child_process';
import { generateKeyPairSync, sign } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formFields, OAuthTestClient, pkcePair } from '@calling-api/testkit/oauth-client';

const require = createRequire(import.meta.url);
const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 5);
const CONNECTIONS = Number(process.env['BENCH_CONNECTIONS'] ?? 10);
const GOAL = 0.6;
// Sign-in attempts per second during the flood: several times what one hashing thread can check.
const FLOOD_RATE = Number(process.env['BENCH_FLOOD_RATE'] ?? 200);
const FLOOD_GOAL = 3;

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
      LOG_LEVEL: 'error',
      // The flood's X-Forwarded-For spreads it over networks, as a botnet's would be.
      TRUST_PROXY: 'true',
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

/**
 * Sign-in attempts for unknown emails at `rate` per second for `ms`, each from a network of its own, posted
 * to a few login pages (a failed attempt shows the same form again). Runs in a process of its own (see
 * main), so that its client work does not slow autocannon's clock; prints its tally as JSON.
 */
async function flood(issuer: string, rate: number, ms: number): Promise<void> {
  const pages: { c: OAuthTestClient; form: { action: string; fields: Record<string, string> } }[] = [];
  for (let p = 0; p < 10; p++) {
    const c = new OAuthTestClient(issuer);
    const page = await c.follow(
      c.authorizeUrl({
        client_id: 'angularjs-spa',
        response_type: 'code',
        redirect_uri: 'http://localhost:3000/callback',
        scope: 'openid',
        code_challenge: pkcePair().challenge,
        code_challenge_method: 'S256',
      }),
      { headers: { 'x-forwarded-for': `192.0.2.${p + 1}` } },
    );
    const form = formFields(page.body, '/login');
    if (!form) throw new Error(`no login page: ${page.status}`);
    pages.push({ c, form });
  }
  const statuses: Record<number, number> = {};
  const inFlight = new Set<Promise<void>>();
  let sent = 0;
  const send = () => {
    const i = sent++;
    const { c, form } = pages[i % pages.length]!;
    const address =
      i % 2 ? `::ffff:198.18.${(i >> 8) & 255}.${i & 255}` : `198.19.${(i >> 8) & 255}.${i & 255}`;
    const attempt = c
      .request(form.action, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': address },
        body: new URLSearchParams({
          ...form.fields,
          email: `nobody${i}@example.com`,
          password: 'guess',
        }).toString(),
      })
      .then(
        (r) => {
          statuses[r.status] = (statuses[r.status] ?? 0) + 1;
        },
        () => {
          statuses[0] = (statuses[0] ?? 0) + 1;
        },
      );
    inFlight.add(attempt);
    void attempt.finally(() => inFlight.delete(attempt));
  };
  // Ten sends every 1000 × 10 / rate ms: the rate without a timer per request.
  const timer = setInterval(
    () => {
      for (let k = 0; k < 10; k++) send();
    },
    (1000 * 10) / rate,
  );
  await new Promise((r) => setTimeout(r, ms));
  clearInterval(timer);
  await Promise.all(inFlight);
  console.log(JSON.stringify({ sent, statuses }));
}

/** Starts the flood in a child process; resolves with its tally when it ends. */
function startFlood(issuer: string, rate: number, ms: number): Promise<{ sent: number; statuses: string }> {
  const child = spawn(
    process.execPath,
    [fileURLToPath(import.meta.url), '--flood', issuer, String(rate), String(ms)],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  let out = '';
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
  });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => {
      if (code !== 0) return reject(new Error(`the flood exited with ${code}`));
      const tally = JSON.parse(out) as { sent: number; statuses: Record<string, number> };
      const statuses = Object.entries(tally.statuses)
        .map(([k, v]) => `${k}×${v}`)
        .join(' ');
      resolve({ sent: tally.sent, statuses });
    });
  });
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
    // The flood starts 1 s before the second measurement (the hashing queue fills) and ends with it.
    const flooding = startFlood(server.issuer, FLOOD_RATE, (SECONDS + 1) * 1000);
    await new Promise((r) => setTimeout(r, 1000));
    const during = await autocannon({ ...request, duration: SECONDS });
    const flooded = await flooding;
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
    const p99Ratio = during.latency.p99 / result.latency.p99;
    console.log(
      `during a flood of ${FLOOD_RATE} sign-ins/s for unknown emails (${flooded.sent} sent: ${flooded.statuses}):`,
    );
    console.log(
      `  tokens issued       ${fmt(during['2xx'])} (non-2xx ${during.non2xx}, errors ${during.errors}), ${fmt(during['2xx'] / during.duration)}/s`,
    );
    console.log(`  latency p50 / p99   ${fmt(during.latency.p50, 1)} ms / ${fmt(during.latency.p99, 1)} ms`);
    console.log(
      `ratio p99 during the flood : p99 without = ${fmt(p99Ratio, 2)} (goal <= ${FLOOD_GOAL}) ${p99Ratio <= FLOOD_GOAL ? 'MET' : 'NOT MET'}`,
    );
    if (result.non2xx > 0 || result.errors > 0 || during.non2xx > 0 || during.errors > 0)
      process.exitCode = 1;
  } finally {
    server?.child.kill('SIGTERM');
    rmSync(dataDir, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--flood') {
  await flood(process.argv[3]!, Number(process.argv[4]), Number(process.argv[5]));
} else {
  await main();
}
