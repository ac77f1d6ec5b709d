// The session as a person lives it: a reload or a deep link keeps them signed in (a silent prompt=none in a
// hidden iframe), a first visit asks the server nothing, two tabs renew their own tokens for longer than two
// token lifetimes without tripping refresh-token reuse detection, and a sign-out in one tab signs the other
// out at once. Short token lifetimes (10 s) make the renewals happen during the test.
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import type { RecordedRequest } from '../support/browser.ts';
import { browserSuite } from '../support/suite.ts';
import {
  ALICE,
  BOB,
  call,
  eventually,
  goToPing,
  openApp,
  see,
  signedInEmail,
  signIn,
} from '../support/user-actions.ts';

const LIFETIME = 10;
const suite = browserSuite({ accessTokenLifetime: LIFETIME });

const silentRequests = (requests: RecordedRequest[], issuer: string) =>
  requests.filter(
    (r) => r.url.startsWith(`${issuer}authorize`) && new URL(r.url).searchParams.get('prompt') === 'none',
  );

const topLevelVisits = (requests: RecordedRequest[], origin: string) =>
  requests.filter(
    (r) => r.isNavigation && r.url.startsWith(origin) && !r.url.includes('response_mode=web_message'),
  );

async function signedOutInNavbar(page: Page): Promise<void> {
  await page.waitForFunction(
    `document.querySelector('[data-test=login]') !== null && !document.querySelector('.navbar__session.is-restoring')`,
    undefined,
    { timeout: 10_000 },
  );
}

suite.test('a visitor who never signed in makes no silent sign-in request', async (session, system) => {
  const { page } = session;
  await openApp(page, system.urls.spa);
  await openApp(page, system.urls.spa, '/ping');
  await page.reload();
  await see(page, 'main h1');
  await signedOutInNavbar(page);
  assert.deepEqual(silentRequests(session.requests, system.issuer), []);
});

suite.test(
  'a reload and a deep link in a new tab are still signed in, on the page that was opened, with its data',
  async (session, system) => {
    const { page, context } = session;
    await openApp(page, system.urls.spa);
    await signIn(page, system.urls.spa, BOB);
    const before = session.requests.length;
    await page.reload();
    await see(page, 'main h1');
    assert.equal(await signedInEmail(page), BOB.email, 'signed in again after the reload');
    const afterReload = session.requests.slice(before);
    assert.equal(silentRequests(afterReload, system.issuer).length, 1, 'one silent request');
    assert.equal(
      silentRequests(afterReload, system.issuer)[0]!.url.includes('response_mode=web_message'),
      true,
      'in the hidden iframe',
    );
    assert.deepEqual(topLevelVisits(afterReload, system.urls.auth), [], 'the page never left the app');

    const tab = await context.newPage();
    await openApp(tab, system.urls.spa, '/ping?from=link');
    assert.equal(await signedInEmail(tab), BOB.email);
    assert.equal(new URL(tab.url()).pathname + new URL(tab.url()).search, '/ping?from=link');
    assert.equal((await call(tab, 'scoped')).status, '200');

    // A page that asks the server for more once someone is signed in asks after the restore too.
    const profile = await context.newPage();
    await openApp(profile, system.urls.spa, '/profile');
    await see(profile, '[data-test=userinfo]');
    assert.match(await profile.locator('[data-test=userinfo]').innerText(), /"email": "bob@example\.com"/);
  },
);

suite.test(
  'two tabs renew their own tokens for more than two lifetimes, with no reuse-detection revocation',
  async (session, system) => {
    const { page, context } = session;
    await openApp(page, system.urls.spa);
    await signIn(page, system.urls.spa, ALICE);
    await goToPing(page);
    const second = await context.newPage();
    await openApp(second, system.urls.spa, '/ping');
    assert.equal(await signedInEmail(second), ALICE.email);
    const started = Date.now();
    const statuses: string[] = [];
    while (Date.now() - started < (2 * LIFETIME + 4) * 1000) {
      for (const tab of [page, second]) statuses.push((await call(tab, 'private')).status);
      await new Promise((resolve) => setTimeout(resolve, 1500));
    }
    assert.ok(statuses.length >= 10, `${statuses.length} calls`);
    assert.deepEqual([...new Set(statuses)], ['200'], 'every call of both tabs succeeded');
    const refreshes = session.requests.filter(
      (r) => r.method === 'POST' && r.url === system.tokenEndpoint,
    ).length;
    assert.ok(refreshes >= 4, `the tabs renewed their tokens (${refreshes} token requests)`);
    assert.doesNotMatch(
      system.logs('auth').join('\n'),
      /grant revoked/,
      'no refresh-token family was revoked',
    );
  },
  { timeoutMs: 90_000 },
);

suite.test('signing out in one tab signs the other tab out at once', async (session, system) => {
  const { page, context } = session;
  await openApp(page, system.urls.spa);
  await signIn(page, system.urls.spa, ALICE);
  const second = await context.newPage();
  await openApp(second, system.urls.spa, '/ping');
  assert.equal(await signedInEmail(second), ALICE.email);
  const navigationsOfSecond = session.requests.filter((r) => r.isNavigation).length;

  await page.evaluate(`document.querySelector('[data-test=logout]')?.click()`);
  await page.waitForURL((url) => url.origin === system.urls.spa && url.pathname === '/', { timeout: 15_000 });
  await signedOutInNavbar(second);
  assert.equal(await second.locator('[data-test=user-email]').count(), 0);
  assert.ok(
    session.requests.filter((r) => r.isNavigation).length > navigationsOfSecond,
    'only the first tab navigated',
  );
  await eventually(
    async () => (await second.locator('[data-test=login]').count()) === 1 || undefined,
    'Log In in the second tab',
  );
  const after = await call(second, 'private');
  assert.equal(after.status, '401', 'the second tab holds no token any more');
});

suite.test(
  'a sign-in this tab did not start shows a fixed message, not the text of the address',
  async (session, system) => {
    const { page } = session;
    await page.goto(
      `${system.urls.spa}/callback?error=access_denied&error_description=${encodeURIComponent('Your account is locked. Call +1 555 0100 now.')}&state=x`,
    );
    const shown = (await (await see(page, '[data-test=error-description]')).textContent()) ?? '';
    assert.match(shown, /No sign-in is pending in this tab/);
    assert.doesNotMatch((await page.locator('main').textContent()) ?? '', /locked|555/);
    assert.equal(new URL(page.url()).search, '', 'and the address no longer carries it');
  },
);
