// npm run bench -- api: the real API process under load (autocannon, bounded in time) on the
// public route, the scoped route with a valid token, and the rejection path; beside it, in the
// same run and against the same local issuer, the original sample's stack (Express 4 +
// express-jwt + jwks-rsa + express-jwt-authz). Then floods of forged tokens and random kids,
// and the JWKS fetch count per key set. Figures only: goals are printed beside them.
//
// `node bench/api.bench.ts --peer` is the peer server itself (a child process of the bench).
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 3);
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 3);
const CONNECTIONS = Number(process.env['BENCH_CONNECTIONS'] ?? 10);
const FLOOD = Number(process.env['BENCH_FLOOD'] ?? 2000);

// ---------------------------------------------------------------------------------------------
// The peer: the original sample's server.js, on the versions the issue names.
// ---------------------------------------------------------------------------------------------
type Handler = (req: unknown, res: PeerResponse, next: (error?: unknown) => void) => void;
type PeerResponse = { status(code: number): PeerResponse; json(body: unknown): void; headersSent: boolean };
type PeerApp = {
  get(path: string, ...handlers: Handler[]): void;
  use(
    handler: Handler | ((error: { status?: number; name?: string }, ...rest: Parameters<Handler>) => void),
  ): void;
  listen(port: number, host: string, callback: () => void): { address(): AddressInfo | string | null };
};

function runPeer(): void {
  const express = require('express4') as () => PeerApp;
  const { expressjwt } = require('express-jwt') as { expressjwt: (options: object) => Handler };
  const jwksRsa = require('jwks-rsa') as { expressJwtSecret(options: object): unknown };
  const jwtAuthz = require('express-jwt-authz') as (scopes: string[], options: object) => Handler;
  const [issuer, audience, jwksUri] = [
    process.env['ISSUER']!,
    process.env['AUDIENCE']!,
    process.env['JWKS_URI']!,
  ];

  // As in the quickstart's server.js (jwksRequestsPerMinute 5, cache and rate limit on).
  const checkJwt = expressjwt({
    secret: jwksRsa.expressJwtSecret({ cache: true, rateLimit: true, jwksRequestsPerMinute: 5, jwksUri }),
    audience,
    issuer,
    algorithms: ['RS256'],
  });
  const checkScopes = jwtAuthz(['read:messages'], { customUserKey: 'auth', checkAllScopes: true });
  const app = express();
  app.get('/api/public', (_req, res) => {
    res.json({ message: "Hello from a public endpoint! You don't need to be authenticated to see this." });
  });
  app.get('/api/private', checkJwt, (_req, res) => {
    res.json({ message: 'Hello from a private endpoint! You need to be authenticated to see this.' });
  });
  app.get('/api/private-scoped', checkJwt, checkScopes, (_req, res) => {
    res.json({
      message:
        'Hello from a private endpoint! You need to be authenticated and have a scope of read:messages to see this.',
    });
  });
  app.use((error, _req, res, next) => {
    if (res.headersSent) return next(error);
    res.status(error.status ?? 401).json({ message: error.name ?? 'error' });
  });
  const server = app.listen(0, '127.0.0.1', () => {
    console.log(
      JSON.stringify({ msg: 'listening', url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }),
    );
  });
}

// ---------------------------------------------------------------------------------------------
// The bench.
// ---------------------------------------------------------------------------------------------
type AutocannonResult = {
  requests: { average: number; total: number };
  latency: { p99: number; average: number };
  non2xx: number;
  errors: number;
  timeouts: number;
  '2xx': number;
  '4xx': number;
  '5xx': number;
};
type AutocannonRequest = { method?: string; path?: string; headers?: Record<string, string> };
type AutocannonOptions = {
  url: string;
  connections: number;
  duration?: number;
  amount?: number;
  headers?: Record<string, string>;
  requests?: { setupRequest?: (request: AutocannonRequest) => AutocannonRequest }[];
};
const autocannon = require('autocannon') as (options: AutocannonOptions) => Promise<AutocannonResult>;

type Server = { url: string; child: ChildProcess; stop(): Promise<void> };

/** User + system CPU time of a process in µs, from /proc/<pid>/stat (Linux; 100 ticks/s). */
function cpuMicros(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10_000; // utime + stime, fields 14 and 15
}

