// Load, bounded in time, on loopback (issue 5, item 4): POST /oauth/token client_credentials at 20
// connections, 30 s in full mode (5 s reduced). Zero errors, zero non-2xx; tokens/s and p50/p99 printed.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { after, test } from 'node:test';
import {
  AUDIENCE,
  type AuthServerProcess,
  M2M,
  M2M_SECRET,
  removeDir,
  size,
  startQuietServer,
} from '../support/auth-harness.ts';

// autocannon ships no types: the part used here, typed by hand.
type Result = {
  '2xx': number;
  non2xx: number;
  errors: number;
  timeouts: number;
  latency: { p50: number; p99: number };
};
const autocannon = createRequire(import.meta.url)('autocannon') as (
  opts: Record<string, unknown>,
) => Promise<Result>;

let server: AuthServerProcess | undefined;
after(async () => {
  await server?.stop();
  if (server) removeDir(server.dataDir);
});

test('token endpoint under load: 20 connections, no error, no non-2xx', async () => {
  server = await startQuietServer();
  const duration = size(30, 5);
  const result = await autocannon({
    url: `${server.issuer}oauth/token`,
    connections: 20,
    duration,
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: M2M,
      client_secret: M2M_SECRET,
      audience: AUDIENCE,
    }).toString(),
  });
  const tokens = result['2xx'];
  console.log(
    `# token endpoint, 20 connections, ${duration} s: ${tokens} tokens, ${(tokens / duration).toFixed(0)} tokens/s, ` +
      `p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms, errors ${result.errors}, timeouts ${result.timeouts}, non-2xx ${result.non2xx}`,
  );
  assert.equal(result.errors, 0);
  assert.equal(result.timeouts, 0);
  assert.equal(result.non2xx, 0);
  assert.ok(tokens > 0);
});
