// Where the access token goes, and where it does not: never into script-readable storage, only to
// the allow-listed API origin (not to a look-alike host, another port or another scheme, which
// the original sample's unanchored host pattern let through), and every page runs under its CSP.
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import type { Page, Route } from 'playwright-core';
import { freePort } from '../../scripts/system.ts';
import type { Session } from '../support/browser.ts';
import { assertNotReadable, scriptReadableState } from '../support/script-readable-state.ts';
import { browserSuite } from '../support/suite.ts';
import {
  ALICE,
  call,
  eventually,
  goToPing,
  openApp,
  readTokenPanel,
  see,
  signIn,
} from '../support/user-actions.ts';

const suite = browserSuite();

/** The page's AngularJS (a global of the app's bundle), as far as these tests use it. */
declare const angular: {
  element(element: Element): { injector(): { get(name: string): AngularService } };
};
interface AngularService {
  get(url: string, config: { headers?: Record<string, string> }): PromiseLike<{ status: number }>;
  $apply(fn: () => void): void;
}

/** The app's own $http, as a component would call it, run inside the page with a digest. */
async function httpGetInPage(page: Page, url: string, headers?: Record<string, string>): Promise<number> {
  return page.evaluate(
    async ({ url, headers }) => {
      const injector = angular.element(document.body).injector();
      const $http = injector.get('$http');
      let promise!: PromiseLike<number>;
      injector.get('$rootScope').$apply(() => {
        promise = $http.get(url, headers ? { headers } : {}).then(
          (response) => response.status,
          (response: { status: number }) => response.status,
        );
      });
      return await promise;
    },
    { url, headers },
  );
}

const bearerOf = (session: Session, url: string) =>
  session.requests.filter((r) => r.url === url && r.method === 'GET').map((r) => r.headers['authorization']);

suite.test(
  'the access token is never in localStorage, sessionStorage, a script-readable cookie or IndexedDB',
  async (session, system) => {
    const { page, context } = session;
    await openApp(page, system.urls.spa);
    await signIn(page, system.urls.spa, ALICE);
    await goToPing(page);
    assert.equal((await call(page, 'private')).status, '200');

    // The token as it travelled: the token endpoint's answer and the API request's header.
    const issued = await eventually(async () => session.tokenResponses[0], 'the token endpoint answer');
    assert.ok(issued.access_token, 'the code exchange returned an access token');
    const sent = session.requests.find((r) => r.url === `${system.urls.api}/api/private`)?.headers[
      'authorization'
    ];
    assert.equal(
      sent,
      `DPoP ${issued.access_token}`,
      'the API call carried the issued token, bound to the page (DPoP)',
    );
    const { jti } = await readTokenPanel(page);

    const secrets: Record<string, string> = {
      'access token': issued.access_token,
      "access token's signature": issued.access_token.split('.')[2]!,
      "access token's jti (from the token panel)": jti,
    };
    if (issued.refresh_token) secrets['refresh token'] = issued.refresh_token;
    if (issued.id_token) secrets['ID token'] = issued.id_token;

    for (const route of ['/ping', '/profile', '/']) {
      await page.locator(`[data-test=nav-${route === '/' ? 'home' : route.slice(1)}]`).click();
      await page.waitForURL((url) => url.pathname === route);
      assertNotReadable(await scriptReadableState(page), secrets);
    }
    await see(page, '[data-test=user-email]'); // still signed in: the tokens live in memory

    // Cookies of every origin the browser visited (the authorization server's session cookies
    // included): none holds a token, and none that a script may read holds anything token-like.
    for (const cookie of await context.cookies()) {
      for (const [what, secret] of Object.entries(secrets)) {
        assert.ok(
          !cookie.value.includes(secret),
          `cookie ${cookie.name} on ${cookie.domain} holds the ${what}`,
        );
      }
    }
  },
);

