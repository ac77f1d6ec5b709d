// A session outlives its access token: with a 20-second token lifetime in the test tenant, the
// app renews the token with its refresh token in the background, and a call made after the first
// token has expired still answers 200, without the page reloading or leaving for the login page.
import assert from 'node:assert/strict';
import { assertNotReadable, scriptReadableState } from '../support/script-readable-state.ts';
import { browserSuite } from '../support/suite.ts';
import {
  ALICE,
  call,
  eventually,
  goToPing,
  openApp,
  readTokenPanel,
  signIn,
} from '../support/user-actions.ts';

const LIFETIME = 20;
const suite = browserSuite({ accessTokenLifetime: LIFETIME });

const claimsOf = (jwt: string) =>
  JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString('utf8')) as { jti: string; exp: number };

suite.test(
  'an expiring access token is renewed without a page reload, and the next call still answers 200',
  async (session, system) => {
    const { page } = session;
    await openApp(page, system.urls.spa);
    await signIn(page, system.urls.spa, ALICE);
    await goToPing(page);

    assert.equal((await call(page, 'private')).status, '200');
    const first = await readTokenPanel(page);
    assert.ok(
      first.expiresIn <= LIFETIME && first.expiresIn > 0,
      `a ${LIFETIME} s token (panel: ${first.expiresIn} s)`,
    );
    const firstExp = first.claims['exp'] as number;

    // From here on, any document load (a reload, a redirect to the login page) would show.
    await page.evaluate(() => {
      (window as { __samePage?: boolean }).__samePage = true;
    });
    const documentsBefore = session.requests.filter((r) => r.isNavigation).length;

    const renewed = await eventually(
      async () => {
        const now = await readTokenPanel(page);
        return now.jti !== '' && now.jti !== first.jti ? now : undefined;
      },
      'the token panel to show a new jti',
      (LIFETIME + 20) * 1000,
    );
    assert.ok((renewed.claims['exp'] as number) > firstExp, 'the new token expires later');

    // Wait until the first token is past its expiry, then call with whatever the app holds.
    const wait = firstExp * 1000 - Date.now() + 1500;
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    const before = session.requests.length;
    const after = await call(page, 'private');
    assert.equal(after.status, '200', 'the call after the first token expired succeeds');

    const sent = session.requests
      .slice(before)
      .filter((r) => r.url === `${system.urls.api}/api/private` && r.method === 'GET')
      .map((r) => r.headers['authorization']);
    assert.ok(sent.length >= 1, 'the call reached the API');
    const used = claimsOf(sent.at(-1)!.replace(/^Bearer /, ''));
    assert.notEqual(used.jti, first.jti, 'the call carried a renewed token, not the expired one');
    assert.ok(used.exp * 1000 > Date.now(), 'the token sent was unexpired');

    assert.ok(session.tokenResponses.length >= 2, 'the token endpoint answered a refresh');
    // The rotated tokens stay in memory like the first ones.
    const state = await scriptReadableState(page);
    for (const [n, answer] of session.tokenResponses.entries()) {
      const secrets: Record<string, string> = {};
      if (answer.access_token) secrets[`access token #${n + 1}`] = answer.access_token;
      if (answer.refresh_token) secrets[`refresh token #${n + 1}`] = answer.refresh_token;
      assertNotReadable(state, secrets);
    }
    assert.equal(
      await page.evaluate(() => (window as { __samePage?: boolean }).__samePage),
      true,
      'still the same document: no reload',
    );
    assert.equal(
      session.requests.filter((r) => r.isNavigation).length,
      documentsBefore,
      'no navigation happened',
    );
    assert.equal(new URL(page.url()).pathname, '/ping');
  },
  { timeoutMs: 120_000 },
);
