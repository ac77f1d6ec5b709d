// What an attacker or a misconfigured client sees: standard errors, never a token.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type AuthServerProcess, removeDir, startAuthServer } from '@calling-api/testkit/auth-server';
import { formFields, OAuthTestClient, pkcePair } from '@calling-api/testkit/oauth-client';

const API = 'http://localhost:3001/api';
const CALLBACK = 'http://localhost:3000/callback';

let server: AuthServerProcess;
before(async () => {
  server = await startAuthServer();
});
after(async () => {
  await server.stop();
  removeDir(server.dataDir);
});

const authorize = (client: OAuthTestClient, overrides: Record<string, string | undefined>) => {
  const { challenge } = pkcePair();
  const params: Record<string, string> = {};
  const all: Record<string, string | undefined> = {
    client_id: 'angularjs-spa',
    response_type: 'code',
    redirect_uri: CALLBACK,
    scope: 'openid read:messages',
    audience: API,
    state: 'xyz',
    code_challenge: challenge,
    code_challenge_method: 'S256',
    ...overrides,
  };
  for (const [k, v] of Object.entries(all)) if (v !== undefined) params[k] = v;
  return client.follow(client.authorizeUrl(params));
};

const redirectError = (url: string) => {
  const u = new URL(url);
  assert.equal(u.origin + u.pathname, CALLBACK, `expected a redirect to the callback, got ${url}`);
  const params = u.searchParams.has('error') ? u.searchParams : new URLSearchParams(u.hash.slice(1));
  return { error: params.get('error'), description: params.get('error_description') };
};

describe('the authorization endpoint refuses', () => {
  it('an unknown client, on an error page and without redirecting', async () => {
    const res = await authorize(new OAuthTestClient(server.issuer), { client_id: 'no-such-client' });
    assert.equal(res.status, 400);
    assert.match(res.body, /invalid_client/);
    assert.ok(res.url.startsWith(server.issuer));
  });

  it('a redirect_uri that is not registered, without redirecting to it', async () => {
    const res = await authorize(new OAuthTestClient(server.issuer), {
      redirect_uri: 'https://evil.example/callback',
    });
    assert.equal(res.status, 400);
    assert.match(res.body, /invalid_redirect_uri/);
    assert.ok(res.url.startsWith(server.issuer));
  });

  it('a request without a PKCE challenge', async () => {
    const res = await authorize(new OAuthTestClient(server.issuer), {
      code_challenge: undefined,
      code_challenge_method: undefined,
    });
    assert.equal(redirectError(res.url).error, 'invalid_request');
  });

  it('a plain PKCE challenge', async () => {
    const res = await authorize(new OAuthTestClient(server.issuer), {
      code_challenge_method: 'plain',
      code_challenge: 'a'.repeat(43),
    });
    assert.equal(redirectError(res.url).error, 'invalid_request');
  });

  it('an unknown audience with invalid_target', async () => {
    const res = await authorize(new OAuthTestClient(server.issuer), {
      audience: 'https://unknown.example/api',
    });
    assert.equal(redirectError(res.url).error, 'invalid_target');
  });

  it('the implicit flow (response_type=token)', async () => {
    const res = await authorize(new OAuthTestClient(server.issuer), { response_type: 'token' });
    assert.equal(redirectError(res.url).error, 'unsupported_response_type');
  });
});

describe('the token endpoint refuses a code exchange', () => {
  const getCode = async () => {
    const client = new OAuthTestClient(server.issuer);
    const { verifier, challenge } = pkcePair();
    const page = await authorize(client, { code_challenge: challenge });
    const done = await client.login(page, 'alice@example.com', 'Alice-password-1');
    return { client, verifier, code: new URL(done.url).searchParams.get('code')! };
  };
  const exchange = (client: OAuthTestClient, fields: Record<string, string>) =>
    client.token({
      grant_type: 'authorization_code',
      client_id: 'angularjs-spa',
      redirect_uri: CALLBACK,
      ...fields,
    });

  it('with the wrong PKCE verifier', async () => {
    const { client, code } = await getCode();
    const wrong = await exchange(client, { code, code_verifier: pkcePair().verifier });
    assert.equal(wrong.status, 400);
    assert.equal(wrong.body.error, 'invalid_grant');
    assert.equal(wrong.body.access_token, undefined);
  });

  it('with a redirect_uri other than the one of the authorization request', async () => {
    const { client, verifier, code } = await getCode();
    const res = await exchange(client, {
      code,
      code_verifier: verifier,
      redirect_uri: 'http://localhost:3000/other',
    });
    assert.equal(res.status, 400);
    assert.equal(res.body.error, 'invalid_grant');
  });

  it('a second time (codes are single use)', async () => {
    const { client, verifier, code } = await getCode();
    assert.equal((await exchange(client, { code, code_verifier: verifier })).status, 200);
    assert.equal((await exchange(client, { code, code_verifier: verifier })).body.error, 'invalid_grant');
  });
});

