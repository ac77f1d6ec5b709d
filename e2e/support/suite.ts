// One test file's fixture: the three programs and a Chromium started once for the file, a new
// browser context per test. A failing test's error carries the page's console, page errors, CSP
// reports and the programs' last log lines, so a red run says what happened without a re-run.
// Every test also ends by asserting that no page reported a Content-Security-Policy violation,
// threw an uncaught error, or logged an error of its own to the console.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type LaunchedBrowser, launchChromium, newSession, type Session } from './browser.ts';
import { startTestSystem, type TestSystem, type TestSystemOptions } from './test-system.ts';

export interface Suite {
  /** The running programs (available inside tests). */
  readonly system: TestSystem;
  test(
    name: string,
    body: (session: Session, system: TestSystem) => Promise<void>,
    options?: TestOptions,
  ): void;
}

export interface TestOptions {
  timeoutMs?: number;
  /**
   * Turn the pages' Content-Security-Policy off for this test, to observe another defence alone
   * (the SPA's connect-src would otherwise block requests to other origins before they are sent).
   */
  bypassCsp?: boolean;
  /** The browser window; 1280 × 800 unless given. */
  viewport?: { width: number; height: number };
  /** Emulate a phone (viewport meta tag, touch). */
  mobile?: boolean;
}

export function browserSuite(options: TestSystemOptions = {}): Suite {
  let system: TestSystem | undefined;
  let chromium: LaunchedBrowser | undefined;

  before(async () => {
    // One at a time, so a failing launch never leaves started programs unowned.
    system = await startTestSystem(options);
    chromium = await launchChromium();
  });
  after(async () => {
    await chromium?.close();
    await system?.stop();
  });

  return {
    get system() {
      assert.ok(system, 'the system is started in before()');
      return system;
    },
    test(name, body, testOptions = {}) {
      test(name, { timeout: testOptions.timeoutMs ?? 60_000 }, async () => {
        assert.ok(system && chromium, 'the system and the browser are started in before()');
        const session = await newSession(chromium.browser, {
          tokenEndpoint: system.tokenEndpoint,
          bypassCsp: testOptions.bypassCsp ?? false,
          ...(testOptions.viewport ? { viewport: testOptions.viewport } : {}),
          mobile: testOptions.mobile ?? false,
        });
        try {
          await body(session, system);
          assert.deepEqual(
            session.cspViolations,
            [],
            'a page reported a Content-Security-Policy violation (securitypolicyviolation)',
          );
          assert.deepEqual(session.pageErrors, [], 'a page threw an uncaught error');
          // The browser logs every 4xx answer as "Failed to load resource"; anything else is the app's.
          const errors = session.console.filter(
            (line) => line.startsWith('[error]') && !/Failed to load resource/.test(line),
          );
          assert.deepEqual(errors, [], 'a page logged an error to the console');
        } catch (error) {
          if (error instanceof Error) {
            error.message += `\n--- browser ---\n${session.diagnostics()}\n--- programs ---\n${system.logTail()}`;
          }
          throw error;
        } finally {
          await session.close();
        }
      });
    },
  };
}