suite.test(
  'the token goes to the API origin only: not to a look-alike host, another port, another scheme or the app itself',
  async (session, system) => {
    const { page, context } = session;
    const api = new URL(system.urls.api);
    const otherPort = await freePort();
    const decoys = [
      `http://api.localhost.evil.localhost:${api.port}/api/private`, // look-alike host containing "localhost"
      `http://localhost.evil.localhost:${api.port}/api/private`, // look-alike host starting with "localhost"
      `http://evil.localhost:${api.port}/localhost:${api.port}/api/private`, // the API's host:port in the path
      `http://localhost:${otherPort}/api/private`, // another port of localhost
      `https://localhost:${api.port}/api/private`, // another scheme, same host and port
      `http://127.0.0.1:${api.port}/api/private`, // the same server under another host name
      `${system.urls.spa}/api/private`, // the app's own origin
    ];
    const probe = `http://probe.localhost:${api.port}/api/private`;

    // Answer every decoy (and its CORS preflight, if a token ever caused one) inside the browser:
    // nothing leaves the machine, and a request that would carry a header is still completed and seen.
    const seenByRoute: Array<{
      url: string;
      method: string;
      authorization: string | undefined;
      dpop: string | undefined;
    }> = [];
    const isDecoy = (url: URL) => decoys.includes(url.href) || url.href === probe;
    await context.route(isDecoy, async (route: Route) => {
      const request = route.request();
      const headers = await request.allHeaders();
      seenByRoute.push({
        url: request.url(),
        method: request.method(),
        authorization: headers['authorization'],
        dpop: headers['dpop'],
      });
      await route.fulfill({
        status: request.method() === 'OPTIONS' ? 204 : 200,
        contentType: 'application/json',
        headers: {
          'access-control-allow-origin': system.urls.spa,
          'access-control-allow-headers': 'authorization, content-type',
          'access-control-allow-methods': 'GET, POST',
        },
        body: request.method() === 'OPTIONS' ? '' : '{"decoy":true}',
      });
    });

    await openApp(page, system.urls.spa);
    await signIn(page, system.urls.spa, ALICE);
    await goToPing(page);

    const statuses = {
      real: await httpGetInPage(page, `${system.urls.api}/api/private`),
      decoys: await Promise.all(decoys.map((url) => httpGetInPage(page, url))),
      // Self-check of the observation: a header set by hand on a decoy must be seen.
      probe: await httpGetInPage(page, probe, { Authorization: 'Bearer probe-value' }),
    };

    assert.equal(statuses.real, 200, 'the real API answers the token-bearing call');
    const [realHeader] = bearerOf(session, `${system.urls.api}/api/private`);
    assert.match(
      realHeader ?? '',
      /^DPoP [\w-]+\.[\w-]+\.[\w-]+$/,
      'the API request carries the access token, with the DPoP scheme',
    );

    assert.equal(statuses.probe, 200);
    assert.ok(
      seenByRoute.some(
        (r) => r.url === probe && r.method === 'GET' && r.authorization === 'Bearer probe-value',
      ),
      'the harness sees an Authorization header on an intercepted request (so its absence below means something)',
    );

    for (const [i, decoy] of decoys.entries()) {
      assert.equal(statuses.decoys[i], 200, `${decoy} was answered by the interception`);
      const gets = seenByRoute.filter((r) => r.url === decoy && r.method === 'GET');
      assert.equal(gets.length, 1, `${decoy} was requested once`);
      assert.equal(gets[0]!.authorization, undefined, `${decoy} carried an Authorization header`);
      assert.equal(gets[0]!.dpop, undefined, `${decoy} carried a DPoP proof`);
      assert.deepEqual(
        bearerOf(session, decoy),
        [undefined],
        `${decoy}: no Authorization header left the page`,
      );
      assert.ok(
        !seenByRoute.some((r) => r.url === decoy && r.method === 'OPTIONS'),
        `${decoy}: no preflight for a header`,
      );
    }
  },
  { bypassCsp: true },
);

suite.test(
  'no page reports a Content-Security-Policy violation, and each page has a strict policy',
  async (session, system) => {
    const { page } = session;
    const policies = new Map<string, string>();
    page.on('response', async (response) => {
      if (response.request().isNavigationRequest() && (response.status() < 300 || response.status() >= 400)) {
        const url = new URL(response.url());
        policies.set(
          `${url.origin}${url.pathname}`,
          (await response.allHeaders())['content-security-policy'] ?? '',
        );
      }
    });

    await openApp(page, system.urls.spa, '/no-such-page'); // the not-found page
    await openApp(page, system.urls.spa, '/ping');
    await call(page, 'public');
    await signIn(page, system.urls.spa, ALICE); // the hosted login page, the callback
    await goToPing(page);
    for (const kind of ['public', 'private', 'scoped'] as const) await call(page, kind);
    await page.locator('[data-test=nav-profile]').click();
    await see(page, '[data-test=userinfo]');
    await (await see(page, '[data-test=logout]')).click();
    await see(page, '[data-test=login]');

    const loginPage = [...policies.keys()].find((k) => k.startsWith(system.urls.auth));
    assert.ok(loginPage, `the hosted login page was visited (${[...policies.keys()].join(', ')})`);
    for (const [url, policy] of policies) {
      assert.notEqual(policy, '', `${url} is served with a Content-Security-Policy`);
      const scriptSrc =
        /(?:^|;)\s*script-src ([^;]*)/.exec(policy)?.[1] ?? /default-src ([^;]*)/.exec(policy)?.[1] ?? '';
      assert.ok(
        !/'unsafe-inline'|'unsafe-eval'/.test(scriptSrc),
        `${url}: script-src without unsafe-*: ${policy}`,
      );
    }
    assert.deepEqual(session.cspViolations, [], 'no page reported a violation');
  },
);