describe('the login page', () => {
  it('is plain HTML with labelled fields, a strict CSP, no framing and no caching', async () => {
    const res = await authorize(new OAuthTestClient(server.issuer), {});
    assert.equal(res.status, 200);
    assert.match(res.body, /<label>Email <input name="email" type="email" autocomplete="username"/);
    assert.match(
      res.body,
      /<label>Password <input name="password" type="password" autocomplete="current-password"/,
    );
    assert.match(res.body, /<button type="submit">Continue<\/button>/);
    assert.doesNotMatch(res.body, /<script|style=/);
    const csp = res.headers.get('content-security-policy') ?? '';
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.doesNotMatch(csp, /unsafe-inline/);
    assert.match(
      csp,
      /form-action 'self' http:\/\/localhost:3000 http:\/\/localhost:4001(;|$)/,
      'forms may lead only to registered URLs',
    );
    assert.equal(res.headers.get('cache-control'), 'no-store');
    const css = await fetch(`${server.issuer}assets/hosted.css`);
    assert.equal(css.status, 200);
  });

  it('re-renders the form with one generic message for a wrong password and for an unknown user', async () => {
    const bodies: string[] = [];
    for (const [email, password] of [
      ['alice@example.com', 'wrong-password'],
      ['nobody@example.com', 'wrong-password'],
    ] as const) {
      const client = new OAuthTestClient(server.issuer);
      const res = await client.login(await authorize(client, {}), email, password);
      assert.equal(res.status, 401);
      assert.ok(res.url.startsWith(server.issuer), 'no redirect to the application');
      const alert = /<p class="alert" role="alert">([^<]*)<\/p>/.exec(res.body)?.[1];
      assert.equal(alert, 'Wrong email or password.');
      assert.ok(formFields(res.body, '/login'), 'the form is shown again');
      bodies.push(alert!);
    }
    assert.equal(bodies[0], bodies[1]);
  });

  it('refuses a login post without the CSRF token', async () => {
    const client = new OAuthTestClient(server.issuer);
    const page = await authorize(client, {});
    const form = formFields(page.body, '/login')!;
    const res = await client.postForm(form.action, {
      email: 'alice@example.com',
      password: 'Alice-password-1',
    });
    assert.equal(res.status, 403);
  });

  it('locks the account for this address after 5 failures, even for the right password', async () => {
    const client = new OAuthTestClient(server.issuer);
    for (let i = 0; i < 5; i++) {
      const res = await client.login(await authorize(client, {}), 'bob@example.com', `wrong-${i}`);
      assert.equal(res.status, 401);
    }
    const locked = await client.login(await authorize(client, {}), 'bob@example.com', 'Bob-password-1');
    assert.equal(locked.status, 429);
    assert.ok(Number(locked.headers.get('retry-after')) > 0);
    assert.match(locked.body, /role="alert"/);
  });

  it('lets only 1 of 20 parallel guesses reach the password check (one check per account at a time)', async () => {
    const client = new OAuthTestClient(server.issuer);
    const form = formFields((await authorize(client, {})).body, '/login')!;
    // Twenty connections opened first, so that the guesses arrive together rather than one handshake apart.
    await Promise.all(Array.from({ length: 20 }, () => client.request('/healthz')));
    // One login page, one CSRF token, twenty wrong passwords sent at once.
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        client.postForm(form.action, { ...form.fields, email: 'carol@example.com', password: `guess-${i}` }),
      ),
    );
    const statuses = answers.map((a) => a.status);
    // One is checked; a check that ends before the last guess arrives lets one more in (a busy machine), never all.
    const checked = statuses.filter((s) => s === 401).length;
    assert.ok(checked >= 1 && checked <= 3, `statuses: ${statuses.join(' ')}`);
    assert.equal(statuses.filter((s) => s === 429).length, 20 - checked, `statuses: ${statuses.join(' ')}`);
    for (const refused of answers.filter((a) => a.status === 429)) {
      assert.match(
        refused.body,
        /Too many sign-in attempts (at once|for this account)/,
        'says why, not "too many failed attempts"',
      );
      assert.ok(Number(refused.headers.get('retry-after')) >= 1);
    }
  });
});
