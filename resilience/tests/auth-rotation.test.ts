// Fault (issue 5, item 3): a signing-key rotation while clients are signed in and calling the real API.
// What an operator does, per the auth-server README: `rotate-keys` (publish the new key, not signing yet),
// wait until resource servers can refetch the key set, `rotate-keys --activate` (the new key signs, the old
// one stays published), later `rotate-keys --prune`. The API (apps/api) fetches the JWKS at start and
// refetches on an unknown `kid` at most once per JWKS_COOLDOWN_MS (30 s by default). Waiting longer than the
// cooldown between the API's last fetch and the activation is the operator's part: the first token with
// the new `kid` then triggers one refetch, which finds the key already published.
// Full mode keeps the API's default 30 s cooldown; the reduced mode sets JWKS_COOLDOWN_MS=3000.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { type ApiProcess, startApi } from '@calling-api/testkit/api';
import {
  AUDIENCE,
  type AuthServerProcess,
  cliOk,
  decodeJwt,
  FULL,
  M2M,
  M2M_SECRET,
  OAuthTestClient,
  removeDir,
  SPA,
  sleep,
  startQuietServer,
  Tally,
  tempDir,
  USERS,
} from '../support/auth-harness.ts';

let auth: AuthServerProcess | undefined;
let api: ApiProcess | undefined;
let dataDir = '';
after(async () => {
  await api?.stop();
  await auth?.stop();
  if (dataDir) removeDir(dataDir);
});

const COOLDOWN_MS = FULL ? 30_000 : 3_000;

