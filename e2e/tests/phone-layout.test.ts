// The app on a phone (320 and 390 px, Chromium's mobile emulation) and on a desktop (1280 px):
// no page scrolls sideways, signed out or in, whatever the API answers; nothing on screen moves
// as a page renders or after signing in; and the navbar, collapsed into a "Menu" button on a
// phone, takes a keyboard user to every destination.
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { screenshotPath } from '../support/screenshots.ts';
import { browserSuite } from '../support/suite.ts';
import {
  ALICE,
  call,
  closeNavbarMenu,
  openApp,
  openNavbarMenu,
  postMessage,
  see,
  signedInEmail,
  signIn,
  submitLoginForm,
} from '../support/user-actions.ts';

const suite = browserSuite();

const screen = (width: number) => ({
  viewport: { width, height: width < 800 ? 844 : 800 },
  mobile: width < 800,
});

// Every layout shift Chromium reports in a document, from its first paint. All are counted, even
// those flagged as following an input (CLS leaves those out): Chromium flags the first load's
// shifts in a driven browser too, and the menu opened here moves nothing when it works.
const RECORD_LAYOUT_SHIFTS = `
  window.__layoutShifts = [];
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      window.__layoutShifts.push({
        value: entry.value,
        moved: entry.sources.map((s) => s.node && s.node.nodeType === 1
          ? s.node.tagName.toLowerCase() + (s.node.className ? '.' + String(s.node.className).split(' ').join('.') : '')
          : String(s.node && s.node.nodeName)),
      });
    }
  }).observe({ type: 'layout-shift', buffered: true });
`;

/** The layout shift of the current document so far (CLS's sum), and what moved. */
async function layoutShift(page: Page): Promise<{ total: number; moved: string[] }> {
  await page.waitForTimeout(300); // the observer reports after the frame
  const shifts = (await page.evaluate('window.__layoutShifts')) as { value: number; moved: string[] }[];
  return {
    total: shifts.reduce((sum, s) => sum + s.value, 0),
    moved: shifts.flatMap((s) => s.moved.map((m) => `${m} (${s.value.toFixed(3)})`)),
  };
}

/**
 * The page is no wider than the screen. On a phone, content that sticks out makes Chromium widen
 * the layout viewport itself (the page is zoomed out), so innerWidth is checked too; the error
 * names the elements that stick out.
 */
async function assertFitsTheScreen(page: Page, width: number, where: string): Promise<void> {
  const found = await page.evaluate((width) => {
    const wide: string[] = [];
    for (const element of Array.from(document.body.querySelectorAll('*'))) {
      const box = element.getBoundingClientRect();
      if (box.width > 0 && box.right > width + 1 && wide.length < 5)
        wide.push(
          `<${element.tagName.toLowerCase()} class="${element.getAttribute('class') ?? ''}"> right edge at ${Math.round(box.right)} px`,
        );
    }
    return { innerWidth: window.innerWidth, scrollWidth: document.documentElement.scrollWidth, wide };
  }, width);
  assert.ok(
    found.innerWidth === width && found.scrollWidth <= width,
    `${where} at ${width} px: the page is ${found.scrollWidth} px wide (layout viewport ${found.innerWidth} px), so it scrolls sideways; sticking out: ${found.wide.join('; ')}`,
  );
}

