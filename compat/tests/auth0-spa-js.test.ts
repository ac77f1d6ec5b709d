// @auth0/auth0-spa-js, from the registry and unchanged, in headless Chromium against the embedded server,
// configured as an Auth0 application is: domain, clientId, authorizationParams (no issuer option).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { BrowserContext, Page, Request } from 'playwright-core';
import { type Credentials, claims, fillSignIn, USERS } from '../support/browser.ts';
import { type Fixture, startFixture } from '../support/fixture.ts';

type SdkWindow = Window & {
  app: {
    start(options?: Record<string, unknown>): Promise<unknown>;
    client: {
      loginWithRedirect(options?: unknown): Promise<void>;
      loginWithPopup(options?: unknown): Promise<void>;
      getTokenSilently(options?: unknown): Promise<string>;
      getUser(): Promise<Record<string, unknown> | undefined>;
      getIdTokenClaims(): Promise<Record<string, unknown> | undefined>;
      isAuthenticated(): Promise<boolean>;
      logout(options?: unknown): Promise<void>;
    };
    ready: Promise<void>;
  };
};

const statusOf = (page: Page) => page.locator('#status').textContent();

async function openApp(f: Fixture, context: BrowserContext, options: Record<string, unknown>): Promise<Page> {
  const page = await context.newPage();
  await page.goto(`${f.app.origin}/`);
  await page.evaluate((o) => (window as unknown as SdkWindow).app.start(o), options);
  return page;
}

/** loginWithRedirect, the hosted form, then the app's handleRedirectCallback on /callback. */
async function signIn(f: Fixture, page: Page, user: Credentials): Promise<void> {
  await page.evaluate(() => {
    void (window as unknown as SdkWindow).app.client.loginWithRedirect();
  });
  await page.waitForURL(
    (url) => url.href.startsWith(f.auth.issuer) && url.pathname.startsWith('/interaction/'),
  );
  await fillSignIn(page, user);
  await page.waitForFunction(() => document.getElementById('status')?.textContent?.startsWith('signed in'));
  assert.equal(await statusOf(page), `signed in as ${user.email}`);
  assert.equal(new URL(page.url()).search, '', 'the code and state are gone from the address bar');
}

const getToken = (page: Page, options?: Record<string, unknown>) =>
  page.evaluate((o) => (window as unknown as SdkWindow).app.client.getTokenSilently(o), options);

/** Token endpoint calls as the page sent them (form bodies), with their JSON answers. */
function recordTokenCalls(page: Page, tokenEndpoint: string) {
  const calls: { body: URLSearchParams; answer: Promise<Record<string, unknown>> }[] = [];
  page.on('request', (request: Request) => {
    if (request.method() !== 'POST' || request.url() !== tokenEndpoint) return;
    calls.push({
      body: new URLSearchParams(request.postData() ?? ''),
      answer: request.response().then(async (r) => (r ? ((await r.json()) as Record<string, unknown>) : {})),
    });
  });
  return calls;
}

