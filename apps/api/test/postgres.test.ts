// The real API process on PostgreSQL (DATABASE_URL): two instances share one caller's messages, a
// PostgreSQL restart mid-run is answered at once with 503 and recovered from by itself, and every post
// acknowledged with 201 is still there afterwards. The password is never printed.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestIssuer, type TestIssuer } from '@calling-api/jwt-bearer/testing';
import { type ApiProcess, startApi } from '@calling-api/testkit/api';
import { startPostgres, type TestPostgres } from '@calling-api/testkit/postgres';

const REQUEST_LIMIT_MS = 4000;

let postgres: TestPostgres;
let issuer: TestIssuer;
let databaseUrl: string;
const apis: ApiProcess[] = [];
let token: string;

before(async () => {
  // Its own server even when TEST_DATABASE_URL is set: this file restarts it.
  [postgres, issuer] = await Promise.all([startPostgres({ own: true }), startTestIssuer()]);
  databaseUrl = await postgres.createDatabase();
  const env = { ISSUER_BASE_URL: issuer.issuer, AUDIENCE: issuer.audience, DATABASE_URL: databaseUrl };
  // Both at once on an empty database: the migration runs once.
  apis.push(...(await Promise.all([startApi(env), startApi(env)])));
  await Promise.all(apis.map((a) => a.waitForLog(/signing keys loaded/)));
  token = await issuer.mint({ sub: 'auth0|pg-user', scope: 'read:messages write:messages' });
});
after(async () => {
  for (const a of apis) await a.stop();
  await issuer?.close();
  await postgres?.stop();
});

const call = async (api: ApiProcess, path: string, init: RequestInit = {}) => {
  const started = performance.now();
  const res = await fetch(`${api.url}${path}`, {
    ...init,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    signal: AbortSignal.timeout(REQUEST_LIMIT_MS),
  });
  return {
    status: res.status,
    ms: performance.now() - started,
    retryAfter: res.headers.get('retry-after'),
    body: JSON.parse((await res.text()) || '{}') as { id?: number; error?: string },
  };
};
const post = (api: ApiProcess, text: string) =>
  call(api, '/api/messages', { method: 'POST', body: JSON.stringify({ text }) });

describe('the Messages API on PostgreSQL', () => {
  it('shares messages between instances: posted at one, read and deleted at the other', async () => {
    const [a, b] = apis as [ApiProcess, ApiProcess];
    const posted = await post(a, 'from a');
    assert.equal(posted.status, 201);
    assert.equal((await call(b, `/api/messages/${posted.body.id}`)).status, 200);
    assert.equal((await call(b, `/api/messages/${posted.body.id}`, { method: 'DELETE' })).status, 204);
    assert.equal((await call(a, `/api/messages/${posted.body.id}`)).status, 404);
  });

  it('answers 503 at once while PostgreSQL restarts, recovers by itself, and loses nothing acknowledged', async () => {
    const acknowledged: number[] = [];
    const outcomes: { status: number; ms: number; retryAfter: string | null }[] = [];
    let running = true;
    const load = Promise.all(
      apis.map(async (api, n) => {
        for (let i = 0; running; i++) {
          const res = await post(api, `burst ${n}-${i}`).catch(() => ({
            status: 0,
            ms: 0,
            retryAfter: null,
            body: { id: undefined },
          }));
          outcomes.push(res);
          if (res.status === 201) acknowledged.push(res.body.id!);
          await new Promise((r) => setTimeout(r, 10));
        }
      }),
    );
    await new Promise((r) => setTimeout(r, 300));
    await postgres.restart(1500);
    // Back up: each instance answers 201 again without a restart of its own.
    for (const api of apis) {
      const deadline = Date.now() + 15_000;
      while ((await post(api, 'after').catch(() => ({ status: 0 }))).status !== 201) {
        assert.ok(Date.now() < deadline, 'recovered within 15 s');
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    running = false;
    await load;

    const statuses = new Set(outcomes.map((o) => o.status));
    assert.deepEqual(
      [...statuses].filter((s) => s !== 201 && s !== 503),
      [],
      'only 201 and 503',
    );
    const refused = outcomes.filter((o) => o.status === 503);
    assert.ok(refused.length > 0, 'the restart was seen');
    assert.ok(
      refused.every((o) => o.retryAfter === '1'),
      'each 503 says when to retry',
    );
    assert.ok(Math.max(...refused.map((o) => o.ms)) < 3000, 'a 503 comes fast, not after a hang');

    const listed = new Set<number>();
    let cursor = '';
    for (;;) {
      const page = await fetch(`${apis[0]!.url}/api/messages?limit=100${cursor}`, {
        headers: { authorization: `Bearer ${token}` },
      });
      const body = (await page.json()) as { messages: { id: number }[]; next: string | null };
      for (const m of body.messages) listed.add(m.id);
      if (!body.next) break;
      cursor = `&cursor=${body.next}`;
    }
    assert.deepEqual(
      acknowledged.filter((id) => !listed.has(id)),
      [],
      `every acknowledged post (${acknowledged.length}) is listed`,
    );
  });

  it('never prints the database password, and names where the messages are', () => {
    const password = decodeURIComponent(new URL(databaseUrl).password);
    for (const api of apis) {
      const output = api.logs.join('\n');
      if (password.length >= 12) assert.ok(!output.includes(password));
      assert.match(output, /"storage":"PostgreSQL at [^"@]+\/testkit_\w+"/);
    }
  });
});
