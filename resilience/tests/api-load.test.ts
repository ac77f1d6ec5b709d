// Load on loopback, bounded in time (issue 5, item 4): the real API at 50 connections on
// /api/private-scoped with valid tokens (one per connection, like 50 signed-in users), then a
// mix with /api/public. Zero errors, zero timeouts, zero non-2xx; req/s and latency printed.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { after, before, describe, it } from 'node:test';
import { startTestIssuer, type TestIssuer } from '@calling-api/jwt-bearer/testing';
import { type ApiProcess, FULL, memoryOf, size, startRealApi } from '../support/api-harness.ts';

type Histogram = { average: number; p50: number; p99: number; max: number };
type AutocannonResult = {
  requests: Histogram & { total: number };
  latency: Histogram;
  errors: number;
  timeouts: number;
  non2xx: number;
  '2xx': number;
};
type AutocannonRequest = { method?: string; path?: string; headers?: Record<string, string> };
type AutocannonOptions = {
  url: string;
  connections: number;
  duration: number;
  requests?: Array<AutocannonRequest & { setupRequest?: (request: AutocannonRequest) => AutocannonRequest }>;
  setupClient?: (client: { setHeaders(headers: Record<string, string>): void }) => void;
};
const autocannon = createRequire(import.meta.url)('autocannon') as (
  options: AutocannonOptions,
) => Promise<AutocannonResult>;

const CONNECTIONS = 50;
const SECONDS = size(60, 5);
const MIX_SECONDS = size(20, 3);

describe(`API load (${CONNECTIONS} connections, ${SECONDS} s + ${MIX_SECONDS} s${FULL ? ', full' : ', reduced'})`, () => {
  let issuer: TestIssuer;
  let api: ApiProcess;
  let tokens: string[] = [];

  before(async () => {
    issuer = await startTestIssuer();
    api = await startRealApi({ ISSUER_BASE_URL: issuer.issuer, AUDIENCE: issuer.audience });
    await api.waitForLog(/signing keys loaded/);
    tokens = await Promise.all(
      Array.from({ length: CONNECTIONS }, (_, i) =>
        issuer.mint({ sub: `auth0|load-${i}`, scope: 'read:messages' }),
      ),
    );
  });
  after(async () => {
    await api?.stop();
    await issuer?.close();
  });

  const report = (name: string, r: AutocannonResult) => {
    console.log(
      `# api-load ${name}: ${CONNECTIONS} connections, ${r.requests.total} requests, ${Math.round(r.requests.average)} req/s, ` +
        `latency p50 ${r.latency.p50} ms, p99 ${r.latency.p99} ms, max ${r.latency.max} ms; 2xx ${r['2xx']}, non-2xx ${r.non2xx}, errors ${r.errors}, timeouts ${r.timeouts}`,
    );
    assert.ok(r.requests.total > 0);
    assert.equal(r['2xx'], r.requests.total, 'every answer 2xx');
    assert.equal(r.non2xx, 0);
    assert.equal(r.errors, 0);
    assert.equal(r.timeouts, 0);
  };

  it('serves /api/private-scoped with valid tokens at 50 connections: zero errors, zero non-2xx', async () => {
    const before = await memoryOf(api);
    let connection = 0;
    const result = await autocannon({
      url: `${api.url}/api/private-scoped`,
      connections: CONNECTIONS,
      duration: SECONDS,
      setupClient: (client) =>
        client.setHeaders({ authorization: `Bearer ${tokens[connection++ % tokens.length]}` }),
    });
    report(`GET /api/private-scoped ${SECONDS} s`, result);
    const afterMem = await memoryOf(api);
    console.log(
      `# api-load memory: heap ${before.heapMb} -> ${afterMem.heapMb} MB, VmRSS ${before.vmRssMb} -> ${afterMem.vmRssMb} MB`,
    );
    assert.equal((await fetch(`${api.url}/healthz`)).status, 200);
  });

  it('serves a mix of /api/private-scoped and /api/public: zero errors, zero non-2xx', async () => {
    let next = 0;
    const result = await autocannon({
      url: api.url,
      connections: CONNECTIONS,
      duration: MIX_SECONDS,
      requests: [
        {
          setupRequest: (request) => ({
            ...request,
            path: '/api/private-scoped',
            headers: { ...request.headers, authorization: `Bearer ${tokens[next++ % tokens.length]}` },
          }),
        },
        { method: 'GET', path: '/api/public' },
      ],
    });
    report(`mix private-scoped/public ${MIX_SECONDS} s`, result);
  });
});
