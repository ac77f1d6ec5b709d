// Two authorization servers and two Messages APIs on one PostgreSQL; in the middle of a burst of token
// requests (refresh-token rotations, which write, and client_credentials) and message posts, one
// instance of each is killed with SIGKILL. A client retries a request whose connection failed at the
// other instance, as a load balancer does. What must hold:
// - the surviving instances answer every request sent to them, before and after the kill;
// - nothing acknowledged is lost: every post answered 201 is listed afterwards, and the last refresh
//   token each chain received still refreshes. A rotation the dying instance committed without its
//   answer arriving ends its chain (the retry is reuse): that token was never acknowledged.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startTestIssuer } from '@calling-api/jwt-bearer/testing';
import { freePort, size } from '@calling-api/testkit';
import { type ApiProcess, startApi } from '@calling-api/testkit/api';
import { startPostgres, type TestPostgres } from '@calling-api/testkit/postgres';
import {
  AUDIENCE,
  type AuthServerProcess,
  M2M,
  M2M_SECRET,
  OAuthTestClient,
  removeDir,
  SPA,
  startQuietServer,
  tempDir,
  USERS,
} from '../support/auth-harness.ts';

const CHAINS = size(8, 4);
const BURST_MS = size(6000, 2500);

let postgres: TestPostgres;
let databaseUrl: string;
const auth: AuthServerProcess[] = [];
const apis: ApiProcess[] = [];
let issuerClose: (() => Promise<void>) | undefined;
let messageToken: string;

before(async () => {
  postgres = await startPostgres();
  databaseUrl = await postgres.createDatabase();
  const port = await freePort();
  const issuer = `http://localhost:${port}/`;
  auth.push(
    ...(await Promise.all(
      [port, undefined].map((p) =>
        startQuietServer({
          dataDir: tempDir('kill-auth-'),
          ...(p ? { port: p } : {}),
          env: { DATABASE_URL: databaseUrl, ISSUER: issuer },
        }),
      ),
    )),
  );
  // The APIs verify tokens of a local test issuer: what is under test here is where their messages go.
  const testIssuer = await startTestIssuer();
  issuerClose = () => testIssuer.close();
  const env = {
    ISSUER_BASE_URL: testIssuer.issuer,
    AUDIENCE: testIssuer.audience,
    DATABASE_URL: databaseUrl,
    LOG_REQUESTS: 'false',
  };
  apis.push(...(await Promise.all([startApi(env), startApi(env)])));
  await Promise.all(apis.map((a) => a.waitForLog(/signing keys loaded/)));
  messageToken = await testIssuer.mint({ sub: 'auth0|burst', scope: 'read:messages write:messages' });
});
after(async () => {
  for (const s of auth) {
    await s.stop();
    removeDir(s.dataDir);
  }
  for (const a of apis) await a.stop();
  await issuerClose?.();
  await postgres?.stop();
});

type Sent = { at: number; ok: boolean; status: number };

