// What a person does with the app, in steps the tests read like a script: click "Log In", type
// the email and password into the hosted form, open Ping, press a button, read what the screen
// shows. Everything read comes from the page's visible text (the data-test hooks), not from the
// app's internals.
import type { Locator, Page } from 'playwright-core';

export interface DemoUser {
  email: string;
  password: string;
}

export const ALICE: DemoUser = { email: 'alice@example.com', password: 'Alice-password-1' };
export const BOB: DemoUser = { email: 'bob@example.com', password: 'Bob-password-1' };
export const CAROL: DemoUser = { email: 'carol@example.com', password: 'Carol-password-1' };

export type CallKind = 'public' | 'private' | 'scoped';

export interface ResultOnScreen {
  status: string;
  message: string;
  error: string;
  errorDescription: string;
  missingScope: string;
}

export interface TokenPanel {
  jti: string;
  scope: string;
  expiresIn: number;
  claims: Record<string, unknown>;
}

const STEP_TIMEOUT = 15_000;

const text = async (locator: Locator): Promise<string> =>
  (await locator.count()) === 0 ? '' : ((await locator.first().textContent()) ?? '').trim();

/** Waits for a visible hook; the error names the hook and the page the browser is on. */
export async function see(page: Page, selector: string, timeout = STEP_TIMEOUT): Promise<Locator> {
  const locator = page.locator(selector).first();
  try {
    await locator.waitFor({ state: 'visible', timeout });
  } catch {
    const body = (
      (await page
        .locator('body')
        .textContent()
        .catch(() => '')) ?? ''
    ).replace(/\s+/g, ' ');
    throw new Error(
      `${selector} not visible after ${timeout} ms on ${page.url()}\npage text: ${body.slice(0, 800)}`,
    );
  }
  return locator;
}

/** Opens a page of the app and waits for its heading, which only AngularJS renders (the navbar comes with the HTML). */
export async function openApp(page: Page, spaUrl: string, route = '/'): Promise<void> {
  await page.goto(`${spaUrl}${route}`);
  await see(page, 'main h1');
}

/**
 * On a narrow screen the navbar's links and session controls are behind its "Menu" button:
 * press it, as a person would, unless the menu is open already or the screen is wide.
 */
export async function openNavbarMenu(page: Page): Promise<void> {
  const toggle = page.locator('[data-test=nav-toggle]');
  if (!(await toggle.isVisible()) || (await toggle.getAttribute('aria-expanded')) === 'true') return;
  await toggle.click();
  await see(page, '#navbar-menu');
}

/** Closes the navbar's menu with Escape when it is open. */
export async function closeNavbarMenu(page: Page): Promise<void> {
  if ((await page.locator('[data-test=nav-toggle]').getAttribute('aria-expanded')) === 'true')
    await page.keyboard.press('Escape');
}

/** The signed-in user's email as the navbar shows it (on a narrow screen, inside its menu). */
export async function signedInEmail(page: Page): Promise<string> {
  await openNavbarMenu(page);
  const shown = ((await (await see(page, '[data-test=user-email]')).textContent()) ?? '').trim();
  await closeNavbarMenu(page);
  return shown;
}

/** Presses the navbar's "Log In" (opening the menu first on a narrow screen). */
export async function pressNavbarLogin(page: Page): Promise<void> {
  await openNavbarMenu(page);
  await (await see(page, '[data-test=login]')).click();
}

/** On the hosted login page: type the email and password, press "Continue". */
export async function submitLoginForm(page: Page, user: DemoUser): Promise<void> {
  await (await see(page, 'input[name=email]')).fill(user.email);
  await (await see(page, 'input[name=password]')).fill(user.password);
  await page.getByRole('button', { name: 'Continue' }).click();
}

/** From any app page: "Log In", the hosted form, and back in the app signed in as `user`. */
export async function signIn(page: Page, spaUrl: string, user: DemoUser): Promise<void> {
  await pressNavbarLogin(page);
  await see(page, 'input[name=password]');
  await submitLoginForm(page, user);
  await page.waitForURL((url) => url.origin === new URL(spaUrl).origin && url.pathname !== '/callback', {
    timeout: STEP_TIMEOUT,
  });
  await see(page, 'main h1');
  const shown = await signedInEmail(page);
  if (shown !== user.email)
    throw new Error(`signed in, but the navbar shows "${shown}" instead of ${user.email}`);
}

