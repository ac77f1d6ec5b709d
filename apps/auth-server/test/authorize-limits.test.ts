// What /authorize may make this server store: parameters of bounded length, a short-lived interaction,
// and a bounded number of interactions per network.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, before, describe, it } from 'node:test';
import {
  type AuthServerProcess,
  removeDir,
  startAuthServer,
  tempDir,
} from '@calling-api/testkit/auth-server';
import { pkcePair } from '@calling-api/testkit/oauth-client';
import type { Client, KoaContextWithOIDC } from 'oidc-provider';
import { withParameterLimits } from '../src/oidc/parameter-limits.ts';
import { AUTHORIZE_POLICY } from '../src/security/abuse-policy.ts';
import { InteractionThrottle } from '../src/security/interaction-throttle.ts';
import { SqliteStorage } from '../src/store/sqlite/sqlite-storage.ts';

const CALLBACK = 'http://localhost:3000/callback';

let server: AuthServerProcess;
before(async () => {
  server = await startAuthServer({ env: { TRUST_PROXY: 'true', LOG_LEVEL: 'warn' } });
});
after(async () => {
  await server.stop();
  removeDir(server.dataDir);
});

const params = (extra: Record<string, string> = {}) => ({
  client_id: 'angularjs-spa',
  response_type: 'code',
  redirect_uri: CALLBACK,
  scope: 'openid profile read:messages',
  audience: 'http://localhost:3001/api',
  state: 'xyz',
  code_challenge: pkcePair().challenge,
  code_challenge_method: 'S256',
  ...extra,
});

/** GET /authorize from `network` (X-Forwarded-For, believed with TRUST_PROXY=true), no redirect followed. */
const authorize = (extra: Record<string, string> = {}, network = '192.0.2.1') =>
  fetch(`${server.issuer}authorize?${new URLSearchParams(params(extra))}`, {
    redirect: 'manual',
    headers: { 'x-forwarded-for': network },
  });

function storedInteractions(): number {
  const db = new DatabaseSync(join(server.dataDir, 'auth.sqlite'), { readOnly: true });
  try {
    const row = db.prepare("SELECT count(*) AS n FROM oidc_model WHERE model = 'Interaction'").get();
    return (row as { n: number }).n;
  } finally {
    db.close();
  }
}

describe('the authorization endpoint bounds', () => {
  it('every parameter to 512 bytes: invalid_request back at the callback, nothing stored', async () => {
    const before = storedInteractions();
    const long = 'a'.repeat(513);
    const oversized: Record<string, string> = {
      state: long,
      nonce: long,
      login_hint: `${'a'.repeat(510)}@example.com`,
      scope: `openid ${long}`,
      audience: `https://${long}`,
      ui_locales: long,
      acr_values: long,
      screen_hint: long,
      connection: long,
    };
    const answers: Record<string, string | null> = {};
    for (const [name, value] of Object.entries(oversized)) {
      const res = await authorize({ [name]: value }, '192.0.2.10');
      const back = new URL(res.headers.get('location') ?? '/', server.issuer);
      assert.equal(`${back.origin}${back.pathname}`, CALLBACK, `${name}: ${res.status}`);
      answers[name] = `${back.searchParams.get('error')}: ${back.searchParams.get('error_description')}`;
    }
    const expected = Object.fromEntries(
      Object.keys(oversized).map((name) => [name, `invalid_request: ${name} is longer than 512 bytes`]),
    );
    // An audience is looked up before any length check: an oversized one is no API of this tenant.
    expected.audience = 'invalid_target: unknown audience';
    assert.deepEqual(answers, expected);
    assert.equal(storedInteractions(), before, 'no interaction stored');
    const ok = await authorize({ state: 'a'.repeat(512), nonce: 'n'.repeat(512) }, '192.0.2.10');
    assert.equal(ok.status, 303);
    assert.match(ok.headers.get('location') ?? '', /^\/interaction\//, '512 bytes are accepted');
  });

  it('a sign-in page to 10 minutes', async () => {
    const res = await authorize({}, '192.0.2.12');
    const cookies = res.headers.getSetCookie().filter((c) => c.startsWith('_interaction'));
    assert.ok(cookies.length > 0);
    for (const c of cookies) assert.match(c, /max-age=600\b|expires=/i);
    const expires = cookies.map((c) => /expires=([^;]+)/i.exec(c)?.[1]).filter(Boolean);
    for (const e of expires) {
      const left = new Date(e!).getTime() - Date.now();
      assert.ok(left > 9 * 60_000 && left <= 10 * 60_000 + 2000, `expires in ${left} ms`);
    }
  });

  it('new interactions per network: 60 at once, then 429 with Retry-After; other networks and prompt=none go on', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 65; i++) statuses.push((await authorize({}, `2001:db8:77:1::${i + 1}`)).status);
    const burst = AUTHORIZE_POLICY.newInteractions.capacity;
    // The bucket refills one a second: on a slow machine one more may pass.
    assert.ok(
      statuses.slice(0, burst).every((s) => s === 303),
      'one /64 is one network',
    );
    assert.deepEqual(statuses.slice(burst + 2), [429, 429, 429], statuses.join(' '));
    const refused = await authorize({}, '2001:db8:77:1:ffff::1');
    assert.equal(refused.status, 429);
    assert.ok(Number(refused.headers.get('retry-after')) >= 1);
    assert.match(await refused.text(), /Too many sign-ins/);
    assert.equal((await authorize({}, '2001:db8:77:2::1')).status, 303, 'the next /64 is another network');
    const silent = await authorize({ prompt: 'none' }, '2001:db8:77:1::1');
    assert.equal(silent.status, 303);
    assert.equal(new URL(silent.headers.get('location')!).searchParams.get('error'), 'login_required');
  });

  it('every authorization request per network, silent ones included: 120 at once, then 429 (each signed-in answer stores a code)', async () => {
    const statuses: number[] = [];
    const burst = AUTHORIZE_POLICY.requests.capacity;
    for (let i = 0; i < burst + 6; i++)
      statuses.push((await authorize({ prompt: 'none' }, '198.51.100.77')).status);
    // The bucket refills four a second: on a slow machine a few more may pass.
    assert.ok(
      statuses.slice(0, burst).every((s) => s === 303),
      statuses.join(' '),
    );
    assert.ok(
      statuses.slice(-2).every((s) => s === 429),
      statuses.join(' '),
    );
    assert.equal(
      (await authorize({ prompt: 'none' }, '198.51.100.78')).status,
      303,
      'another network goes on',
    );
  });

  it('no pushed authorization requests (they would store a request per call)', async () => {
    const discovery = (await (
      await fetch(`${server.issuer}.well-known/openid-configuration`)
    ).json()) as Record<string, unknown>;
    assert.equal(discovery.pushed_authorization_request_endpoint, undefined);
    const res = await fetch(`${server.issuer}oauth/par`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(params()).toString(),
    });
    assert.equal(res.status, 404);
  });
});

