// Logout (Auth0's /v2/logout and RP-initiated logout) and sign-up, as a browser without JavaScript would see them.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type AuthServerProcess, removeDir, startAuthServer } from './support/auth-server-process.ts';
import { decodeJwt, formFields, OAuthTestClient, pkcePair } from './support/oauth-client.ts';

const CALLBACK = 'http://localhost:3000/callback';
let server: AuthServerProcess;
before(async () => {
  server = await startAuthServer();
});
after(async () => {
  await server.stop();
  removeDir(server.dataDir);
});

const silentAuthorize = (client: OAuthTestClient) =>
  client.follow(
    client.authorizeUrl({
      client_id: 'angularjs-spa',
      response_type: 'code',
      redirect_uri: CALLBACK,
      scope: 'openid',
      prompt: 'none',
      code_challenge: pkcePair().challenge,
      code_challenge_method: 'S256',
    }),
  );

describe('logout', () => {
  it('signs out at once when the application sends its ID token and a registered return URL', async () => {
    const client = new OAuthTestClient(server.issuer);
    const { tokens } = await client.signIn({ email: 'alice@example.com', password: 'Alice-password-1' });
    assert.ok(
      new URL((await silentAuthorize(client)).url).searchParams.get('code'),
      'the session allows prompt=none',
    );

    const page = await client.follow(
      `/oidc/logout?${new URLSearchParams({
        id_token_hint: tokens.id_token!,
        client_id: 'angularjs-spa',
        post_logout_redirect_uri: 'http://localhost:3000/',
      })}`,
    );
    assert.equal(page.status, 200);
    assert.doesNotMatch(page.body, /Yes, sign me out/, 'no question asked');
    assert.match(
      page.body,
      /<script src="\/assets\/logout.js" defer><\/script>/,
      'submitted by an external script (strict CSP)',
    );
    const form = formFields(page.body, '/oidc/logout')!;
    assert.equal(form.fields.logout, 'yes');
    const done = await client.postForm(form.action, form.fields);
    assert.equal(done.url, 'http://localhost:3000/');

    const after = new URL((await silentAuthorize(client)).url);
    assert.equal(after.searchParams.get('error'), 'login_required');
  });

  it('asks before signing out on /v2/logout without an ID token: another site cannot sign the user out', async () => {
    const client = new OAuthTestClient(server.issuer);
    await client.signIn({ email: 'alice@example.com', password: 'Alice-password-1' });
    const page = await client.follow(
      '/v2/logout?client_id=angularjs-spa&returnTo=http%3A%2F%2Flocalhost%3A3000%2F',
    );
    assert.equal(page.status, 200);
    assert.match(page.body, /Yes, sign me out/);
    assert.doesNotMatch(page.body, /logout\.js/, 'nothing submits the form by itself');
    assert.ok(
      new URL((await silentAuthorize(client)).url).searchParams.get('code'),
      'still signed in until the user answers',
    );
    const form = formFields(page.body, '/oidc/logout')!;
    const done = await client.postForm(form.action, { ...form.fields, logout: 'yes' });
    assert.equal(done.url, 'http://localhost:3000/', 'then back to the registered returnTo');
    assert.equal(new URL((await silentAuthorize(client)).url).searchParams.get('error'), 'login_required');
  });

  it('asks for confirmation when the request names no registered return URL', async () => {
    const client = new OAuthTestClient(server.issuer);
    await client.signIn({ email: 'bob@example.com', password: 'Bob-password-1' });
    const page = await client.follow('/oidc/logout');
    assert.equal(page.status, 200);
    assert.match(
      page.body,
      /<button type="submit" form="op.logoutForm" name="logout" value="yes">Yes, sign me out<\/button>/,
    );
    assert.equal(page.headers.get('cache-control')?.includes('no-store'), true);
    const form = formFields(page.body, '/oidc/logout')!;
    const done = await client.postForm(form.action, { ...form.fields, logout: 'yes' });
    assert.equal(done.status, 200);
    assert.match(done.body, /You are signed out/);
    assert.equal(new URL((await silentAuthorize(client)).url).searchParams.get('error'), 'login_required');
  });

  it('refuses a returnTo that the application did not register', async () => {
    const client = new OAuthTestClient(server.issuer);
    const res = await client.follow(
      '/v2/logout?client_id=angularjs-spa&returnTo=https%3A%2F%2Fevil.example%2F',
    );
    assert.equal(res.status, 400);
    assert.ok(res.url.startsWith(server.issuer));
  });
});