for (const width of [320, 390, 1280]) {
  suite.test(
    `at ${width} px no page scrolls sideways, signed out or in, whatever the API answers, and nothing moves as pages render`,
    async ({ page, context }, system) => {
      await context.addInitScript({ content: RECORD_LAYOUT_SHIFTS });

      // The first load on a slow phone (CPU 4× slower), where the page paints before AngularJS runs.
      const cdp = await context.newCDPSession(page);
      await cdp.send('Emulation.setCPUThrottlingRate', { rate: 4 });
      await openApp(page, system.urls.spa, '/');
      const firstLoad = await layoutShift(page);
      await cdp.send('Emulation.setCPUThrottlingRate', { rate: 1 });
      await cdp.detach();
      assert.ok(
        firstLoad.total < 0.01,
        `the home page moved as it rendered: layout shift ${firstLoad.total.toFixed(3)}; moved: ${firstLoad.moved.join(', ')}`,
      );
      await assertFitsTheScreen(page, width, 'Home, signed out');
      if (width === 390) await page.screenshot({ path: screenshotPath('home-390.png') });

      for (const route of ['/profile', '/no-such-page', '/ping']) {
        await openApp(page, system.urls.spa, route);
        await assertFitsTheScreen(page, width, `${route}, signed out`);
      }
      assert.equal((await call(page, 'public')).status, '200');
      assert.equal((await call(page, 'private')).status, '401');
      assert.equal((await call(page, 'scoped')).status, '401');
      assert.equal((await postMessage(page, 'signed out')).status, '401');
      await see(page, '[data-test=session-expired]');
      await assertFitsTheScreen(page, width, 'Ping after four calls, signed out (401s and the notice)');
      await openNavbarMenu(page);
      await assertFitsTheScreen(page, width, 'Ping with the navbar menu open');
      await closeNavbarMenu(page);

      // Signing in comes back to /ping: the callback's page turns into Ping in the same document.
      await page.getByRole('button', { name: 'Dismiss this notice' }).first().click();
      await signIn(page, system.urls.spa, ALICE);
      const afterSignIn = await layoutShift(page);
      assert.ok(
        afterSignIn.total < 0.01,
        `the page moved after signing in: layout shift ${afterSignIn.total.toFixed(3)}; moved: ${afterSignIn.moved.join(', ')}`,
      );
      assert.equal(new URL(page.url()).pathname, '/ping');
      assert.equal((await call(page, 'public')).status, '200');
      assert.equal((await call(page, 'private')).status, '200');
      assert.equal((await call(page, 'scoped')).status, '200');
      assert.equal(
        (await postMessage(page, 'a message that is long enough to wrap on a phone')).status,
        '201',
      );
      if (width === 390) {
        await page.evaluate('window.scrollTo(0, 0)');
        await page.mouse.move(0, 0); // no hover highlight in the picture
        await page.screenshot({ path: screenshotPath('ping-390.png') });
      }
      // Each press turns its button into "Hide response body": press the first "Show" until none is left.
      const show = page.getByRole('button', { name: 'Show response body' });
      while ((await show.count()) > 0) await show.first().click();
      await see(page, '[data-test=token-claims]');
      await assertFitsTheScreen(page, width, 'Ping after four calls as alice, bodies and token shown');

      for (const [link, heading] of [
        ['nav-profile', 'Profile'],
        ['nav-home', 'Calling a protected API from AngularJS'],
      ] as const) {
        await openNavbarMenu(page);
        await page.locator(`[data-test=${link}]`).click();
        await see(page, `main h1:has-text("${heading}")`);
        if (link === 'nav-profile') await see(page, '[data-test=userinfo]');
        await assertFitsTheScreen(page, width, `${heading}, signed in`);
      }
      await openNavbarMenu(page);
      await assertFitsTheScreen(page, width, 'the navbar menu open, signed in');
    },
    { ...screen(width), timeoutMs: 90_000 },
  );
}

/** The focused element as a person would name it: its text (or label) and, for a control, its state. */
async function focused(page: Page): Promise<string> {
  return page.evaluate(() => {
    const element = document.activeElement as HTMLElement | null;
    if (!element || element === document.body) return '(nothing)';
    const name = (element.getAttribute('aria-label') ?? element.textContent ?? '')
      .replace(/\s+/g, ' ')
      .trim();
    return element.tagName === 'H1' ? `heading ${name}` : name;
  });
}

/** Presses Tab until `name` has focus; fails naming every stop when it is not reached. */
async function tabTo(page: Page, name: string, maxStops = 12): Promise<void> {
  const stops: string[] = [];
  for (let i = 0; i < maxStops; i++) {
    await page.keyboard.press('Tab');
    const now = await focused(page);
    stops.push(now);
    if (now === name) return;
  }
  assert.fail(`"${name}" was not reached with the Tab key; focus went: ${stops.join(' → ')}`);
}

/** The first focus stops from the top of the page. */
async function tabOrder(page: Page, count: number): Promise<string[]> {
  await page.evaluate('document.activeElement && document.activeElement.blur()');
  const stops: string[] = [];
  for (let i = 0; i < count; i++) {
    await page.keyboard.press('Tab');
    stops.push(await focused(page));
  }
  return stops;
}

const menuState = (page: Page) => page.locator('[data-test=nav-toggle]').getAttribute('aria-expanded');

