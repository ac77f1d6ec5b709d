// Sign-up and the hosted sign-in page's Auth0 parameters, as a browser without JavaScript would see them.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type AuthServerProcess, removeDir, startAuthServer } from '@calling-api/testkit/auth-server';
import { decodeJwt, formFields, OAuthTestClient, pkcePair } from '@calling-api/testkit/oauth-client';

const CALLBACK = 'http://localhost:3000/callback';
let server: AuthServerProcess;
before(async () => {
  server = await startAuthServer();
});
after(async () => {
  await server.stop();
  removeDir(server.dataDir);
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

describe("Auth0's /authorize parameters", () => {
  const authorize = (client: OAuthTestClient, extra: Record<string, string>) =>
    client.follow(
      client.authorizeUrl({
        client_id: 'angularjs-spa',
        response_type: 'code',
        redirect_uri: CALLBACK,
        scope: 'openid',
        code_challenge: pkcePair().challenge,
        code_challenge_method: 'S256',
        ...extra,
      }),
    );

  it('screen_hint=signup opens the sign-up form, with login_hint as its email', async () => {
    const page = await authorize(new OAuthTestClient(server.issuer), {
      screen_hint: 'signup',
      login_hint: 'new@example.com',
    });
    assert.equal(page.status, 200);
    const form = formFields(page.body, '/signup');
    assert.ok(form, 'the sign-up form');
    assert.equal(form.fields.email, 'new@example.com');
  });

  it('login_hint fills in the email of the sign-in form, escaped', async () => {
    const page = await authorize(new OAuthTestClient(server.issuer), {
      login_hint: 'bob@example.com"><script>x</script>',
    });
    assert.equal(
      formFields(page.body, '/login')?.fields.email,
      'bob@example.com&quot;&gt;&lt;script&gt;x&lt;/script&gt;',
    );
    assert.doesNotMatch(page.body, /<script>x/);
  });

  it('prompt=login shows the form to a user who is signed in already', async () => {
    const client = new OAuthTestClient(server.issuer);
    await client.signIn({ email: 'alice@example.com', password: 'Alice-password-1' });
    const silent = await authorize(client, {});
    assert.ok(new URL(silent.url).searchParams.get('code'), 'signed in: no form without prompt=login');
    const forced = await authorize(client, { prompt: 'login' });
    assert.ok(formFields(forced.body, '/login'), 'the sign-in form again');
  });

  it("accepts the tenant's database connection and ui_locales, and refuses any other connection", async () => {
    const client = new OAuthTestClient(server.issuer);
    const known = await authorize(client, {
      connection: 'Username-Password-Authentication',
      ui_locales: 'fr',
    });
    assert.ok(formFields(known.body, '/login'), 'the sign-in form');
    const unknown = await authorize(client, { connection: 'google-oauth2', state: 's1' });
    const answer = new URL(unknown.url);
    assert.equal(answer.origin + answer.pathname, CALLBACK);
    assert.equal(answer.searchParams.get('error'), 'invalid_request');
    assert.match(answer.searchParams.get('error_description') ?? '', /unknown connection "google-oauth2"/);
    assert.equal(answer.searchParams.get('code'), null);
  });
});