export async function goToPing(page: Page): Promise<void> {
  await openNavbarMenu(page);
  await (await see(page, '[data-test=nav-ping]')).click();
  await page.waitForURL((url) => url.pathname === '/ping', { timeout: STEP_TIMEOUT });
  await see(page, '[data-test=call-public]');
}

async function readResult(page: Page, block: string): Promise<ResultOnScreen> {
  const inBlock = (hook: string) => page.locator(`[data-test=${block}] [data-test=${hook}]`);
  return {
    status: await text(inBlock('status')),
    message: await text(inBlock('message')),
    error: await text(inBlock('error')),
    errorDescription: await text(inBlock('error-description')),
    missingScope: await text(inBlock('missing-scope')),
  };
}

const API_PATHS: Record<CallKind | 'post', { method: string; path: string }> = {
  public: { method: 'GET', path: '/api/public' },
  private: { method: 'GET', path: '/api/private' },
  scoped: { method: 'GET', path: '/api/private-scoped' },
  post: { method: 'POST', path: '/api/messages' },
};

/**
 * Presses a button and waits for the API's answer to arrive, then until the button is usable
 * again (the call, and any retry after a token renewal, has finished), then reads the block.
 */
async function pressAndRead(page: Page, kind: CallKind | 'post'): Promise<ResultOnScreen> {
  const button = kind === 'post' ? 'post-message' : `call-${kind}`;
  const block = `result-${kind}`;
  const { method, path } = API_PATHS[kind];
  const answered = page.waitForResponse(
    (response) => response.request().method() === method && new URL(response.url()).pathname === path,
    { timeout: STEP_TIMEOUT },
  );
  await page.locator(`[data-test=${button}]`).click();
  await answered;
  await see(page, `[data-test=${block}] [data-test=status]`);
  // A string, not a function, so this file needs no DOM types (the benchmark shares it).
  await page.waitForFunction(
    `document.querySelector('[data-test=${button}]')?.disabled === false`,
    undefined,
    {
      timeout: STEP_TIMEOUT,
    },
  );
  return readResult(page, block);
}

export function call(page: Page, kind: CallKind): Promise<ResultOnScreen> {
  return pressAndRead(page, kind);
}

export async function postMessage(page: Page, message: string): Promise<ResultOnScreen> {
  await (await see(page, '[data-test=message-text]')).fill(message);
  return pressAndRead(page, 'post');
}

/**
 * The token panel read in one go (a single turn of the page's event loop), so a renewal that
 * re-renders the panel can never give a jti from one token and claims from another. Waits until
 * the panel shows a token whose claims are complete.
 */
export async function readTokenPanel(page: Page): Promise<TokenPanel> {
  await see(page, '[data-test=token-panel] [data-test=token-jti]');
  return eventually(async () => {
    const raw = await page.locator('[data-test=token-panel]').evaluate((panel) => {
      const read = (hook: string) => panel.querySelector(`[data-test=${hook}]`)?.textContent?.trim() ?? '';
      return {
        jti: read('token-jti'),
        scope: read('token-scope'),
        expiresIn: read('token-expires-in'),
        claims: read('token-claims'),
      };
    });
    if (raw.jti === '' || raw.claims === '') return undefined;
    let claims: Record<string, unknown>;
    try {
      claims = JSON.parse(raw.claims) as Record<string, unknown>;
    } catch {
      return undefined; // mid-render
    }
    if (claims['jti'] !== raw.jti) return undefined;
    return { jti: raw.jti, scope: raw.scope, expiresIn: Number(raw.expiresIn), claims };
  }, 'a complete token panel');
}

/** Polls `probe` until it returns a value other than undefined, or fails with `what`. */
export async function eventually<T>(
  probe: () => Promise<T | undefined>,
  what: string,
  timeoutMs = STEP_TIMEOUT,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`gave up after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
