// The tenant console in Chromium, driven as an administrator uses it: the tutorial's dashboard steps by
// clicking (create an API, add a permission, turn on RBAC, create a role, give it to a new user), after
// which that user signs in to the SPA and "Call Scoped" answers 200. Also: who is not an administrator,
// secrets shown once, a blocked user, and axe on every page at 390 and 1280 px with nothing sideways.
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { assertNoAxeViolations } from '../support/axe.ts';
import { screenshotPath } from '../support/screenshots.ts';
import { browserSuite } from '../support/suite.ts';
import {
  CAROL,
  call,
  type DemoUser,
  goToPing,
  openApp,
  openNavbarMenu,
  readTokenPanel,
  see,
  signIn,
  submitLoginForm,
} from '../support/user-actions.ts';

const ADMIN: DemoUser = { email: 'admin@example.com', password: 'Admin-password-1' };
const suite = browserSuite();

/** From any console page: the navbar's section, and its heading. */
async function section(page: Page, name: 'apis' | 'applications' | 'users' | 'roles', heading: string) {
  await openNavbarMenu(page);
  await page.locator(`[data-test=nav-${name}]`).click();
  await see(page, `main h1:has-text("${heading}")`);
}

/** What the page said to screen readers (a status region, shown or not). */
async function saysStatus(page: Page, text: string) {
  await page
    .locator('[role=status]', { hasText: text })
    .first()
    .waitFor({ state: 'attached', timeout: 15_000 });
}

async function consoleSignIn(page: Page, consoleUrl: string, user: DemoUser) {
  await openApp(page, consoleUrl, '/apis');
  await signIn(page, consoleUrl, user);
}