describe('sign-up', () => {
  it('creates an account from the login page and signs in with no permissions', async () => {
    const client = new OAuthTestClient(server.issuer);
    const { verifier, challenge } = pkcePair();
    const login = await client.follow(
      client.authorizeUrl({
        client_id: 'angularjs-spa',
        response_type: 'code',
        redirect_uri: CALLBACK,
        scope: 'openid email read:messages',
        audience: 'http://localhost:3001/api',
        code_challenge: challenge,
        code_challenge_method: 'S256',
      }),
    );
    const link = /href="(\/interaction\/[^"]+\/signup)"/.exec(login.body)?.[1];
    assert.ok(link, 'a sign-up link');
    const page = await client.follow(link!);
    assert.match(
      page.body,
      /<label>Password <input name="password" type="password" autocomplete="new-password"/,
    );
    const form = formFields(page.body, '/signup')!;
    const weak = await client.postForm(form.action, {
      ...form.fields,
      email: 'erin@example.com',
      password: 'short',
    });
    assert.equal(weak.status, 400);
    assert.match(weak.body, /role="alert"/);
    const done = await client.postForm(form.action, {
      ...form.fields,
      email: 'erin@example.com',
      name: 'Erin',
      password: 'Purple-Otter-Lamp-9',
    });
    const code = new URL(done.url).searchParams.get('code');
    assert.ok(code, done.url);
    const { body } = await client.token({
      grant_type: 'authorization_code',
      client_id: 'angularjs-spa',
      code: code!,
      redirect_uri: CALLBACK,
      code_verifier: verifier,
    });
    assert.deepEqual(decodeJwt(body.access_token!).payload.permissions, []);
    const again = await new OAuthTestClient(server.issuer).signIn({
      email: 'erin@example.com',
      password: 'Purple-Otter-Lamp-9',
    });
    assert.equal(again.status, 200);
  });

  it('stops an address after 10 sign-up attempts, before any account is created', async () => {
    const client = new OAuthTestClient(server.issuer);
    const login = await client.follow(
      client.authorizeUrl({
        client_id: 'angularjs-spa',
        response_type: 'code',
        redirect_uri: CALLBACK,
        scope: 'openid',
        code_challenge: pkcePair().challenge,
        code_challenge_method: 'S256',
      }),
    );
    const link = /href="(\/interaction\/[^"]+\/signup)"/.exec(login.body)![1]!;
    const form = formFields((await client.follow(link)).body, '/signup')!;
    const statuses: number[] = [];
    for (let i = 0; i < 12 && statuses.at(-1) !== 429; i++) {
      const res = await client.postForm(form.action, {
        ...form.fields,
        email: `bulk${i}@example.com`,
        password: 'x',
      });
      statuses.push(res.status);
    }
    assert.equal(statuses.at(-1), 429, `statuses: ${statuses.join(' ')}`);
    assert.ok(statuses.length <= 11, `at most 10 attempts pass: ${statuses.join(' ')}`);
    const refused = await client.postForm(form.action, {
      ...form.fields,
      email: 'mallory@example.com',
      password: 'Purple-Otter-Lamp-9',
    });
    assert.equal(refused.status, 429);
    assert.ok(Number(refused.headers.get('retry-after')) > 60);
    assert.match(refused.body, /Too many sign-ups/);
    assert.match(
      refused.body,
      /to continue to <strong>AngularJS SPA<\/strong>/,
      'the name, not the client id',
    );
    await assert.rejects(
      new OAuthTestClient(server.issuer).signIn({
        email: 'mallory@example.com',
        password: 'Purple-Otter-Lamp-9',
      }),
      /did not reach the callback/,
      'no account was created',
    );
  });
});
