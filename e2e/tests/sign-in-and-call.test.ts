// The tutorial's checkpoint, as each demo user lives it: sign in at the hosted login page, open
// Ping, press the buttons, read what the API answered. Roles decide the scopes: alice (editor)
// may read and write, bob (viewer) may only read, carol (no role) has a token but no scope.
import assert from 'node:assert/strict';
import { screenshotPath } from '../support/screenshots.ts';
import { browserSuite } from '../support/suite.ts';
import {
  ALICE,
  BOB,
  CAROL,
  call,
  goToPing,
  openApp,
  postMessage,
  pressNavbarLogin,
  readTokenPanel,
  see,
  signIn,
  submitLoginForm,
} from '../support/user-actions.ts';

const suite = browserSuite();

suite.test(
  'alice signs in and sees the public, private and scoped calls succeed, then posts a message',
  async ({ page }, system) => {
    await openApp(page, system.urls.spa);
    await signIn(page, system.urls.spa, ALICE);

    // The used authorization code does not stay in the browser's history (the callback entry is replaced).
    const cdp = await page.context().newCDPSession(page);
    const history = (await cdp.send('Page.getNavigationHistory')).entries.map((e) => e.url);
    await cdp.detach();
    const withCode = history.filter((url) => url.startsWith(system.urls.spa) && /[?&]code=/.test(url));
    assert.ok(
      history.some((url) => url.startsWith(system.urls.auth)),
      `the history is the real one (it holds the login page): ${history.join(' | ')}`,
    );
    assert.deepEqual(withCode, [], `no history entry keeps the code: ${history.join(' | ')}`);

    await goToPing(page);

    const publicCall = await call(page, 'public');
    assert.equal(publicCall.status, '200');
    assert.notEqual(publicCall.message, '', 'the public answer shows its message');

    const privateCall = await call(page, 'private');
    assert.equal(privateCall.status, '200');
    assert.notEqual(privateCall.message, '', 'the private answer shows its message');

    const scopedCall = await call(page, 'scoped');
    assert.equal(scopedCall.status, '200');
    assert.notEqual(scopedCall.message, '', 'the scoped answer shows its message');

    const posted = await postMessage(page, 'Hello from the browser tests');
    assert.equal(posted.status, '201');
    assert.equal(posted.error, '');

    const token = await readTokenPanel(page);
    assert.deepEqual(
      token.scope
        .split(' ')
        .filter((s) => s.endsWith(':messages'))
        .sort(),
      ['read:messages', 'write:messages'],
    );
    assert.equal(token.claims['aud'], system.audience);
    assert.deepEqual([...((token.claims['permissions'] as string[]) ?? [])].sort(), [
      'read:messages',
      'write:messages',
    ]);

    await page.mouse.move(0, 0); // no hover highlight in the picture
    await page.screenshot({ path: screenshotPath('screenshot-ping.png'), fullPage: false });
  },
);

suite.test(
  'bob can read but is refused write:messages, and the screen says which scope is missing',
  async ({ page }, system) => {
    await openApp(page, system.urls.spa);
    await signIn(page, system.urls.spa, BOB);
    await goToPing(page);

    assert.equal((await call(page, 'private')).status, '200');
    assert.equal((await call(page, 'scoped')).status, '200');

    const posted = await postMessage(page, 'bob tries to write');
    assert.equal(posted.status, '403');
    assert.equal(posted.error, 'insufficient_scope');
    assert.equal(posted.missingScope, 'write:messages');

    const token = await readTokenPanel(page);
    assert.ok(
      token.scope.split(' ').includes('read:messages'),
      `bob's token has read:messages: ${token.scope}`,
    );
    assert.ok(
      !token.scope.split(' ').includes('write:messages'),
      `bob's token lacks write:messages: ${token.scope}`,
    );
  },
);

suite.test(
  "carol's private call succeeds but the scoped call is refused with read:messages shown missing",
  async ({ page }, system) => {
    await openApp(page, system.urls.spa);
    await signIn(page, system.urls.spa, CAROL);
    await goToPing(page);

    assert.equal((await call(page, 'private')).status, '200');

    const scoped = await call(page, 'scoped');
    assert.equal(scoped.status, '403');
    assert.equal(scoped.error, 'insufficient_scope');
    assert.equal(scoped.missingScope, 'read:messages');
    assert.equal(scoped.message, '', 'no success message beside a refusal');
  },
);

suite.test(
  'a signed-out user gets 401 from the private call and is offered to sign in',
  async ({ page }, system) => {
    await openApp(page, system.urls.spa, '/ping');
    await see(page, '[data-test=login]');

    assert.equal((await call(page, 'public')).status, '200', 'the public route needs no token');

    const privateCall = await call(page, 'private');
    assert.equal(privateCall.status, '401');
    assert.equal(privateCall.message, '');

    const prompt = await see(page, '[data-test=sign-in-again]');
    await prompt.click();
    await see(page, 'input[name=password]');
    assert.equal(new URL(page.url()).origin, system.urls.auth, 'the prompt leads to the hosted login page');
    await submitLoginForm(page, ALICE);
    await see(page, '[data-test=user-email]');
  },
);

