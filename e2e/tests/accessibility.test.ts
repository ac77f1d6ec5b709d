// axe-core finds nothing to fix, on a phone (390 px) and on a desktop (1280 px): Home, Profile
// and Ping signed out, as alice and as bob, after each of Ping's four calls (200, 201, 401, 403)
// and with the API unreachable; and the authorization server's hosted pages (sign-in, sign-up,
// each with its error, consent, sign-out and its result, an error page), at 320 and 1280 px.
// Colour contrast is among axe's rules, so every state's colours are checked as shown.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { nodeBinary, REPO_ROOT } from '../../scripts/system.ts';
import { assertNoAxeViolations } from '../support/axe.ts';
import { browserSuite } from '../support/suite.ts';
import {
  ALICE,
  BOB,
  call,
  closeNavbarMenu,
  type DemoUser,
  openApp,
  openNavbarMenu,
  postMessage,
  see,
  signIn,
  submitLoginForm,
} from '../support/user-actions.ts';

const suite = browserSuite();

const screen = (width: number) => ({
  viewport: { width, height: width < 800 ? 844 : 800 },
  mobile: width < 800,
});

async function goTo(
  page: Page,
  link: 'nav-home' | 'nav-profile' | 'nav-ping',
  heading: string,
): Promise<void> {
  await openNavbarMenu(page);
  await page.locator(`[data-test=${link}]`).click();
  await see(page, `main h1:has-text("${heading}")`);
}

for (const width of [390, 1280]) {
  suite.test(
    `at ${width} px axe finds no violation signed out: Home, Profile, Ping after each call, the API unreachable`,
    async ({ page }, system) => {
      for (const route of ['/', '/profile', '/no-such-page']) {
        await openApp(page, system.urls.spa, route);
        await assertNoAxeViolations(page, `${route} signed out`);
      }
      await openApp(page, system.urls.spa, '/ping');
      await assertNoAxeViolations(page, 'Ping signed out');
      assert.equal((await call(page, 'public')).status, '200');
      await assertNoAxeViolations(page, 'Ping signed out after Call Public (200)');
      assert.equal((await call(page, 'private')).status, '401');
      await see(page, '[data-test=session-expired]');
      await assertNoAxeViolations(page, 'Ping signed out after Call Private (401 and the notice)');
      assert.equal((await call(page, 'scoped')).status, '401');
      await assertNoAxeViolations(page, 'Ping signed out after Call Scoped (401)');
      assert.equal((await postMessage(page, 'signed out')).status, '401');
      await assertNoAxeViolations(page, 'Ping signed out after Post a message (401)');
      await openNavbarMenu(page);
      await assertNoAxeViolations(page, 'Ping with the navbar menu open');
      await closeNavbarMenu(page);

      // The API unreachable: the browser gets no answer at all (a network error), and says so.
      await page.route(`${system.urls.api}/**`, (route) => route.abort('connectionrefused'));
      for (const kind of ['public', 'private'] as const) {
        await page.locator(`[data-test=call-${kind}]`).click();
        await see(page, `[data-test=result-${kind}] [data-test=error]:has-text("network_error")`);
        const status = page.locator(`[data-test=result-${kind}] [data-test=status]`);
        assert.equal((await status.textContent())?.trim(), 'No answer');
      }
      await assertNoAxeViolations(page, 'Ping with the API unreachable');
    },
    screen(width),
  );

  for (const [user, postStatus] of [
    [ALICE, '201'],
    [BOB, '403'],
  ] as [DemoUser, string][]) {
    suite.test(
      `at ${width} px axe finds no violation as ${user.email.split('@')[0]}: Ping after each of the four calls, Home, Profile`,
      async ({ page }, system) => {
        await openApp(page, system.urls.spa, '/ping');
        await signIn(page, system.urls.spa, user);
        await see(page, '[data-test=token-jti]');
        await assertNoAxeViolations(page, `Ping signed in as ${user.email}`);
        for (const kind of ['public', 'private', 'scoped'] as const) {
          assert.equal((await call(page, kind)).status, '200');
          await assertNoAxeViolations(page, `Ping as ${user.email} after Call ${kind} (200)`);
        }
        assert.equal((await postMessage(page, `from ${user.email}`)).status, postStatus);
        await assertNoAxeViolations(page, `Ping as ${user.email} after Post a message (${postStatus})`);
        const show = page.getByRole('button', { name: 'Show response body' });
        while ((await show.count()) > 0) await show.first().click();
        await assertNoAxeViolations(page, `Ping as ${user.email} with every response body shown`);
        await openNavbarMenu(page);
        await assertNoAxeViolations(page, `Ping as ${user.email} with the navbar menu open`);
        await closeNavbarMenu(page);

        await goTo(page, 'nav-home', 'Calling a protected API from AngularJS');
        await assertNoAxeViolations(page, `Home as ${user.email}`);
        await goTo(page, 'nav-profile', 'Profile');
        await see(page, '[data-test=userinfo]');
        await assertNoAxeViolations(page, `Profile as ${user.email}`);
      },
      screen(width),
    );
  }
}

