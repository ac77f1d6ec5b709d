// How a session ends, seen from the refresh token: after "Log Out" the refresh token the page held is refused
// at the token endpoint, and a refresh token revoked behind the app's back ends in the signed-out state with
// a one-line reason, not a broken screen. The app runs without DPoP here (DPOP=false), so that the test can
// present the refresh token itself: a DPoP-bound one would be refused for want of the page's key, which
// would prove nothing about revocation.
import assert from 'node:assert/strict';
import { browserSuite } from '../support/suite.ts';
import { ALICE, BOB, call, goToPing, openApp, see, signIn } from '../support/user-actions.ts';

const LIFETIME = 10;
const suite = browserSuite({ accessTokenLifetime: LIFETIME, env: { spa: { DPOP: 'false' } } });

const refresh = (tokenEndpoint: string, refreshToken: string) =>
  fetch(tokenEndpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'refresh_token',
      client_id: 'angularjs-spa',
      refresh_token: refreshToken,
    }),
  }).then(async (res) => ({ status: res.status, body: (await res.json()) as { error?: string } }));

suite.test(
  'after "Log Out" the refresh token the page held is refused at the token endpoint',
  async (session, system) => {
    const { page } = session;
    await openApp(page, system.urls.spa);
    await signIn(page, system.urls.spa, ALICE);
    const held = session.tokenResponses.at(-1)?.refresh_token;
    assert.ok(held, 'the page got a refresh token');
    await page.evaluate(`document.querySelector('[data-test=logout]')?.click()`);
    await page.waitForURL((url) => url.origin === system.urls.spa && url.pathname === '/', {
      timeout: 15_000,
    });
    const revokeCalls = session.requests.filter(
      (r) => r.method === 'POST' && r.url.endsWith('/oauth/revoke'),
    );
    assert.equal(revokeCalls.length, 1, 'the app revoked it before leaving');
    const after = await refresh(system.tokenEndpoint, held);
    assert.equal(after.status, 400);
    assert.equal(after.body.error, 'invalid_grant');
  },
);

suite.test(
  'a refresh token revoked behind the app ends in the signed-out state with its reason',
  async (session, system) => {
    const { page, context } = session;
    await openApp(page, system.urls.spa);
    await signIn(page, system.urls.spa, BOB);
    await goToPing(page);
    assert.equal((await call(page, 'private')).status, '200');
    const held = session.tokenResponses.at(-1)?.refresh_token;
    assert.ok(held);
    // An administrator (or a sign-out elsewhere) revokes it, and the browser's session is gone too.
    const revoked = await fetch(`${system.issuer}oauth/revoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        client_id: 'angularjs-spa',
        token: held,
        token_type_hint: 'refresh_token',
      }),
    });
    assert.equal(revoked.status, 200);
    await context.clearCookies();
    // The next renewal (at 80 % of the 10 s lifetime) fails, the silent iframe finds no session: signed out.
    const notice = await see(page, '[data-test=session-expired]', (LIFETIME + 10) * 1000);
    assert.match((await notice.textContent()) ?? '', /Your session has expired[\s\S]*could not be renewed/);
    await see(page, '[data-test=login]');
    assert.equal(await page.locator('[data-test=user-email]').count(), 0);
    assert.equal((await call(page, 'public')).status, '200', 'the page still works');
  },
  { timeoutMs: 60_000 },
);