suite.test(
  "the tutorial's dashboard steps by clicking, then the new user's Call Scoped answers 200",
  async (session, system) => {
    const { page } = session;
    await consoleSignIn(page, system.urls.console, ADMIN);
    await see(page, '[data-test=apis]');

    // Create API: name, identifier, RS256.
    await page.locator('[data-test=create-api]').click();
    await page.getByLabel('Name', { exact: true }).fill('Orders API');
    await page.getByLabel('Identifier', { exact: true }).fill('https://orders.example.com');
    assert.equal(await page.getByLabel('Signing algorithm', { exact: true }).inputValue(), 'RS256');
    await page.locator('[data-test=create-api-submit]').click();
    await see(page, 'main h1:has-text("Orders API")');

    // Its Permissions tab: add read:orders.
    await page.locator('[data-test=tab-permissions]').click();
    await page.getByLabel('Permission (scope)', { exact: true }).fill('read:orders');
    await page.getByLabel('Description', { exact: true }).fill('Read your orders');
    await page.locator('[data-test=add-permission]').click();
    await see(page, '[data-test=permissions] code:has-text("read:orders")');

    // RBAC and "Add Permissions in the Access Token".
    await page.locator('[data-test=tab-settings]').click();
    const permissionsInToken = page.getByLabel('Add Permissions in the Access Token', { exact: true });
    assert.equal(await permissionsInToken.isDisabled(), true, 'it needs RBAC first, as on Auth0');
    await page.getByLabel('Enable RBAC', { exact: true }).check();
    await permissionsInToken.check();
    await page.locator('[data-test=save-settings]').click();
    await saysStatus(page, 'Settings saved.');
    await page.mouse.move(0, 0);
    await page.evaluate('window.scrollTo(0, 0)');
    await page.screenshot({ path: screenshotPath('screenshot-console-api.png'), fullPage: true });

    // A role with read:messages of the Messages API (the SPA's) and read:orders.
    await section(page, 'roles', 'Roles');
    await page.locator('[data-test=create-role]').click();
    await page.getByLabel('Name', { exact: true }).fill('order-reader');
    await page.getByLabel('Description', { exact: true }).fill('Reads messages and orders');
    await page.locator('[data-test=create-role-submit]').click();
    await see(page, 'main h1:has-text("order-reader")');
    await page.getByLabel('API', { exact: true }).selectOption({ label: 'Messages API' });
    await page.locator('[data-test="permission-read:messages"]').check();
    await page.locator('[data-test=add-permissions]').click();
    await see(page, '[data-test=role-permissions] code:has-text("read:messages")');
    await page.getByLabel('API', { exact: true }).selectOption({ label: 'Orders API' });
    await page.locator('[data-test="permission-read:orders"]').check();
    await page.locator('[data-test=add-permissions]').click();
    await see(page, '[data-test=role-permissions] code:has-text("read:orders")');

    // A new user, given the role.
    const dana: DemoUser = { email: 'dana@example.com', password: 'Reads-orders-42' };
    await section(page, 'users', 'Users');
    await page.locator('[data-test=create-user]').click();
    await page.getByLabel('Email', { exact: true }).fill(dana.email);
    await page.getByLabel('Name (optional)', { exact: true }).fill('Dana');
    // A refusal of the server is shown in the form, beside what to fix, without Auth0's error class.
    await page.getByLabel('Password', { exact: true }).fill('dana-is-my-password');
    await page.locator('[data-test=create-user-submit]').click();
    await see(
      page,
      `#create-user [data-test=create-user-error]:has-text("must not contain the email's name")`,
    );
    assert.doesNotMatch(
      await page.locator('[data-test=create-user-error]').innerText(),
      /PasswordStrengthError/,
    );
    await page.getByLabel('Password', { exact: true }).fill(dana.password);
    await page.locator('[data-test=create-user-submit]').click();
    await see(page, `main h1:has-text("${dana.email}")`);
    await page.getByLabel('Assign a role', { exact: true }).selectOption({ label: 'order-reader' });
    await page.locator('[data-test=assign-role-submit]').click();
    await see(page, '[data-test=user-roles] a:has-text("order-reader")');
    await see(page, '[data-test=user-permissions] code:has-text("read:messages")');

    // Every call went to the Management API, with the token bound to the page (DPoP), nowhere else.
    const api = `${system.issuer}api/v2/`;
    const calls = session.requests.filter((r) => r.headers['authorization']);
    assert.ok(calls.length > 10);
    for (const r of calls) {
      assert.ok(r.url.startsWith(api), `the token went only to the Management API, not ${r.url}`);
      assert.match(r.headers['authorization']!, /^DPoP /);
      assert.ok(r.headers['dpop'], 'with a proof');
    }

    // Dana, in a browser of her own, signs in to the SPA: Call Scoped answers 200.
    const spa = await session.context.browser()!.newContext({ viewport: { width: 1280, height: 800 } });
    try {
      const danaPage = await spa.newPage();
      await openApp(danaPage, system.urls.spa, '/ping');
      await danaPage.locator('[data-test=login]').click();
      await see(danaPage, 'input[name=password]');
      await danaPage.mouse.move(0, 0);
      await danaPage.screenshot({ path: screenshotPath('screenshot-sign-in.png'), fullPage: false });
      await submitLoginForm(danaPage, dana);
      await danaPage.waitForURL((url) => url.href.startsWith(`${system.urls.spa}/ping`));
      await goToPing(danaPage);
      const scoped = await call(danaPage, 'scoped');
      assert.equal(scoped.status, '200', JSON.stringify(scoped));
      const token = await readTokenPanel(danaPage);
      assert.deepEqual(token.claims['permissions'], ['read:messages']);
    } finally {
      await spa.close();
    }
  },
  { timeoutMs: 120_000 },
);

suite.test(
  'a signed-in user without tenant-admin sees "Not an administrator"; the Management API refuses them anyway',
  async ({ page }, system) => {
    await consoleSignIn(page, system.urls.console, CAROL);
    await see(page, '[data-test=not-admin] h1:has-text("Not an administrator")');
    assert.match((await page.locator('[data-test=not-admin]').textContent()) ?? '', /carol@example\.com/);
    await assertNoAxeViolations(page, 'the not-an-administrator page');
    // Carol's token as the page holds it, sent to the API directly: 403 with Auth0's body.
    const token = (await page.evaluate(
      "angular.element(document.body).injector().get('auth').currentAccessToken().token",
    )) as string;
    const res = await fetch(`${system.issuer}api/v2/users`, {
      headers: { authorization: `Bearer ${token}` },
    });
    // A DPoP-bound token sent as a bearer token is refused too (401); either way, nothing is answered.
    assert.ok([401, 403].includes(res.status), String(res.status));
    const body = (await res.json()) as { statusCode: number; errorCode: string };
    assert.equal(body.statusCode, res.status);
  },
);