for (const https of [false, true]) {
  describe(`auth0-spa-js over ${https ? 'https (dev-cert, domain only)' : 'http'}`, () => {
    let f: Fixture;
    before(async () => {
      f = await startFixture({ https });
    });
    after(async () => {
      await f?.stop();
    });

    it("signs in with loginWithRedirect; the ID token's iss is the issuer with its slash; RBAC decides the scopes", async () => {
      for (const [name, expected] of [
        ['alice', ['read:messages', 'write:messages']],
        ['bob', ['read:messages']],
      ] as const) {
        const context = await f.browser.newContext();
        const page = await openApp(f, context, {});
        await signIn(f, page, USERS[name]);
        const id = await page.evaluate(() => (window as unknown as SdkWindow).app.client.getIdTokenClaims());
        assert.equal(id?.iss, f.auth.issuer);
        assert.equal(
          (await page.evaluate(() => (window as unknown as SdkWindow).app.client.getUser()))?.email,
          USERS[name].email,
        );
        const token = claims(await getToken(page));
        assert.equal(token.aud, 'http://localhost:3001/api');
        assert.deepEqual(token.permissions, expected);
        assert.deepEqual(
          String(token.scope)
            .split(' ')
            .filter((s) => s.endsWith(':messages')),
          expected,
        );
        await context.close();
      }
    });

    it('renews with rotating refresh tokens (getTokenSilently with cacheMode off, twice)', async () => {
      const context = await f.browser.newContext();
      const page = await openApp(f, context, { useRefreshTokens: true });
      const calls = recordTokenCalls(page, `${f.auth.issuer}oauth/token`);
      await signIn(f, page, USERS.alice);
      const first = await getToken(page, { cacheMode: 'off' });
      const second = await getToken(page, { cacheMode: 'off' });
      assert.notEqual(first, second);
      const grants = calls.map((c) => c.body.get('grant_type'));
      assert.deepEqual(grants, ['authorization_code', 'refresh_token', 'refresh_token']);
      const answers = await Promise.all(calls.map((c) => c.answer));
      assert.ok(answers.every((a) => typeof a.refresh_token === 'string'));
      // Rotation: each refresh sends the token the previous answer gave, and gets a new one.
      assert.equal(calls[1]!.body.get('refresh_token'), answers[0]!.refresh_token);
      assert.equal(calls[2]!.body.get('refresh_token'), answers[1]!.refresh_token);
      assert.notEqual(answers[1]!.refresh_token, answers[0]!.refresh_token);
      await context.close();
    });

    it('renews without refresh tokens in a hidden iframe: prompt=none, response_mode=web_message', async () => {
      const context = await f.browser.newContext();
      const page = await openApp(f, context, {});
      const framed: string[] = [];
      page.on('request', (r) => {
        if (r.frame() !== page.mainFrame() && r.url().startsWith(`${f.auth.issuer}authorize`))
          framed.push(r.url());
      });
      await signIn(f, page, USERS.alice);
      const before = await getToken(page);
      const renewed = await getToken(page, { cacheMode: 'off' });
      assert.notEqual(renewed, before);
      assert.equal(claims(renewed).sub, claims(before).sub);
      assert.equal(framed.length, 1, 'one silent request, from the iframe');
      const query = new URL(framed[0]!).searchParams;
      assert.equal(query.get('prompt'), 'none');
      assert.equal(query.get('response_mode'), 'web_message');
      await context.close();
    });

    it('signs in with loginWithPopup', async () => {
      const context = await f.browser.newContext();
      const page = await openApp(f, context, {});
      const popupOpened = context.waitForEvent('page');
      await page.evaluate(() => {
        const w = window as unknown as SdkWindow & { popupDone?: Promise<string> };
        w.popupDone = w.app.client.loginWithPopup().then(
          () => 'ok',
          (e: { error?: string; message?: string }) => `${e.error}: ${e.message}`,
        );
      });
      const popup = await popupOpened;
      await popup.waitForURL((url) => url.pathname.startsWith('/interaction/'));
      await fillSignIn(popup, USERS.bob);
      assert.equal(
        await page.evaluate(() => (window as unknown as { popupDone: Promise<string> }).popupDone),
        'ok',
      );
      assert.equal(
        (await page.evaluate(() => (window as unknown as SdkWindow).app.client.getUser()))?.email,
        USERS.bob.email,
      );
      await context.close();
    });

    it('logs out back to the app with no confirmation page; the next sign-in shows the form again', async () => {
      const context = await f.browser.newContext();
      const page = await openApp(f, context, { useRefreshTokens: true });
      const calls = recordTokenCalls(page, `${f.auth.issuer}oauth/token`);
      await signIn(f, page, USERS.alice);
      const refreshToken = (await calls[0]!.answer).refresh_token as string;
      const pages: string[] = [];
      page.on('framenavigated', (frame) => {
        if (frame === page.mainFrame()) pages.push(new URL(frame.url()).pathname);
      });
      await page.evaluate((origin) => {
        void (window as unknown as SdkWindow).app.client.logout({ logoutParams: { returnTo: origin } });
      }, f.app.origin);
      await page.waitForURL(`${f.app.origin}/`);
      await page.waitForFunction(() => document.getElementById('status')?.textContent === 'signed out');
      assert.deepEqual(pages, ['/v2/logout', '/'], 'a sign-out page that submits itself, then the app');

      // The refresh token the app held is dead at the server too (sent from the page, as a thief with it would).
      const refused = await page.evaluate(
        async ({ url, token }) => {
          const res = await fetch(url, {
            method: 'POST',
            body: new URLSearchParams({
              grant_type: 'refresh_token',
              client_id: 'auth0-sdk-app',
              refresh_token: token,
            }),
          });
          return { status: res.status, error: ((await res.json()) as { error: string }).error };
        },
        { url: `${f.auth.issuer}oauth/token`, token: refreshToken },
      );
      assert.deepEqual(refused, { status: 400, error: 'invalid_grant' });

      await page.evaluate(() => {
        void (window as unknown as SdkWindow).app.client.loginWithRedirect();
      });
      await page.waitForURL((url) => url.pathname.startsWith('/interaction/'));
      assert.equal(
        await page.locator('input[name=password]').count(),
        1,
        'the sign-in form, not a silent return',
      );
      await context.close();
    });

    if (!https) {
      it('lets no other site frame the silent sign-in or receive its message', async () => {
        const context = await f.browser.newContext();
        const page = await openApp(f, context, {});
        await signIn(f, page, USERS.alice);
        // The same hidden iframe, built by hand, from the registered app and from a site the tenant does not know.
        const probe = async (origin: string) => {
          const other = await context.newPage();
          await other.goto(`${origin}/`);
          const messages = await other.evaluate(
            async ({ issuer, callback }) => {
              const url = new URL(`${issuer}authorize`);
              for (const [k, v] of Object.entries({
                client_id: 'auth0-sdk-app',
                redirect_uri: callback,
                response_type: 'code',
                response_mode: 'web_message',
                prompt: 'none',
                scope: 'openid',
                state: 'probe',
                code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
                code_challenge_method: 'S256',
              }))
                url.searchParams.set(k, v);
              const messages: unknown[] = [];
              window.addEventListener('message', (e) => messages.push(e.data));
              const frame = document.createElement('iframe');
              frame.src = url.href;
              document.body.append(frame);
              await new Promise((r) => setTimeout(r, 2500));
              return messages;
            },
            { issuer: f.auth.issuer, callback: `${f.app.origin}/callback` },
          );
          // What the iframe holds: the server's page, or Chromium's error page when framing was refused.
          const framed =
            other
              .frames()
              .find((frame) => frame !== other.mainFrame())
              ?.url() ?? '';
          return { messages: messages as { type: string; response: { code?: string } }[], framed };
        };
        const fromApp = await probe(f.app.origin);
        assert.ok(fromApp.framed.startsWith(`${f.auth.issuer}authorize`), fromApp.framed);
        assert.equal(fromApp.messages.length, 1, 'the registered web origin gets the answer');
        assert.equal(fromApp.messages[0]!.type, 'authorization_response');
        assert.ok(fromApp.messages[0]!.response.code);
        const fromStranger = await probe(f.stranger.origin);
        assert.equal(
          fromStranger.framed,
          'chrome-error://chromewebdata/',
          'the frame is refused (frame-ancestors)',
        );
        assert.deepEqual(fromStranger.messages, [], 'an unregistered origin gets nothing');
        await context.close();
      });
    }
  });
}