test('SIGKILL of one instance of each program mid-burst: the others answer throughout, nothing acknowledged is lost', async () => {
  const [authA, authB] = auth as [AuthServerProcess, AuthServerProcess];
  const [apiA, apiB] = apis as [ApiProcess, ApiProcess];
  const survivors: Sent[] = [];
  let killedAt = 0;
  // What the surviving instances answered: every request sent to them counts.
  const record = (target: 'a' | 'b', status: number) => {
    if (target === 'a') survivors.push({ at: Date.now(), ok: status < 500, status });
  };

  const refreshAt = async (target: 'a' | 'b', token: string) => {
    const server = target === 'a' ? authA : authB;
    const res = await new OAuthTestClient(server.issuer).token({
      grant_type: 'refresh_token',
      client_id: SPA,
      refresh_token: token,
    });
    record(target, res.status);
    return res;
  };

  // Each chain signs in once (at instance a; one at a time: one password check per account), then
  // rotates its refresh token again and again.
  const chains: { last: string; ended: boolean; rotations: number }[] = [];
  for (let c = 0; c < CHAINS; c++) {
    const signIn = await new OAuthTestClient(authA.issuer).signIn(USERS.alice);
    chains.push({ last: signIn.tokens.refresh_token!, ended: false, rotations: 0 });
  }

  const posted: number[] = [];
  let running = true;
  const burst = [
    ...chains.map(async (chain, c) => {
      for (let i = c; running && !chain.ended; i++) {
        let target: 'a' | 'b' = i % 2 ? 'b' : 'a';
        let res: Awaited<ReturnType<typeof refreshAt>>;
        try {
          res = await refreshAt(target, chain.last);
        } catch (err) {
          if (target === 'a') throw err;
          // The same token goes to the other instance. If the dying one had committed the rotation
          // before its answer was lost, this is reuse: invalid_grant, and the family ends (nothing
          // acknowledged is lost by that: the new token was never delivered).
          target = 'a';
          res = await refreshAt(target, chain.last);
          if (res.status === 400 && res.body.error === 'invalid_grant') {
            chain.ended = true;
            break;
          }
        }
        assert.equal(res.status, 200, `refresh at ${target}: ${JSON.stringify(res.body)}`);
        chain.last = res.body.refresh_token!;
        chain.rotations++;
      }
    }),
    (async () => {
      for (let i = 0; running; i++) {
        for (const target of i % 2 ? (['b', 'a'] as const) : (['a', 'b'] as const)) {
          const server = target === 'a' ? authA : authB;
          try {
            const res = await new OAuthTestClient(server.issuer).token({
              grant_type: 'client_credentials',
              client_id: M2M,
              client_secret: M2M_SECRET,
              audience: AUDIENCE,
            });
            record(target, res.status);
            assert.equal(res.status, 200);
            break;
          } catch (err) {
            if (target === 'a') throw err; // retried at a
          }
        }
      }
    })(),
    ...[0, 1].map(async (n) => {
      for (let i = 0; running; i++) {
        for (const target of (i + n) % 2 ? (['b', 'a'] as const) : (['a', 'b'] as const)) {
          const api = target === 'a' ? apiA : apiB;
          try {
            const res = await fetch(`${api.url}/api/messages`, {
              method: 'POST',
              headers: { authorization: `Bearer ${messageToken}`, 'content-type': 'application/json' },
              body: JSON.stringify({ text: `burst ${n}-${i}` }),
            });
            record(target, res.status);
            assert.equal(res.status, 201);
            posted.push(((await res.json()) as { id: number }).id);
            break;
          } catch (err) {
            if (target === 'a') throw err; // retried at a
          }
        }
      }
    }),
  ];
  const stopped = Promise.all(burst);
  await new Promise((r) => setTimeout(r, BURST_MS / 2));
  killedAt = Date.now();
  authB.child.kill('SIGKILL');
  apiB.child.kill('SIGKILL');
  await new Promise((r) => setTimeout(r, BURST_MS / 2));
  running = false;
  await stopped;

  console.log(
    `# ${posted.length} posts acknowledged, ${chains.reduce((n, c) => n + c.rotations, 0)} refresh rotations, ` +
      `${survivors.filter((s) => s.at > killedAt).length} answers by the survivors after the kill, ` +
      `${chains.filter((c) => c.ended).length} of ${chains.length} chains whose rotation was committed with its answer lost`,
  );
  assert.deepEqual(
    survivors.filter((s) => !s.ok),
    [],
    'the surviving instances answered every request',
  );
  assert.ok(survivors.filter((s) => s.at > killedAt).length > 20, 'and kept answering after the kill');

  const listed = new Set<number>();
  for (let cursor = ''; ; ) {
    const res = await fetch(`${apiA.url}/api/messages?limit=100${cursor}`, {
      headers: { authorization: `Bearer ${messageToken}` },
    });
    const body = (await res.json()) as { messages: { id: number }[]; next: string | null };
    for (const m of body.messages) listed.add(m.id);
    if (!body.next) break;
    cursor = `&cursor=${body.next}`;
  }
  assert.ok(posted.length > 20, `posts acknowledged: ${posted.length}`);
  assert.deepEqual(
    posted.filter((id) => !listed.has(id)),
    [],
    'every acknowledged post is listed',
  );

  const clear = chains.filter((c) => !c.ended);
  for (const chain of clear) {
    const res = await refreshAt('a', chain.last);
    assert.equal(res.status, 200, `the last refresh token acknowledged (after ${chain.rotations} rotations)`);
  }
});