function startProcess(args: string[], env: Record<string, string>, ready: RegExp): Promise<Server> {
  const child = spawn(process.execPath, args, {
    env: { PATH: process.env['PATH'] ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  return new Promise((resolve, reject) => {
    let url: string | undefined;
    let isReady = false;
    let buffered = '';
    const onData = (chunk: Buffer) => {
      buffered += chunk.toString();
      const parts = buffered.split('\n');
      buffered = parts.pop() ?? '';
      for (const line of parts) {
        lines.push(line);
        const match = /"msg":"listening".*?"url":"([^"]+)"|"url":"([^"]+)".*?"msg":"listening"/.exec(line);
        if (match) url = match[1] ?? match[2];
        if (ready.test(line)) isReady = true;
        if (url !== undefined && isReady) {
          resolve({
            url,
            child,
            stop: () =>
              new Promise((done) => {
                if (child.exitCode !== null) return done();
                child.once('exit', () => done());
                child.kill('SIGTERM');
              }),
          });
        }
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`${args.join(' ')} exited ${code}:\n${lines.join('\n')}`)));
  });
}

type Metrics = {
  verifier: {
    signatureChecks: number;
    jwksFetches: number;
    cacheHits: number;
    badSignatureHits: number;
    cacheSize: number;
  };
  memory: { heapUsed: number; rss: number };
};
const metrics = async (api: Server): Promise<Metrics> =>
  (await fetch(`${api.url}/metrics`)).json() as Promise<Metrics>;

async function flood(url: string, tokens: string[]): Promise<AutocannonResult> {
  let next = 0;
  return autocannon({
    url,
    connections: CONNECTIONS,
    amount: tokens.length,
    requests: [
      {
        setupRequest: (request) => ({
          ...request,
          headers: { ...request.headers, authorization: `Bearer ${tokens[next++ % tokens.length]}` },
        }),
      },
    ],
  });
}

const fmt = (n: number, digits = 0) =>
  n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const mb = (bytes: number) => `${fmt(bytes / 1_048_576, 1)} MB`;

async function runBench(): Promise<void> {
  const { startTestIssuer } = await import('@calling-api/jwt-bearer/testing');
  const here = fileURLToPath(new URL('.', import.meta.url));
  const apiMain = join(here, '..', 'apps', 'api', 'src', 'main.ts');
  const dataDir = mkdtempSync(join(tmpdir(), 'api-bench-'));
  const issuer = await startTestIssuer();
  const servers: Server[] = [];
  try {
    const apiEnv = {
      PORT: '0',
      ISSUER_BASE_URL: issuer.issuer,
      AUDIENCE: issuer.audience,
      DATA_DIR: dataDir,
      LOG_LEVEL: 'info',
      LOG_REQUESTS: 'false', // one line per request would be measured too; the peer logs nothing
      EXPOSE_METRICS: 'true',
    };
    const ours = await startProcess(['--expose-gc', apiMain], apiEnv, /signing keys loaded/);
    const oursKeysLoadedAt = Date.now();
    servers.push(ours);
    const peer = await startProcess(
      [fileURLToPath(import.meta.url), '--peer'],
      { ISSUER: issuer.issuer, AUDIENCE: issuer.audience, JWKS_URI: issuer.jwksUri },
      /listening/,
    );
    servers.push(peer);

    const valid = await issuer.mint({ scope: 'openid profile read:messages' });
    const forged = await issuer.mint({ scope: 'openid profile read:messages' }, { signWith: 'attacker' });
    const auth = (token: string) => ({ authorization: `Bearer ${token}` });

    // Sanity: both servers give the expected answers before being measured.
    for (const server of [ours, peer]) {
      const statuses = await Promise.all([
        fetch(`${server.url}/api/public`).then((r) => r.status),
        fetch(`${server.url}/api/private-scoped`, { headers: auth(valid) }).then((r) => r.status),
        fetch(`${server.url}/api/private-scoped`, { headers: auth(forged) }).then((r) => r.status),
      ]);
      if (statuses.join() !== '200,200,401') throw new Error(`${server.url} answered ${statuses.join()}`);
    }

    console.log(
      `autocannon: ${CONNECTIONS} connections, ${SECONDS} s per run, ${ROUNDS} interleaved rounds (best shown), after a 1 s warm-up each\n`,
    );
    const runs: [string, AutocannonResult][] = [];
    // The same API with the verified-token cache off, to see whether the cache pays.
    const noCache = await startProcess(
      ['--expose-gc', apiMain],
      { ...apiEnv, TOKEN_CACHE_SIZE: '0' },
      /signing keys loaded/,
    );
    servers.push(noCache);

    const configs: {
      key: string;
      label: string;
      url: string;
      headers?: Record<string, string>;
    }[] = [
      { key: 'oursPublic', label: 'ours  GET /api/public', url: `${ours.url}/api/public` },
      // The same request bytes as the protected run, to separate the cost of sending and
      // parsing a 1 KB header (client and server share the cores) from verifying it.
      {
        key: 'oursPublicHeader',
        label: 'ours  GET /api/public (same Authorization)',
        url: `${ours.url}/api/public`,
        headers: auth(valid),
      },
      {
        key: 'oursScoped',
        label: 'ours  GET /api/private-scoped (valid token)',
        url: `${ours.url}/api/private-scoped`,
        headers: auth(valid),
      },
      {
        key: 'oursReject',
        label: 'ours  GET /api/private-scoped (forged token)',
        url: `${ours.url}/api/private-scoped`,
        headers: auth(forged),
      },
      { key: 'peerPublic', label: 'peer  GET /api/public', url: `${peer.url}/api/public` },
      {
        key: 'peerScoped',
        label: 'peer  GET /api/private-scoped (valid token)',
        url: `${peer.url}/api/private-scoped`,
        headers: auth(valid),
      },
      {
        key: 'peerReject',
        label: 'peer  GET /api/private-scoped (forged token)',
        url: `${peer.url}/api/private-scoped`,
        headers: auth(forged),
      },
      {
        key: 'noCacheScoped',
        label: 'ours, cache off: private-scoped (valid)',
        url: `${noCache.url}/api/private-scoped`,
        headers: auth(valid),
      },
      {
        key: 'noCacheReject',
        label: 'ours, cache off: private-scoped (forged)',
        url: `${noCache.url}/api/private-scoped`,
        headers: auth(forged),
      },
    ];
    // Warm-up (JIT, connections), then ROUNDS interleaved rounds so that a burst of load from
    // elsewhere on the machine hits every configuration alike.
    for (const c of configs) {
      await autocannon({ url: c.url, connections: CONNECTIONS, duration: 1, headers: c.headers ?? {} });
    }
    const samples = new Map<string, AutocannonResult[]>(configs.map((c) => [c.key, []]));
    // Server CPU per request (from /proc), which other load on the machine barely moves,
    // unlike requests per second: the steadier measure of what verification costs.
    const cpuPerRequest = new Map<string, number[]>(configs.map((c) => [c.key, []]));
    const serverFor = (url: string): Server => [ours, peer, noCache].find((srv) => url.startsWith(srv.url))!;
    const cpu = (key: string): number => {
      const sorted = [...cpuPerRequest.get(key)!].sort((a, b) => a - b);
      return sorted[Math.floor(sorted.length / 2)]!;
    };
    for (let round = 0; round < ROUNDS; round++) {
      for (const c of configs) {
        const pid = serverFor(c.url).child.pid!;
        const cpuBefore = cpuMicros(pid);
        const result = await autocannon({
          url: c.url,
          connections: CONNECTIONS,
          duration: SECONDS,
          headers: c.headers ?? {},
        });
        const served = result['2xx'] + result['4xx'] + result['5xx'];
        cpuPerRequest.get(c.key)!.push((cpuMicros(pid) - cpuBefore) / Math.max(1, served));
        samples.get(c.key)!.push(result);
        runs.push([c.label, result]);
      }
    }
    // Other work on a shared machine only ever lowers throughput: the best round is the least
    // disturbed estimate of what each configuration can do; every round is printed beside it.
    const best = (key: string): AutocannonResult =>
      [...samples.get(key)!].sort((a, b) => b.requests.average - a.requests.average)[0]!;
    for (const c of configs) {
      const result = best(c.key);
      const all = samples
        .get(c.key)!
        .map((r) => fmt(r.requests.average))
        .join(' / ');
      const codes = samples
        .get(c.key)!
        .reduce(
          (n, r) => ({ ok: n.ok + r['2xx'], c4: n.c4 + r['4xx'], c5: n.c5 + r['5xx'], e: n.e + r.errors }),
          { ok: 0, c4: 0, c5: 0, e: 0 },
        );
      console.log(
        `${c.label.padEnd(44)} ${fmt(result.requests.average).padStart(8)} req/s   p99 ${fmt(result.latency.p99).padStart(3)} ms   server CPU ${fmt(cpu(c.key), 1).padStart(5)} µs/req   (rounds: ${all})   2xx ${codes.ok} 4xx ${codes.c4} 5xx ${codes.c5} errors ${codes.e}`,
      );
    }
    const oursPublic = best('oursPublic');
    const oursPublicHeader = best('oursPublicHeader');
    const oursScoped = best('oursScoped');
    const oursReject = best('oursReject');
    const peerPublic = best('peerPublic');
    const peerScoped = best('peerScoped');
    const peerReject = best('peerReject');
    const noCacheScoped = best('noCacheScoped');
    const noCacheReject = best('noCacheReject');
    await noCache.stop();

    // One JWKS fetch per key set: rotate, then a token with the new kid.
    // An unknown kid may trigger a refetch once per JWKS_COOLDOWN_MS (30 s): wait that out first.
    await new Promise((resolve) =>
      setTimeout(resolve, Math.max(0, 31_000 - (Date.now() - oursKeysLoadedAt))),
    );
    const beforeRotation = (await metrics(ours)).verifier.jwksFetches;
    await issuer.rotate();
    const rotated = await fetch(`${ours.url}/api/private-scoped`, { headers: auth(await issuer.mint()) });
    const burst = await Promise.all(
      Array.from(
        { length: 50 },
        async () =>
          (await fetch(`${ours.url}/api/private-scoped`, { headers: auth(await issuer.mint()) })).status,
      ),
    );
    const afterRotation = (await metrics(ours)).verifier.jwksFetches;

    // Floods: N distinct forged tokens (known kid, attacker's signature), then N random kids.
    const forgedTokens = await Promise.all(
      Array.from({ length: FLOOD }, () => issuer.mint({ scope: 'read:messages' }, { signWith: 'attacker' })),
    );
    const randomKidTokens = await Promise.all(
      Array.from({ length: FLOOD }, () =>
        issuer.mint({ scope: 'read:messages' }, { signWith: 'attacker', kid: randomUUID() }),
      ),
    );
    const m0 = await metrics(ours);
    const jwks0 = issuer.counts.jwks;
    const forgedFlood = await flood(`${ours.url}/api/private-scoped`, forgedTokens);
    const m1 = await metrics(ours);
    const jwks1 = issuer.counts.jwks;
    const kidFlood = await flood(`${ours.url}/api/private-scoped`, randomKidTokens);
    const m2 = await metrics(ours);
    const jwks2 = issuer.counts.jwks;
    const peerKidFlood = await flood(`${peer.url}/api/private-scoped`, randomKidTokens);
    const jwks3 = issuer.counts.jwks;

    // The library alone, in this process: what one verification costs without HTTP around it.
    const { createVerifier, extractToken } = await import('@calling-api/jwt-bearer');
    const perCall = async (label: string, n: number, fn: () => unknown): Promise<number> => {
      for (let i = 0; i < Math.min(n, 500); i++) await fn();
      const started = performance.now();
      for (let i = 0; i < n; i++) await fn();
      const micros = ((performance.now() - started) * 1000) / n;
      console.log(`${label.padEnd(44)} ${fmt(micros, 1).padStart(8)} µs per call`);
      return micros;
    };
    const cached = createVerifier({ issuerBaseURL: issuer.issuer, audience: issuer.audience });
    const uncached = createVerifier({
      issuerBaseURL: issuer.issuer,
      audience: issuer.audience,
      cache: false,
    });
    const fresh = await issuer.mint({ scope: 'read:messages' });
    console.log('');
    const extractCost = await perCall('extractToken (header)', 50_000, () =>
      extractToken({ authorization: [`Bearer ${fresh}`] }),
    );
    const hitCost = await perCall('verify(), cache hit', 50_000, () => cached.verify(fresh));
    const missCost = await perCall('verify(), cache off (RSA via WebCrypto)', 2_000, () =>
      uncached.verify(fresh),
    );

    const ratio = (a: number, b: number) => fmt(a / b, 2);
    console.log('\n| figure | measured | goal |');
    console.log('|---|---|---|');
    console.log(
      `| ours: /api/public | ${fmt(oursPublic.requests.average)} req/s, p99 ${oursPublic.latency.p99} ms | |`,
    );
    console.log(
      `| ours: /api/private-scoped, valid token | ${fmt(oursScoped.requests.average)} req/s, p99 ${oursScoped.latency.p99} ms | |`,
    );
    console.log(
      `| ours: forged token replayed (rejection path) | ${fmt(oursReject.requests.average)} req/s, p99 ${oursReject.latency.p99} ms | |`,
    );
    console.log(
      `| ours, cache off: /api/private-scoped | ${fmt(noCacheScoped.requests.average)} req/s, p99 ${noCacheScoped.latency.p99} ms | |`,
    );
    console.log(
      `| ours, cache off: forged token | ${fmt(noCacheReject.requests.average)} req/s, p99 ${noCacheReject.latency.p99} ms | |`,
    );
    console.log(
      `| peer: /api/public | ${fmt(peerPublic.requests.average)} req/s, p99 ${peerPublic.latency.p99} ms | |`,
    );
    console.log(
      `| peer: /api/private-scoped, valid token | ${fmt(peerScoped.requests.average)} req/s, p99 ${peerScoped.latency.p99} ms | |`,
    );
    console.log(
      `| peer: forged token (rejection path) | ${fmt(peerReject.requests.average)} req/s, p99 ${peerReject.latency.p99} ms | |`,
    );
    console.log(
      `| ratio protected/public (ours) | ${ratio(oursScoped.requests.average, oursPublic.requests.average)} | >= 0.90 |`,
    );
    console.log(
      `| ratio protected/public with the same request bytes (ours) | ${ratio(oursScoped.requests.average, oursPublicHeader.requests.average)} | |`,
    );
    console.log(
      `| server CPU per request: ours public / protected / forged | ${fmt(cpu('oursPublic'), 1)} / ${fmt(cpu('oursScoped'), 1)} / ${fmt(cpu('oursReject'), 1)} µs | |`,
    );
    console.log(
      `| server CPU per request: peer public / protected / forged | ${fmt(cpu('peerPublic'), 1)} / ${fmt(cpu('peerScoped'), 1)} / ${fmt(cpu('peerReject'), 1)} µs | |`,
    );
    console.log(
      `| capacity protected/public from CPU (ours) | ${ratio(cpu('oursPublic'), cpu('oursScoped'))} | >= 0.90 |`,
    );
    console.log(
      `| capacity ours/peer, protected, from CPU | ${ratio(cpu('peerScoped'), cpu('oursScoped'))} | >= 3 |`,
    );
    console.log(
      `| capacity ours/peer, rejection, from CPU | ${ratio(cpu('peerReject'), cpu('oursReject'))} | |`,
    );
    console.log(
      `| capacity cache on/off, protected, from CPU | ${ratio(cpu('noCacheScoped'), cpu('oursScoped'))} | > 1 to keep the cache |`,
    );
    console.log(
      `| ratio protected/public (peer) | ${ratio(peerScoped.requests.average, peerPublic.requests.average)} | |`,
    );
    console.log(
      `| ratio ours/peer, protected | ${ratio(oursScoped.requests.average, peerScoped.requests.average)} | >= 3 |`,
    );
    console.log(
      `| ratio ours/peer, rejection | ${ratio(oursReject.requests.average, peerReject.requests.average)} | |`,
    );
    console.log(
      `| cache on/off, protected | ${ratio(oursScoped.requests.average, noCacheScoped.requests.average)} | > 1 to keep the cache |`,
    );
    console.log(
      `| cache on/off, rejection (same forged token replayed) | ${ratio(oursReject.requests.average, noCacheReject.requests.average)} | |`,
    );
    console.log(
      `| library per call: extract / verify hit / verify uncached | ${fmt(extractCost, 1)} / ${fmt(hitCost, 1)} / ${fmt(missCost, 1)} µs | |`,
    );
    console.log(
      `| ${FLOOD} distinct forged tokens (known kid) | ${m1.verifier.signatureChecks - m0.verifier.signatureChecks} signature checks, ${jwks1 - jwks0} JWKS fetches, heap ${mb(m0.memory.heapUsed)} -> ${mb(m1.memory.heapUsed)}, cache ${m0.verifier.cacheSize} -> ${m1.verifier.cacheSize}, ${forgedFlood['4xx']} x 401 | <= 1 check each, 0 fetches, no growth |`,
    );
    console.log(
      `| ${FLOOD} random kids (ours) | ${m2.verifier.signatureChecks - m1.verifier.signatureChecks} signature checks, ${jwks2 - jwks1} JWKS fetches, heap ${mb(m1.memory.heapUsed)} -> ${mb(m2.memory.heapUsed)}, ${kidFlood['4xx']} x 401 | 0 checks, <= 1 fetch per 30 s |`,
    );
    console.log(
      `| ${FLOOD} random kids (peer) | ${jwks3 - jwks2} JWKS fetches, ${peerKidFlood['4xx']} x 4xx, ${peerKidFlood['5xx']} x 5xx | |`,
    );
    console.log(
      `| JWKS fetches per key set (ours) | first set: ${beforeRotation}; after a rotation and 51 requests with the new kid: +${afterRotation - beforeRotation} (${rotated.status}, ${burst.filter((s) => s === 200).length}/50 x 200) | 1 per key set |`,
    );
    const fiveXX =
      runs.filter(([label]) => label.startsWith('ours')).reduce((n, [, r]) => n + r['5xx'], 0) +
      forgedFlood['5xx'] +
      kidFlood['5xx'];
    console.log(`| 5xx answers from ours, all runs | ${fiveXX} | 0 |`);
  } finally {
    for (const server of servers) await server.stop();
    await issuer.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

if (process.argv.includes('--peer')) runPeer();
else await runBench();