suite.test(
  'signing out ends the session at the authorization server too: signing in again asks for the password',
  async (session, system) => {
    const { page } = session;
    await openApp(page, system.urls.spa);
    await signIn(page, system.urls.spa, ALICE);
    const refreshToken = session.tokenResponses[0]?.refresh_token;
    assert.ok(refreshToken, 'the app was given a refresh token');

    await (await see(page, '[data-test=logout]')).click();
    await page.waitForURL((url) => url.origin === system.urls.spa, { timeout: 15_000 });
    await see(page, '[data-test=login]');
    assert.equal(
      await page.locator('[data-test=user-email]').count(),
      0,
      'no email in the navbar after signing out',
    );

    await goToPing(page);
    assert.equal((await call(page, 'private')).status, '401', 'no token is left in the app');

    // The refresh token the app held is dead too (revoked), not just forgotten by the page.
    const refresh = await fetch(system.tokenEndpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: system.urls.spa },
      body: new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: refreshToken,
        client_id: system.clientId,
      }),
    });
    assert.equal(refresh.status, 400, 'the refresh token no longer works after signing out');
    assert.equal(((await refresh.json()) as { error?: string }).error, 'invalid_grant');

    await (await see(page, '[data-test=login]')).click();
    await see(page, 'input[name=password]');
    assert.equal(new URL(page.url()).origin, system.urls.auth, 'the hosted login page asks again');
  },
);

suite.test(
  'cancelling on the sign-in page comes back to the app saying so, signed out',
  async (session, system) => {
    const { page } = session;
    await openApp(page, system.urls.spa);
    await (await see(page, '[data-test=login]')).click();
    await page.getByRole('button', { name: 'Cancel and return to the application' }).click();
    await see(page, 'h1:has-text("Sign-in cancelled")');
    assert.equal(await page.locator('[data-test=error]').innerText(), 'access_denied');
    await see(page, '[data-test=login]');
    assert.equal(await page.locator('[data-test=user-email]').count(), 0, 'nobody is signed in');
  },
);

suite.test(
  'a callback the app did not start (forged state) signs nobody in and says so',
  async (session, system) => {
    const { page } = session;
    const forged = new URL('/callback', system.urls.spa);
    forged.searchParams.set('code', 'a-code-from-someone-else');
    forged.searchParams.set('state', 'a-state-this-browser-never-issued');
    forged.searchParams.set('iss', system.issuer);
    await page.goto(forged.href);

    const alert = await see(page, '[role=alert]:has-text("Sign-in failed")');
    assert.match((await alert.textContent()) ?? '', /state/i, 'the failure names the state check');
    await see(page, '[data-test=login]');
    assert.equal(await page.locator('[data-test=user-email]').count(), 0, 'nobody is signed in');
    assert.ok(
      !session.requests.some((r) => r.url === system.tokenEndpoint),
      'the forged code was never sent to the token endpoint',
    );
  },
);

suite.test(
  'a wrong password is refused on the login page, with the same words as an unknown email',
  async ({ page }, system) => {
    await openApp(page, system.urls.spa);
    await (await see(page, '[data-test=login]')).click();

    // Each refusal is a new page: wait for it, so the alert read is never the previous one.
    const refusedAfter = async (user: { email: string; password: string }) => {
      const answered = page.waitForResponse(
        (r) => r.request().method() === 'POST' && new URL(r.url()).origin === system.urls.auth,
      );
      await submitLoginForm(page, user);
      await answered;
      await page.waitForLoadState('domcontentloaded');
    };
    await refusedAfter({ email: ALICE.email, password: 'not-her-password' });
    const wrongPassword = ((await (await see(page, '[role=alert]')).textContent()) ?? '').trim();
    assert.notEqual(wrongPassword, '');
    assert.equal(new URL(page.url()).origin, system.urls.auth, 'still on the hosted login page');

    await refusedAfter({ email: 'nobody@example.com', password: 'not-her-password' });
    const unknownEmail = ((await (await see(page, '[role=alert]')).textContent()) ?? '').trim();
    assert.equal(unknownEmail, wrongPassword, 'the page does not tell which emails have accounts');

    await submitLoginForm(page, ALICE);
    await see(page, '[data-test=user-email]');
    assert.equal(new URL(page.url()).origin, system.urls.spa);
  },
);

suite.test(
  "the Profile page shows the ID token's claims and the userinfo answer for the signed-in user",
  async ({ page }, system) => {
    await openApp(page, system.urls.spa);
    await signIn(page, system.urls.spa, BOB);
    await (await see(page, '[data-test=nav-profile]')).click();

    const idToken = JSON.parse(
      ((await (await see(page, '[data-test=id-token-claims]')).textContent()) ?? '').trim(),
    );
    const userinfo = JSON.parse(
      ((await (await see(page, '[data-test=userinfo]')).textContent()) ?? '').trim(),
    );
    assert.equal(idToken.iss, system.issuer);
    assert.equal(idToken.aud, system.clientId);
    assert.equal(idToken.email, BOB.email);
    assert.equal(typeof idToken.nonce, 'string', 'the ID token answers the nonce the app sent');
    assert.equal(userinfo.sub, idToken.sub, 'userinfo speaks of the same user');
    assert.equal(userinfo.email, BOB.email);
  },
);