for (const width of [320, 390, 1280]) {
  const narrow = width < 960;
  suite.test(
    `at ${width} px every navbar destination is reachable and operable with the keyboard alone${narrow ? ', through the Menu button' : ''}`,
    async ({ page }, system) => {
      await openApp(page, system.urls.spa, '/profile');
      const toggle = page.getByRole('button', { name: 'Menu' });
      if (narrow) {
        // A real button, announced with its state, controlling the menu; the links are hidden until it opens.
        assert.equal(await toggle.getAttribute('aria-expanded'), 'false');
        assert.equal(await toggle.getAttribute('aria-controls'), 'navbar-menu');
        assert.equal(await page.getByRole('link', { name: 'Ping' }).isVisible(), false);
        assert.deepEqual(await tabOrder(page, 2), ['Calling an API', 'Menu']);
        await page.keyboard.press('Enter');
        assert.equal(await menuState(page), 'true', 'Enter opens the menu');
        const stops = [];
        for (let i = 0; i < 4; i++) {
          await page.keyboard.press('Tab');
          stops.push(await focused(page));
        }
        assert.deepEqual(stops, ['Home', 'Profile', 'Ping', 'Log In'], 'the menu follows its button');
        await page.keyboard.press('Escape');
        assert.equal(await menuState(page), 'false', 'Escape closes the menu');
        assert.equal(await focused(page), 'Menu', 'and gives focus back to its button');
        await page.keyboard.press('Space');
        assert.equal(await menuState(page), 'true', 'Space opens it too');
        await tabTo(page, 'Log In');
        await page.keyboard.press('Tab');
        assert.equal(await menuState(page), 'false', 'focus leaving the navbar closes the menu');
      } else {
        assert.equal(await toggle.isVisible(), false, 'no Menu button on a wide screen');
        assert.deepEqual(await tabOrder(page, 5), ['Calling an API', 'Home', 'Profile', 'Ping', 'Log In']);
      }

      // Each destination, by Tab and Enter: the page changes, the menu closes, focus starts at the new heading.
      for (const [link, path, heading] of [
        ['Ping', '/ping', 'Ping the Messages API'],
        ['Home', '/', 'Calling a protected API from AngularJS'],
        ['Profile', '/profile', 'Profile'],
      ] as const) {
        await page.evaluate('document.activeElement && document.activeElement.blur()');
        if (narrow) {
          await tabTo(page, 'Menu');
          await page.keyboard.press('Enter');
        }
        await tabTo(page, link);
        await page.keyboard.press('Enter');
        await page.waitForURL((url) => url.pathname === path);
        await see(page, `main h1:has-text("${heading}")`);
        // Focus moves once the new view has rendered, a moment after the URL changed.
        const deadline = Date.now() + 5_000;
        while ((await focused(page)) !== `heading ${heading}` && Date.now() < deadline)
          await page.waitForTimeout(50);
        assert.equal(
          await focused(page),
          `heading ${heading}`,
          `after going to ${link}, focus is on its heading`,
        );
        if (narrow) assert.equal(await menuState(page), 'false', `the menu closed on going to ${link}`);
      }
      await page.evaluate('document.activeElement && document.activeElement.blur()');
      if (narrow) {
        await tabTo(page, 'Menu');
        await page.keyboard.press('Enter');
      }
      await tabTo(page, 'Log In');
      await page.keyboard.press('Enter');

      // The hosted page puts focus in the email field: type, Tab, type, Enter.
      await see(page, 'input[name=password]');
      assert.equal(await page.evaluate('document.activeElement.name'), 'email', 'the email field has focus');
      await page.keyboard.type(ALICE.email);
      await page.keyboard.press('Tab');
      await page.keyboard.type(ALICE.password);
      await page.keyboard.press('Enter');
      await page.waitForURL((url) => url.origin === system.urls.spa && url.pathname === '/profile');
      assert.equal(await signedInEmail(page), ALICE.email);

      await page.evaluate('document.activeElement && document.activeElement.blur()');
      if (narrow) {
        await tabTo(page, 'Menu');
        await page.keyboard.press('Enter');
      }
      await tabTo(page, 'Log Out');
      await page.keyboard.press('Enter');
      await page.waitForURL((url) => url.origin === system.urls.spa && url.pathname === '/');
      await openNavbarMenu(page);
      await see(page, '[data-test=login]');
      assert.equal(await page.locator('[data-test=user-email]').count(), 0, 'signed out');
    },
    { ...screen(width), timeoutMs: 90_000 },
  );
}

suite.test(
  'the hosted login page works at 320 px: it fits, the email field has focus, and an error sends focus to the field to fix',
  async ({ page }, system) => {
    await openApp(page, system.urls.spa, '/');
    await page.locator('.hero').getByRole('button', { name: 'Log In' }).click();
    await see(page, 'input[name=password]');
    await assertFitsTheScreen(page, 320, 'the hosted login page');
    assert.equal(await page.evaluate('document.activeElement.name'), 'email');
    assert.match(await page.title(), /^Sign in · /, 'the title names the page and the application');

    await submitLoginForm(page, { email: ALICE.email, password: 'not-her-password' });
    const alert = await see(page, '[role=alert]');
    await assertFitsTheScreen(page, 320, 'the hosted login page with an error');
    const field = await page.evaluate(() => {
      const input = document.activeElement as HTMLInputElement;
      const description = (input.getAttribute('aria-describedby') ?? '')
        .split(' ')
        .map((id) => document.getElementById(id)?.textContent?.trim() ?? '')
        .join(' ');
      return { name: input.name, invalid: input.getAttribute('aria-invalid'), description };
    });
    assert.deepEqual(field, {
      name: 'password',
      invalid: 'true',
      description: ((await alert.textContent()) ?? '').trim(),
    });
    assert.match(await page.title(), /^Error: Sign in · /);
  },
  screen(320),
);