suite.test(
  'a secret is shown once (creation, rotation), and a blocked user cannot sign in to the SPA',
  async ({ page }, system) => {
    await consoleSignIn(page, system.urls.console, ADMIN);
    await section(page, 'applications', 'Applications');
    await page.locator('[data-test=create-application]').click();
    await page.getByLabel('Name', { exact: true }).fill('Nightly export');
    await page.getByLabel('Machine to Machine', { exact: true }).check();
    await page.locator('[data-test=create-application-submit]').click();
    const first = await (await see(page, '[data-test=secret-value]')).inputValue();
    assert.ok(first.length >= 64);
    await page.reload();
    await see(page, 'main h1:has-text("Nightly export")');
    assert.equal(await page.locator('[data-test=secret]').count(), 0, 'gone after a reload');
    await page.locator('[data-test=rotate-secret]').click();
    await page.locator('[data-test=confirm-rotate]').click();
    const second = await (await see(page, '[data-test=secret-value]')).inputValue();
    assert.notEqual(second, first);

    await section(page, 'users', 'Users');
    await page.getByLabel('Search by email', { exact: true }).fill('bob@example.com');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.locator('[data-test=users] a:has-text("bob@example.com")').click();
    await page.locator('[data-test=block]').click();
    await see(page, '[data-test=user-status]:has-text("Blocked")');

    const other = await page.context().browser()!.newContext();
    try {
      const bobPage = await other.newPage();
      await openApp(bobPage, system.urls.spa, '/');
      await bobPage.locator('[data-test=login]').click();
      await submitLoginForm(bobPage, { email: 'bob@example.com', password: 'Bob-password-1' });
      await see(bobPage, '[role=alert]:has-text("This account is blocked")');
    } finally {
      await other.close();
    }
    await page.locator('[data-test=unblock]').click();
    await see(page, '[data-test=user-status]:has-text("Active")');
  },
);

async function fitsTheScreen(page: Page, width: number, where: string): Promise<void> {
  const scrollWidth = (await page.evaluate('document.documentElement.scrollWidth')) as number;
  assert.ok(scrollWidth <= width, `${where} at ${width} px is ${scrollWidth} px wide`);
}

for (const width of [390, 1280]) {
  suite.test(
    `at ${width} px every console page fits the screen and axe finds no violation`,
    async ({ page }, system) => {
      const check = async (where: string) => {
        await fitsTheScreen(page, width, where);
        await assertNoAxeViolations(page, where);
      };
      await openApp(page, system.urls.console, '/apis');
      await see(page, '[data-test=signed-out]');
      await check('the console signed out');
      await signIn(page, system.urls.console, ADMIN);
      await see(page, '[data-test=apis]');
      await check('APIs');
      await page.locator('[data-test=create-api]').click();
      await check('APIs with the create form open');
      await page.locator('[data-test=apis] a:has-text("Messages API")').click();
      await see(page, '[data-test=save-settings]');
      await check('the Messages API settings');
      await page.locator('[data-test=tab-permissions]').click();
      await see(page, '[data-test=permissions]');
      await check('the Messages API permissions');
      await section(page, 'applications', 'Applications');
      await see(page, '[data-test=applications]');
      await check('Applications');
      await page.locator('[data-test=applications] a:has-text("Messages M2M")').click();
      await see(page, '[data-test=rotate-secret]');
      await check('an M2M application');
      await section(page, 'users', 'Users');
      await see(page, '[data-test=users]');
      await page.locator('[data-test=create-user]').click();
      await check('Users with the create form open');
      await page.locator('[data-test=users] a:has-text("alice@example.com")').click();
      await see(page, '[data-test=user-permissions]');
      await check('a user');
      await section(page, 'roles', 'Roles');
      await see(page, '[data-test=roles]');
      await check('Roles');
      await page.locator('[data-test=roles] a:has-text("editor")').click();
      await page.locator('[data-test=tab-permissions]').click();
      await see(page, '[data-test=role-permissions]');
      await check('a role’s permissions');
      await page.locator('[data-test=tab-users]').click();
      await see(page, '[data-test=role-users]');
      await check('a role’s users');
      await openNavbarMenu(page);
      await check('the navbar open');
    },
    { viewport: { width, height: width < 800 ? 844 : 800 }, mobile: width < 800, timeoutMs: 90_000 },
  );
}