describe('the parameter limits', () => {
  const validators = withParameterLimits({ audience: null });
  const run = async (params: Record<string, unknown>) => {
    await validators.audience!(
      { oidc: { params } } as unknown as KoaContextWithOIDC,
      undefined,
      {} as Client,
    );
  };
  /** An OAuth invalid_request whose description matches `description`. */
  const refused = (description: RegExp) => (err: { error?: string; error_description?: string }) =>
    err.error === 'invalid_request' && description.test(err.error_description ?? '');

  it('let a whole ID token through as id_token_hint, and a long registered URL', async () => {
    await run({ id_token_hint: 'h'.repeat(4096), redirect_uri: `https://app.example/${'p'.repeat(2000)}` });
    await assert.rejects(
      run({ id_token_hint: 'h'.repeat(4097) }),
      refused(/id_token_hint is longer than 4096 bytes/),
    );
  });

  it('count bytes, not characters, and every value of a repeated parameter', async () => {
    await assert.rejects(
      run({ login_hint: 'é'.repeat(257) }),
      refused(/login_hint is longer than 512 bytes/),
    );
    await assert.rejects(
      run({ resource: ['r'.repeat(300), 'r'.repeat(300)] }),
      refused(/resource is longer/),
    );
  });

  it('bound all parameters together to 8 KB, whatever each one is', async () => {
    const params = Object.fromEntries(Array.from({ length: 16 }, (_, i) => [`p${i}`, 'x'.repeat(512)]));
    await run(params);
    await assert.rejects(run({ ...params, p16: 'x' }), refused(/longer than 8192 bytes together/));
  });
});

describe('stored interactions per network', () => {
  it('are capped for their lifetime, whatever the rate, and a request that stores none gives its place back', async () => {
    const dir = tempDir('interactions-');
    const { db, throttle: store } = new SqliteStorage(dir);
    const clock = { now: 1_700_000_000_000 };
    const t = new InteractionThrottle(store, { now: () => clock.now });
    try {
      const cap = AUTHORIZE_POLICY.storedInteractionsPerNetwork;
      let created = 0;
      let refused = 0;
      // Twice the cap, always within the rate: the cap decides.
      for (let i = 0; i < 2 * cap && refused === 0; i++) {
        const r = await t.reserve('192.0.2.50');
        if (r.admitted) {
          await r.settle(true);
          created++;
        } else refused++;
        clock.now += AUTHORIZE_POLICY.newInteractions.refillMs;
      }
      assert.equal(created, cap);
      const unused = await t.reserve('192.0.2.51');
      assert.ok(unused.admitted);
      await unused.settle(false);
      clock.now += AUTHORIZE_POLICY.interactionTtlSeconds * 1000 + AUTHORIZE_POLICY.sweepEveryMs;
      const r = await t.reserve('192.0.2.50');
      assert.equal(r.admitted, true, 'places free once the oldest interactions have expired');
    } finally {
      db.close();
      removeDir(dir);
    }
  });
});
