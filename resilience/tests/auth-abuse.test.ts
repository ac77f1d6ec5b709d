// Brute force and abuse (issue 5, item 5): password spraying against the login form, refresh-token reuse,
// a stolen authorization code. The lock window (15 min) is not configurable; its expiry is tested by
// moving the throttle's timestamps in DATA_DIR's `throttle_*` tables into the past, which is what 15 min
// of waiting would do to them (the server reads its throttle state from SQLite on every attempt).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, before, test } from 'node:test';
import {
  AUDIENCE,
  type AuthServerProcess,
  type LoginPage,
  M2M,
  M2M_SECRET,
  OAuthTestClient,
  openLoginPage,
  pkcePair,
  postLogin,
  removeDir,
  SPA,
  SPA_CALLBACK,
  startQuietServer,
  Tally,
  USERS,
} from '../support/auth-harness.ts';

let server: AuthServerProcess;
before(async () => {
  server = await startQuietServer({ env: { TRUST_PROXY: 'true' } });
});
after(async () => {
  await server?.stop();
  if (server) removeDir(server.dataDir);
});

/** The status of one post of a login form (see postLogin). */
const post = async (page: LoginPage, email: string, password: string, address: string) =>
  (await postLogin(page, email, password, address)).status;
const loginPage = (address: string, c?: OAuthTestClient) => openLoginPage(server.issuer, address, c);

/**
 * One login attempt on a fresh interaction from `address`, in a fresh browser unless `c` is given (a
 * browser keeps the device cookie of the accounts it signed in to).
 */
async function attempt(email: string, password: string, address: string, c?: OAuthTestClient) {
  return post(await loginPage(address, c), email, password, address);
}

test('password spraying from one address is locked per address; the real user elsewhere still signs in', async () => {
  const spray = new Tally();
  const passwords = ['123456', 'password', 'Password1!', 'qwerty123'];
  const accounts = Array.from({ length: 15 }, (_, i) => `user${i}@example.com`);
  accounts.push(USERS.bob.email);
  let firstLock = -1;
  let n = 0;
  const page = await loginPage('203.0.113.7');
  for (const p of passwords)
    for (const a of accounts) {
      const status = await post(page, a, p, '203.0.113.7');
      spray.add(status);
      n++;
      if (status === 429 && firstLock < 0) firstLock = n;
    }
  console.log(`# spraying ${n} attempts from one address: ${spray}; locked from attempt ${firstLock}`);
  assert.equal(firstLock, 51, 'the address is locked after 50 failures');
  assert.equal(spray.counts.get('303') ?? 0, 0);
  // bob, from his own address, is not locked out by the attacker's failures on his account.
  assert.equal(await attempt(USERS.bob.email, USERS.bob.password, '192.0.2.20'), 303);
});

test("one account from many addresses gets its budget, then 429s; the owner's browser still signs in; a pair lock expires", async () => {
  const carols = new OAuthTestClient(server.issuer);
  assert.equal(await attempt(USERS.carol.email, USERS.carol.password, '192.0.2.30', carols), 303);
  const tally = new Tally();
  let retryAfter = '';
  for (let i = 0; i < 8; i++) {
    const c = new OAuthTestClient(server.issuer);
    const status = await attempt(USERS.carol.email, `wrong-${i}`, `198.51.100.${i}`, c);
    tally.add(status);
  }
  // 8 failures from 8 addresses: no lock (each pair failed once), but the account's budget is 5.
  assert.deepEqual([...tally.counts].sort(), [
    ['401', 5],
    ['429', 3],
  ]);
  const fresh = new OAuthTestClient(server.issuer);
  const page = await fresh.follow(
    fresh.authorizeUrl({
      client_id: SPA,
      response_type: 'code',
      redirect_uri: SPA_CALLBACK,
      scope: 'openid',
      code_challenge: pkcePair().challenge,
      code_challenge_method: 'S256',
    }),
  );
  const refused = await fresh.login(page, USERS.carol.email, USERS.carol.password);
  retryAfter = refused.headers.get('retry-after') ?? '';
  assert.equal(
    refused.status,
    429,
    'a browser new to the account waits for the budget, even with the password',
  );
  assert.ok(Number(retryAfter) >= 1 && Number(retryAfter) <= 10, `Retry-After ${retryAfter}`);
  // carol, in the browser she signed in with before (its device cookie), still gets in at once.
  assert.equal(await attempt(USERS.carol.email, USERS.carol.password, '192.0.2.30', carols), 303);

  // 5 failures for one account from one address lock that pair (429 with Retry-After) ...
  for (let i = 0; i < 5; i++) assert.equal(await attempt(USERS.alice.email, `bad-${i}`, '192.0.2.40'), 401);
  assert.equal(await attempt(USERS.alice.email, USERS.alice.password, '192.0.2.40'), 429);
  // ... and the lock lifts when its window has passed (timestamps moved 16 min into the past).
  const db = new DatabaseSync(join(server.dataDir, 'auth.sqlite'));
  const past = 16 * 60_000;
  db.prepare(
    'UPDATE throttle_counters SET window_start = window_start - ?, locked_until = locked_until - ? WHERE key LIKE ?',
  ).run(past, past, '%alice%');
  db.prepare('UPDATE throttle_buckets SET updated_at = updated_at - ? WHERE key LIKE ?').run(past, '%alice%');
  db.close();
  assert.equal(await attempt(USERS.alice.email, USERS.alice.password, '192.0.2.40'), 303);
  console.log(
    `# one account, 8 addresses: ${tally}; a new browser 429 (Retry-After ${retryAfter} s), the owner's 303; pair lock 429, lifted after its window`,
  );
});

