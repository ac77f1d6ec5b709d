// Renewal on refusal: when the API answers 401 invalid_token to a token the app still believes
// valid (say the API dropped the key that signed it), the app renews with its refresh token and
// retries the call once, and the user sees the answer, not an error, without a reload.
// (The tenant's normal token lifetime, so no timer-driven renewal interferes.)
import assert from 'node:assert/strict';
import { browserSuite } from '../support/suite.ts';
import { ALICE, call, goToPing, openApp, readTokenPanel, signIn } from '../support/user-actions.ts';

const suite = browserSuite();

const claimsOf = (jwt: string) =>
  JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString('utf8')) as { jti: string; exp: number };

suite.test(
  'a 401 invalid_token from the API makes the app renew the token and retry, once, without a reload',
  async (session, system) => {
    const { page, context } = session;
    await openApp(page, system.urls.spa);
    await signIn(page, system.urls.spa, ALICE);
    await goToPing(page);
    const first = await readTokenPanel(page);

    // The API refuses the next private call once, as it would a token signed with a key it has
    // since dropped; every later request goes to the real API.
    const privateUrl = `${system.urls.api}/api/private`;
    let refused = 0;
    await context.route(
      (url) => url.href === privateUrl,
      async (route) => {
        if (route.request().method() !== 'GET' || refused > 0) return route.continue();
        refused++;
        return route.fulfill({
          status: 401,
          contentType: 'application/json',
          headers: {
            'www-authenticate':
              'Bearer realm="api", error="invalid_token", error_description="signature verification failed"',
            'access-control-allow-origin': system.urls.spa,
            'access-control-expose-headers': 'WWW-Authenticate',
          },
          body: '{"error":"invalid_token","error_description":"signature verification failed"}',
        });
      },
    );
    await page.evaluate(() => {
      (window as { __samePage?: boolean }).__samePage = true;
    });
    const before = session.requests.length;

    const shown = await call(page, 'private');
    assert.equal(refused, 1, 'the refusal was served');
    assert.equal(shown.status, '200', 'the retried call answered 200 on screen');

    const sent = session.requests
      .slice(before)
      .filter((r) => r.url === privateUrl && r.method === 'GET')
      .map((r) => claimsOf(r.headers['authorization']!.replace(/^Bearer /, '')).jti);
    assert.equal(sent.length, 2, 'one refused request, one retry');
    assert.equal(sent[0], first.jti, 'the first attempt carried the token on the panel');
    assert.notEqual(sent[1], first.jti, 'the retry carried a renewed token');
    assert.equal((await readTokenPanel(page)).jti, sent[1], 'the panel shows the renewed token');
    assert.equal(
      await page.evaluate(() => (window as { __samePage?: boolean }).__samePage),
      true,
      'no reload',
    );
  },
);
