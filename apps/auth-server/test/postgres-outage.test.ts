// PostgreSQL restarted under two busy authorization-server instances: while it is down every request is
// answered at once with 503 (never a hang, never a 500 or a stack trace); once it is back they answer 200
// again by themselves, sessions and refresh tokens from before included.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { freePort } from '@calling-api/testkit';
import {
  type AuthServerProcess,
  removeDir,
  startAuthServer,
  tempDir,
} from '@calling-api/testkit/auth-server';
import { OAuthTestClient } from '@calling-api/testkit/oauth-client';
import { startPostgres, type TestPostgres } from '@calling-api/testkit/postgres';

const API = 'http://localhost:3001/api';
const REQUEST_LIMIT_MS = 5000;

let postgres: TestPostgres;
const instances: AuthServerProcess[] = [];
const dirs: string[] = [];

before(async () => {
  // Its own server even when TEST_DATABASE_URL is set: this test stops it.
  postgres = await startPostgres({ own: true });
  const databaseUrl = await postgres.createDatabase();
  const port = await freePort();
  for (const p of [port, undefined]) {
    const dir = tempDir('auth-outage-');
    dirs.push(dir);
    instances.push(
      await startAuthServer({
        dataDir: dir,
        ...(p ? { port: p } : {}),
        env: { DATABASE_URL: databaseUrl, ISSUER: `http://localhost:${port}/` },
      }),
    );
  }
});
after(async () => {
  for (const s of instances) await s.stop();
  for (const d of dirs) removeDir(d);
  await postgres?.stop();
});

type Outcome = { status: number; ms: number; body: string; retryAfter: string | null; kind: string };

async function timed(kind: string, url: string, init: RequestInit = {}): Promise<Outcome> {
  const started = performance.now();
  try {
    const res = await fetch(url, {
      ...init,
      redirect: 'manual',
      signal: AbortSignal.timeout(REQUEST_LIMIT_MS),
    });
    return {
      kind,
      status: res.status,
      ms: performance.now() - started,
      body: await res.text(),
      retryAfter: res.headers.get('retry-after'),
    };
  } catch (err) {
    return { kind, status: 0, ms: performance.now() - started, body: String(err), retryAfter: null };
  }
}

const clientCredentials = (base: string) =>
  timed('client_credentials', `${base}oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: 'messages-m2m',
      client_secret: 'dev-m2m-secret',
      audience: API,
    }),
  });

const authorizePage = (base: string) =>
  timed(
    'authorize',
    `${base}authorize?${new URLSearchParams({
      client_id: 'angularjs-spa',
      response_type: 'code',
      redirect_uri: 'http://localhost:3000/callback',
      scope: 'openid',
      code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      code_challenge_method: 'S256',
    })}`,
    { headers: { accept: 'text/html' } },
  );

describe('a PostgreSQL restart under load', () => {
  it('is answered with quick 503s while it lasts, and recovers by itself', async () => {
    const [a, b] = instances as [AuthServerProcess, AuthServerProcess];
    // Before: a signed-in browser and a refresh token, to use again after the restart.
    const browser = new OAuthTestClient(a.issuer);
    const { tokens } = await browser.signIn({ email: 'alice@example.com', password: 'Alice-password-1' });
    assert.ok(tokens.refresh_token);

    const outcomes: Outcome[] = [];
    let running = true;
    const userinfo = (base: string) =>
      timed('userinfo', `${base}userinfo`, {
        headers: { authorization: `Bearer ${tokens.access_token}`, accept: 'application/json' },
      });
    const load = (async () => {
      for (let i = 0; running; i++) {
        const base = (i % 2 ? b : a).issuer;
        outcomes.push(
          await (i % 5 === 4 ? authorizePage(base) : i % 7 === 6 ? userinfo(base) : clientCredentials(base)),
        );
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    await new Promise((r) => setTimeout(r, 500));
    const restartStarted = outcomes.length;
    await postgres.restart(2000);
    const backAt = outcomes.length;
    // Recovery: within 10 s of the server being back, 20 answers in a row are 200 (or the authorize redirect).
    const deadline = Date.now() + 10_000;
    const ok = (o: Outcome) => o.status === 200 || o.status === 303;
    while (Date.now() < deadline && !(outcomes.length - backAt >= 20 && outcomes.slice(-20).every(ok))) {
      await new Promise((r) => setTimeout(r, 100));
    }
    running = false;
    await load;

    const statuses = new Map<string, number>();
    for (const o of outcomes)
      statuses.set(`${o.kind} ${o.status}`, (statuses.get(`${o.kind} ${o.status}`) ?? 0) + 1);
    const summary = JSON.stringify(Object.fromEntries(statuses));
    const unavailable = outcomes.filter((o) => o.status === 503);
    assert.ok(unavailable.length > 0, `the outage was seen: ${summary}`);
    assert.deepEqual(
      outcomes
        .filter((o) => !ok(o) && o.status !== 503)
        .map((o) => `${o.kind} ${o.status} ${o.body.slice(0, 200)}`),
      [],
      `only 200/303 and 503: ${summary}`,
    );
    const slowest = Math.max(...unavailable.map((o) => o.ms));
    assert.ok(slowest < 3000, `503s come fast (slowest ${Math.round(slowest)} ms)`);
    for (const o of unavailable) {
      assert.equal(o.retryAfter, '1');
      assert.doesNotMatch(
        o.body,
        /\bat .+\.(ts|js):\d+|StoreUnavailableError|node_modules/,
        'no stack trace',
      );
      if (o.kind === 'authorize') assert.match(o.body, /<h1>Temporarily unavailable<\/h1>/);
      else assert.equal(JSON.parse(o.body).error, 'temporarily_unavailable');
    }
    assert.ok(outcomes.slice(-20).every(ok), `recovered by itself: ${summary}`);
    assert.ok(restartStarted > 0 && backAt > restartStarted);
    console.log(`outcomes during the restart: ${summary}; slowest 503 ${Math.round(slowest)} ms`);

    // After: the session and the refresh token from before the restart still work, at either instance.
    const refreshed = await new OAuthTestClient(b.issuer).token({
      grant_type: 'refresh_token',
      client_id: 'angularjs-spa',
      refresh_token: tokens.refresh_token!,
    });
    assert.equal(refreshed.status, 200, JSON.stringify(refreshed.body));
    const silent = await browser.follow(
      browser.authorizeUrl({
        client_id: 'angularjs-spa',
        response_type: 'code',
        redirect_uri: 'http://localhost:3000/callback',
        scope: 'openid',
        prompt: 'none',
        code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
        code_challenge_method: 'S256',
      }),
    );
    assert.ok(new URL(silent.url).searchParams.get('code'), `the session survived: ${silent.url}`);
  });
});