test('key rotation (publish, activate, prune) while clients call the API: no failed call', async () => {
  dataDir = tempDir('res-auth-rotation-');
  auth = await startQuietServer({ dataDir });
  const { issuer } = auth;
  api = await startApi({
    ISSUER_BASE_URL: issuer,
    AUDIENCE,
    LOG_REQUESTS: 'false',
    LOG_LEVEL: 'info', // the harness waits for the "listening" line
    EXPOSE_METRICS: 'true',
    ...(FULL ? {} : { JWKS_COOLDOWN_MS: String(COOLDOWN_MS) }),
  });
  const apiUrl = api.url;
  const apiReady = Date.now();
  for (let i = 0; i < 100 && (await fetch(`${apiUrl}/healthz`)).status !== 200; i++) await sleep(100);

  const failures: string[] = [];
  const calls = new Tally();
  const kidsSeen = new Map<string, number>();
  let stop = false;

  async function callApi(who: string, token: string): Promise<void> {
    const kid = String(decodeJwt(token).header.kid);
    kidsSeen.set(kid, (kidsSeen.get(kid) ?? 0) + 1);
    const res = await fetch(`${apiUrl}/api/private`, { headers: { authorization: `Bearer ${token}` } });
    calls.add(`${who} ${res.status}`);
    if (res.status !== 200)
      failures.push(`${who}: /api/private ${res.status} ${res.headers.get('www-authenticate')} kid ${kid}`);
    await res.arrayBuffer();
  }

  // A machine client: a fresh client_credentials token for every call.
  const m2m = new OAuthTestClient(issuer);
  const machine = (async () => {
    while (!stop) {
      const t = await m2m.token({
        grant_type: 'client_credentials',
        client_id: M2M,
        client_secret: M2M_SECRET,
        audience: AUDIENCE,
      });
      if (t.status !== 200) failures.push(`m2m token ${t.status} ${JSON.stringify(t.body)}`);
      else await callApi('m2m', t.body.access_token!);
      await sleep(20);
    }
  })();

  // A signed-in user (the SPA): calls with its access token and renews it with its refresh token now and then.
  const spa = new OAuthTestClient(issuer);
  const signIn = await spa.signIn(USERS.alice);
  assert.equal(signIn.status, 200);
  let userTokens = signIn.tokens;
  const firstUserToken = userTokens.access_token!;
  let renewals = 0;
  const user = (async () => {
    let n = 0;
    while (!stop) {
      await callApi('spa', userTokens.access_token!);
      if (++n % 10 === 0) {
        const r = await spa.token({
          grant_type: 'refresh_token',
          client_id: SPA,
          refresh_token: userTokens.refresh_token!,
        });
        if (r.status !== 200) failures.push(`refresh ${r.status} ${JSON.stringify(r.body)}`);
        else {
          userTokens = r.body;
          renewals++;
        }
      }
      await sleep(20);
    }
  })();

  // A client holding one token from before the rotation for its whole lifetime.
  const holder = (async () => {
    while (!stop) {
      await callApi('holder', firstUserToken);
      await sleep(50);
    }
  })();

  const jwksKids = async () =>
    ((await (await fetch(`${issuer}.well-known/jwks.json`)).json()) as { keys: { kid: string }[] }).keys.map(
      (k) => k.kid,
    );
  const oldKid = String(decodeJwt(firstUserToken).header.kid);
  await sleep(FULL ? 3000 : 1000);

  // 1. Publish.
  const staged = /staged key (\S+):/.exec(await cliOk(dataDir, ['rotate-keys']))?.[1];
  assert.ok(staged);
  const published = Date.now();
  while (!(await jwksKids()).includes(staged) && Date.now() - published < 10_000) await sleep(100);
  assert.deepEqual((await jwksKids()).sort(), [oldKid, staged].sort(), 'both keys published');
  // 2. Wait until the API may refetch (its cooldown since its last fetch, at start), then activate.
  const waitUntil = Math.max(apiReady, published) + COOLDOWN_MS + 1000;
  while (Date.now() < waitUntil) await sleep(200);
  const activated = /key (\S+) now signs/.exec(await cliOk(dataDir, ['rotate-keys', '--activate']))?.[1];
  assert.equal(activated, staged);
  // Run until both live clients hold tokens signed by the new key, and some more.
  const t0 = Date.now();
  while ((kidsSeen.get(staged) ?? 0) < 20 && Date.now() - t0 < 15_000) await sleep(100);
  await sleep(FULL ? 5000 : 1000);
  assert.ok(
    String(decodeJwt(userTokens.access_token!).header.kid) === staged,
    "the user's renewed token is signed by the new key",
  );
  // 3. Prune as the operator does: nothing yet, the old key is younger than the longest token lifetime + 1 h.
  assert.match(await cliOk(dataDir, ['rotate-keys', '--prune']), /no retired key is old enough/);
  assert.ok((await jwksKids()).includes(oldKid), 'the old key stays published');
  await sleep(FULL ? 3000 : 1000);
  stop = true;
  await Promise.all([machine, user, holder]);

  // The time the prune waits for has passed (simulated with --older-than 0): the old key leaves the JWKS,
  // and the clients with new tokens carry on.
  await cliOk(dataDir, ['rotate-keys', '--prune', '--older-than', '0']);
  const t1 = Date.now();
  while ((await jwksKids()).includes(oldKid) && Date.now() - t1 < 10_000) await sleep(100);
  assert.deepEqual(await jwksKids(), [staged]);
  stop = false;
  const tail = (async () => {
    for (let i = 0; i < 20; i++) {
      const t = await m2m.token({
        grant_type: 'client_credentials',
        client_id: M2M,
        client_secret: M2M_SECRET,
        audience: AUDIENCE,
      });
      if (t.status !== 200) failures.push(`m2m token after prune ${t.status}`);
      else await callApi('after prune', t.body.access_token!);
    }
  })();
  await tail;

  const metrics = (await (await fetch(`${apiUrl}/metrics`)).json()) as { verifier: Record<string, unknown> };
  const fetches = Object.entries(metrics.verifier)
    .filter(([k]) => /fetch/i.test(k))
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
  console.log(
    `# key rotation (API cooldown ${COOLDOWN_MS} ms): ${calls.total} calls to /api/private (${calls}); ` +
      `tokens by kid: old ${kidsSeen.get(oldKid) ?? 0}, new ${kidsSeen.get(staged) ?? 0}; refreshes ${renewals}; ` +
      `failed ${failures.length}; API verifier: ${fetches}`,
  );
  assert.deepEqual(failures, [], 'no failed call or token request');
  assert.ok((kidsSeen.get(staged) ?? 0) > 0 && (kidsSeen.get(oldKid) ?? 0) > 0);
});