test('without TRUST_PROXY, X-Forwarded-For does not pick the throttled address', async () => {
  const plain = await startQuietServer();
  try {
    const saved = server;
    server = plain;
    for (let i = 0; i < 5; i++) await attempt(USERS.bob.email, `nope-${i}`, `10.0.0.${i}`);
    // Five different forged addresses, one real socket address: the pair (bob, 127.0.0.1) is locked.
    assert.equal(await attempt(USERS.bob.email, USERS.bob.password, '10.0.0.99'), 429);
    server = saved;
  } finally {
    await plain.stop();
    removeDir(plain.dataDir);
  }
});

test('refresh-token reuse revokes the family: the newest refresh token fails too', async () => {
  const c = new OAuthTestClient(server.issuer);
  const { tokens } = await c.signIn(USERS.bob);
  const first = tokens.refresh_token!;
  const second = await c.token({ grant_type: 'refresh_token', client_id: SPA, refresh_token: first });
  assert.equal(second.status, 200);
  const reuse = await c.token({ grant_type: 'refresh_token', client_id: SPA, refresh_token: first });
  assert.equal(reuse.status, 400);
  assert.equal(reuse.body.error, 'invalid_grant');
  const newest = await c.token({
    grant_type: 'refresh_token',
    client_id: SPA,
    refresh_token: second.body.refresh_token!,
  });
  assert.equal(newest.status, 400, 'the newest token of the family is revoked too');
  assert.equal(newest.body.error, 'invalid_grant');
});

test('a stolen authorization code is useless without the PKCE verifier, to another client, or with another redirect_uri', async () => {
  const c = new OAuthTestClient(server.issuer);
  await c.signIn(USERS.alice);
  async function code(): Promise<{ code: string; verifier: string }> {
    const { verifier, challenge } = pkcePair();
    const res = await c.request(
      c.authorizeUrl({
        client_id: SPA,
        response_type: 'code',
        redirect_uri: SPA_CALLBACK,
        scope: 'openid offline_access read:messages',
        audience: AUDIENCE,
        code_challenge: challenge,
        code_challenge_method: 'S256',
      }),
    );
    const value = new URL(res.headers.get('location')!).searchParams.get('code');
    assert.ok(value);
    return { code: value, verifier };
  }
  const base = { grant_type: 'authorization_code', client_id: SPA, redirect_uri: SPA_CALLBACK };
  const attempts: [string, Record<string, string>][] = [
    ['no verifier', {}],
    ['wrong verifier', { code_verifier: pkcePair().verifier }],
    ['another client', { client_id: M2M, client_secret: M2M_SECRET }],
    ['another redirect_uri', { redirect_uri: 'http://localhost:3000/other' }],
  ];
  for (const [label, extra] of attempts) {
    const stolen = await code();
    const r = await c.token({ ...base, code: stolen.code, ...extra });
    assert.ok(r.status === 400 || r.status === 401, `${label}: ${r.status}`);
    assert.equal(r.body.access_token, undefined, label);
  }
  // The rightful owner, with the verifier, redeems a code once; a replay fails.
  const mine = await code();
  const ok = await c.token({ ...base, code: mine.code, code_verifier: mine.verifier });
  assert.equal(ok.status, 200);
  const replay = await c.token({ ...base, code: mine.code, code_verifier: mine.verifier });
  assert.equal(replay.body.error, 'invalid_grant');
});