/** A third-party application, so that the consent page is shown: added with the tenant CLI to the running server's data. */
function addThirdPartyApp(
  system: { dataDir: string; tenantFile: string },
  clientId: string,
  callback: string,
): void {
  const run = spawnSync(
    nodeBinary(),
    [
      path.join(REPO_ROOT, 'apps/auth-server/src/cli/main.ts'),
      'create-app',
      '--type',
      'spa',
      '--client-id',
      clientId,
      '--name',
      'Partner App',
      '--third-party',
      '--callback',
      callback,
      '--web-origin',
      new URL(callback).origin,
    ],
    {
      // The server's own tenant file: without it the CLI would read the default one, whose SPA URLs are on port 3000.
      env: {
        PATH: process.env['PATH'] ?? '',
        DATA_DIR: path.join(system.dataDir, 'auth'),
        TENANT_FILE: system.tenantFile,
      },
      encoding: 'utf8',
    },
  );
  assert.equal(run.status, 0, `tenant create-app failed: ${run.stderr}`);
}

async function fitsTheScreen(page: Page, width: number, where: string): Promise<void> {
  const scrollWidth = (await page.evaluate('document.documentElement.scrollWidth')) as number;
  const innerWidth = (await page.evaluate('window.innerWidth')) as number;
  assert.ok(
    scrollWidth <= width && innerWidth === width,
    `${where} at ${width} px is ${scrollWidth} px wide (layout viewport ${innerWidth} px)`,
  );
}

for (const width of [320, 1280]) {
  suite.test(
    `at ${width} px the hosted pages fit the screen and axe finds no violation: sign-in, sign-up, their errors, consent, sign-out, an error page`,
    async ({ page }, system) => {
      const check = async (where: string) => {
        await fitsTheScreen(page, width, where);
        await assertNoAxeViolations(page, where);
      };
      await openApp(page, system.urls.spa, '/');
      await page.locator('.hero').getByRole('button', { name: 'Log In' }).click();
      await see(page, 'input[name=password]');
      await check('the sign-in page');
      await submitLoginForm(page, { email: BOB.email, password: 'not-his-password' });
      await see(page, '[role=alert]');
      await check('the sign-in page with an error');

      await page.getByRole('link', { name: 'Sign up' }).click();
      await see(page, 'h1:has-text("Sign up")');
      await check('the sign-up page');
      await page.getByLabel('Email').fill('dana@example.com');
      await page.getByLabel('Password').fill('short');
      await page.getByRole('button', { name: 'Sign up' }).click();
      await see(page, '[role=alert]');
      await check('the sign-up page with an error');

      // Consent: a third-party application asks bob for read:messages.
      const discovery = (await (await fetch(`${system.issuer}.well-known/openid-configuration`)).json()) as {
        authorization_endpoint: string;
        end_session_endpoint: string;
      };
      const callback = `${system.urls.spa}/partner-callback`;
      const clientId = `partner-spa-${width}`; // one per test: the server's data outlives a test
      addThirdPartyApp(system, clientId, callback);
      const verifier = randomBytes(32).toString('base64url');
      const authorize = new URL(discovery.authorization_endpoint);
      authorize.search = new URLSearchParams({
        client_id: clientId,
        response_type: 'code',
        redirect_uri: callback,
        scope: 'openid read:messages',
        audience: system.audience,
        code_challenge: createHash('sha256').update(verifier).digest('base64url'),
        code_challenge_method: 'S256',
      }).toString();
      await page.goto(authorize.href);
      await submitLoginForm(page, BOB);
      await see(page, 'h1:has-text("Authorize Partner App")');
      await check('the consent page');

      // Sign-out asked by a page that is not the application: a question first, then its answer.
      await page.goto(discovery.end_session_endpoint);
      await see(page, 'button:has-text("Yes, sign me out")');
      await check('the sign-out question');
      await page.getByRole('button', { name: 'Yes, sign me out' }).click();
      await see(page, 'h1:has-text("Signed out")');
      await check('the signed-out page');

      await page.goto(`${discovery.authorization_endpoint}?client_id=no-such-client&response_type=code`);
      await see(page, '[role=alert]');
      await check('an error page');
    },
    { ...screen(width), timeoutMs: 90_000 },
  );
}
