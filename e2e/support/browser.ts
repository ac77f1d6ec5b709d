// Debian's Chromium driven by playwright-core: one browser per test file (fresh profile folder),
// one context per test. Every context records what a reviewer wants to see after a failure and
// what some tests assert: console messages, page errors, Content-Security-Policy violations
// (reported by the page itself through `securitypolicyviolation`, on every origin it visits),
// every request with its headers, and the token endpoint's answers.
import { type Browser, type BrowserContext, chromium, type Page, type Request } from 'playwright-core';
import { chromiumPath } from './chromium-path.ts';

export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface LaunchedBrowser {
  readonly browser: Browser;
  close(): Promise<void>;
}

/**
 * A headless Chromium. playwright-core's launch() refuses a --user-data-dir flag: it creates a
 * fresh temporary profile folder itself for every launch and removes it on close().
 */
export async function launchChromium(): Promise<LaunchedBrowser> {
  const browser = await chromium.launch({
    executablePath: chromiumPath(),
    headless: true,
    args: CHROMIUM_FLAGS,
  });
  return { browser, close: () => browser.close() };
}

export interface CspViolation {
  page: string;
  directive: string;
  blocked: string;
  source: string;
  line: number;
  sample: string;
}

export interface RecordedRequest {
  url: string;
  method: string;
  headers: Record<string, string>;
  isNavigation: boolean;
}

export interface TokenResponse {
  access_token?: string;
  refresh_token?: string;
  id_token?: string;
  expires_in?: number;
  scope?: string;
}

export interface Session {
  readonly context: BrowserContext;
  readonly page: Page;
  readonly console: string[];
  readonly pageErrors: string[];
  readonly cspViolations: CspViolation[];
  /** Requests as they were sent, with all headers (Authorization included). */
  readonly requests: RecordedRequest[];
  /** Successful answers of the token endpoint (code exchange and refreshes), in order. */
  readonly tokenResponses: TokenResponse[];
  /** A summary for failure messages: console lines, page errors, CSP reports. */
  diagnostics(): string;
  close(): Promise<void>;
}

// Runs in every document before its own scripts (CDP injection, not subject to the page's CSP).
// The report goes both to window.__cspViolations and, so it survives navigations, to the test.
const RECORD_CSP_VIOLATIONS = `
  document.addEventListener('securitypolicyviolation', (event) => {
    const report = {
      page: location.href,
      directive: event.effectiveDirective || event.violatedDirective,
      blocked: event.blockedURI,
      source: event.sourceFile,
      line: event.lineNumber,
      sample: event.sample,
    };
    (window.__cspViolations = window.__cspViolations || []).push(report);
    if (typeof window.__e2eReportCsp === 'function') window.__e2eReportCsp(report);
  }, true);
`;

export async function newSession(
  browser: Browser,
  options: {
    tokenEndpoint: string;
    viewport?: { width: number; height: number };
    /** A phone: the viewport meta tag applies and touch is on (Chromium's mobile emulation). */
    mobile?: boolean;
    bypassCsp?: boolean;
  },
): Promise<Session> {
  const context = await browser.newContext({
    viewport: options.viewport ?? { width: 1280, height: 800 },
    isMobile: options.mobile ?? false,
    hasTouch: options.mobile ?? false,
    locale: 'en-US',
    bypassCSP: options.bypassCsp ?? false,
  });
  const session = {
    context,
    console: [] as string[],
    pageErrors: [] as string[],
    cspViolations: [] as CspViolation[],
    requests: [] as RecordedRequest[],
    tokenResponses: [] as TokenResponse[],
  };
  await context.exposeBinding('__e2eReportCsp', (_source, report: CspViolation) => {
    session.cspViolations.push(report);
  });
  await context.addInitScript({ content: RECORD_CSP_VIOLATIONS });
  context.on('console', (message) => {
    session.console.push(`[${message.type()}] ${message.text()} (${message.location().url})`);
  });
  context.on('weberror', (error) => {
    session.pageErrors.push(error.error().message);
  });
  context.on('request', (request: Request) => {
    // allHeaders() is the set the network stack sent; record it before the test looks.
    const entry: RecordedRequest = {
      url: request.url(),
      method: request.method(),
      headers: request.headers(),
      isNavigation: request.isNavigationRequest(),
    };
    session.requests.push(entry);
    request.allHeaders().then(
      (headers) => {
        entry.headers = headers;
      },
      () => {},
    );
  });
  context.on('response', (response) => {
    const request = response.request();
    if (request.method() !== 'POST' || response.url() !== options.tokenEndpoint || response.status() !== 200)
      return;
    response.json().then(
      (body: TokenResponse) => session.tokenResponses.push(body),
      () => {},
    );
  });
  const page = await context.newPage();
  return {
    ...session,
    page,
    diagnostics: () =>
      [
        `console (${session.console.length}):`,
        ...session.console.slice(-30),
        `page errors (${session.pageErrors.length}):`,
        ...session.pageErrors,
        `CSP violations (${session.cspViolations.length}):`,
        ...session.cspViolations.map((v) => JSON.stringify(v)),
      ].join('\n'),
    close: () => context.close(),
  };
}