suite.test(
  'the violation recorder works: an injected inline script and a call to a foreign origin are reported',
  async (session, system) => {
    const { page } = session;
    await openApp(page, system.urls.spa);
    // A second line of defence behind the allow-list: the SPA's connect-src refuses other origins.
    const lookAlike = `http://api.localhost.evil.localhost:${new URL(system.urls.api).port}/api/private`;
    assert.equal(await httpGetInPage(page, lookAlike), -1, 'the browser refused the request');
    const refused = await eventually(async () => session.cspViolations[0], 'a connect-src report', 5000);
    assert.equal(refused.directive, 'connect-src');
    assert.equal(refused.blocked, lookAlike);
    session.cspViolations.length = 0;

    await page.evaluate(() => {
      const script = document.createElement('script');
      script.textContent = 'window.__inlineRan = true;';
      document.head.append(script);
    });
    const violation = await eventually(
      async () => session.cspViolations[0],
      'a securitypolicyviolation report',
      5000,
    );
    assert.match(violation.directive, /^script-src/);
    assert.equal(await page.evaluate(() => (window as { __inlineRan?: boolean }).__inlineRan), undefined);
    // Expected here (the browser also logs both to the console); the suite checks nothing else happened.
    session.cspViolations.length = 0;
    session.console.length = 0;
  },
);

suite.test(
  'a DPoP-bound token copied out of the page is refused anywhere else, with the RFC 9449 answer',
  async (session, system) => {
    const { page } = session;
    await openApp(page, system.urls.spa);
    await signIn(page, system.urls.spa, ALICE);
    await goToPing(page);
    assert.equal((await call(page, 'private')).status, '200', "the page's own call succeeds");
    const sent = session.requests.find(
      (r) => r.url === `${system.urls.api}/api/private` && r.method === 'GET',
    );
    const token = sent?.headers['authorization']?.replace(/^DPoP /, '') ?? '';
    const proof = sent?.headers['dpop'] ?? '';
    assert.match(token, /^[\w-]+\.[\w-]+\.[\w-]+$/, 'the call carried a DPoP-bound token');
    assert.match(proof, /^[\w-]+\.[\w-]+\.[\w-]+$/, 'and a proof');
    const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as {
      cnf?: { jkt?: string };
    };
    assert.ok(claims.cnf?.jkt, 'the token is bound to a key (cnf.jkt)');

    // What a thief holding the token can do from elsewhere (their own key included).
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    const thiefJwk = await exportJWK(publicKey);
    const thiefProof = (htm: string, htu: string) =>
      new SignJWT({
        htm,
        htu,
        jti: randomUUID(),
        iat: Math.floor(Date.now() / 1000),
        ath: createHash('sha256').update(token).digest('base64url'),
      })
        .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: thiefJwk })
        .sign(privateKey);
    const url = `${system.urls.api}/api/private`;
    const attempts: [string, string, Record<string, string>, RegExp][] = [
      [
        'replayed as a bearer token',
        url,
        { authorization: `Bearer ${token}` },
        /^DPoP .*error="invalid_token"/,
      ],
      ['without a proof', url, { authorization: `DPoP ${token}` }, /error="invalid_dpop_proof"/],
      [
        "with the page's proof again",
        url,
        { authorization: `DPoP ${token}`, dpop: proof },
        /error="invalid_dpop_proof".*used before/,
      ],
      [
        "with the page's proof for another URL",
        `${system.urls.api}/api/private-scoped`,
        { authorization: `DPoP ${token}`, dpop: proof },
        /another URL/,
      ],
      [
        'with a proof from another key',
        url,
        { authorization: `DPoP ${token}`, dpop: await thiefProof('GET', url) },
        /not bound to/,
      ],
    ];
    for (const [what, target, headers, challenge] of attempts) {
      const res = await fetch(target, { headers });
      assert.equal(res.status, 401, what);
      assert.match(res.headers.get('www-authenticate') ?? '', challenge, what);
    }
    const post = await fetch(`${system.urls.api}/api/messages`, {
      method: 'POST',
      headers: {
        authorization: `DPoP ${token}`,
        dpop: await thiefProof('GET', `${system.urls.api}/api/messages`),
        'content-type': 'application/json',
      },
      body: JSON.stringify({ text: 'not me' }),
    });
    assert.equal(post.status, 401, 'a proof for another method');
    assert.match(post.headers.get('www-authenticate') ?? '', /another HTTP method/);
  },
);
