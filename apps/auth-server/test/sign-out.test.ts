// Sign-out at the server: Auth0's /v2/logout, the standard end-session endpoint, and what a sign-out ends.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type AuthServerProcess, removeDir, startAuthServer } from '@calling-api/testkit/auth-server';
import { formFields, type HttpResult, OAuthTestClient, pkcePair } from '@calling-api/testkit/oauth-client';

const APP = 'http://localhost:3000/';
let server: AuthServerProcess;
before(async () => {
  server = await startAuthServer();
});
after(async () => {
  await server.stop();
  removeDir(server.dataDir);
});

/** prompt=none: a code while the browser session lasts, login_required after it ends. */
async function sessionAlive(client: OAuthTestClient): Promise<boolean> {
  const res = await client.follow(
    client.authorizeUrl({
      client_id: 'angularjs-spa',
      response_type: 'code',
      redirect_uri: `${APP}callback`,
      scope: 'openid',
      prompt: 'none',
      code_challenge: pkcePair().challenge,
      code_challenge_method: 'S256',
    }),
  );
  const answer = new URL(res.url).searchParams;
  if (answer.get('code')) return true;
  assert.equal(answer.get('error'), 'login_required', res.url);
  return false;
}

const signedIn = async (email = 'alice@example.com', password = 'Alice-password-1') => {
  const client = new OAuthTestClient(server.issuer);
  const { tokens } = await client.signIn({ email, password });
  assert.ok(tokens.refresh_token && tokens.id_token);
  return { client, tokens };
};

const refresh = (client: OAuthTestClient, refreshToken: string) =>
  client.token({ grant_type: 'refresh_token', client_id: 'angularjs-spa', refresh_token: refreshToken });

/** What the page's script does on a sign-out that needs no answer: submit the form. */
function assertSilent(page: HttpResult): { action: string; fields: Record<string, string> } {
  assert.equal(page.status, 200);
  assert.doesNotMatch(page.body, /Yes, sign me out/, 'no question asked');
  assert.match(
    page.body,
    /<script src="\/assets\/logout.js" defer><\/script>/,
    'an external script submits it',
  );
  const form = formFields(page.body, '/oidc/logout')!;
  assert.equal(form.fields.logout, 'yes');
  return form;
}

function assertAsks(page: HttpResult): { action: string; fields: Record<string, string> } {
  assert.equal(page.status, 200);
  assert.match(page.body, /Yes, sign me out/);
  assert.doesNotMatch(page.body, /logout\.js/, 'nothing submits the form by itself');
  return formFields(page.body, '/oidc/logout')!;
}

describe("Auth0's /v2/logout", () => {
  it('signs out without asking and returns to a listed returnTo; the refresh token dies with the session', async () => {
    const { client, tokens } = await signedIn();
    const form = assertSilent(
      await client.follow(`/v2/logout?client_id=angularjs-spa&returnTo=${encodeURIComponent(APP)}`),
    );
    const done = await client.postForm(form.action, form.fields);
    assert.equal(done.url, APP);
    assert.equal(await sessionAlive(client), false);
    const reused = await refresh(client, tokens.refresh_token!);
    assert.equal(reused.status, 400, 'a refresh token copied before the sign-out is refused after it');
    assert.equal(reused.body.error, 'invalid_grant');
  });

  it('takes returnTo without the trailing slash, and the federated flag, as Auth0 does', async () => {
    const { client } = await signedIn('bob@example.com', 'Bob-password-1');
    const form = assertSilent(
      await client.follow(
        '/v2/logout?client_id=angularjs-spa&returnTo=http%3A%2F%2Flocalhost%3A3000&federated',
      ),
    );
    assert.equal((await client.postForm(form.action, form.fields)).url, APP);
  });

  it("returns to the application's first logout URL when returnTo is left out", async () => {
    const { client } = await signedIn();
    const form = assertSilent(await client.follow('/v2/logout?client_id=angularjs-spa'));
    assert.equal((await client.postForm(form.action, form.fields)).url, APP);
    assert.equal(await sessionAlive(client), false);
  });

  it('refuses a returnTo that the application does not list, and signs nobody out', async () => {
    const { client } = await signedIn();
    for (const query of [
      'client_id=angularjs-spa&returnTo=https%3A%2F%2Fevil.example%2F',
      'client_id=angularjs-spa&returnTo=http%3A%2F%2Flocalhost%3A3000%2Fother',
      'returnTo=http%3A%2F%2Flocalhost%3A3000%2F',
      'client_id=angularjs-spa&returnTo=a&returnTo=b',
      'client_id=no-such-app&returnTo=http%3A%2F%2Flocalhost%3A3000%2F',
    ]) {
      const res = await client.follow(`/v2/logout?${query}`);
      assert.equal(res.status, 400, query);
      assert.match(res.body, /Sign-out refused/, query);
      assert.ok(res.url.startsWith(server.issuer), 'no redirect anywhere');
    }
    assert.equal(await sessionAlive(client), true);
  });
});

describe('the OpenID end-session endpoint', () => {
  it("signs out without asking for the application's own ID token of this session's user", async () => {
    const { client, tokens } = await signedIn();
    const form = assertSilent(
      await client.follow(
        `/oidc/logout?${new URLSearchParams({
          id_token_hint: tokens.id_token!,
          client_id: 'angularjs-spa',
          post_logout_redirect_uri: APP,
        })}`,
      ),
    );
    assert.equal((await client.postForm(form.action, form.fields)).url, APP);
    assert.equal(await sessionAlive(client), false);
  });

  it("asks when the ID token is another user's: an attacker's own token cannot sign the victim out", async () => {
    const attacker = await signedIn('carol@example.com', 'Carol-password-1');
    const victim = await signedIn();
    const page = await victim.client.follow(
      `/oidc/logout?${new URLSearchParams({
        id_token_hint: attacker.tokens.id_token!,
        client_id: 'angularjs-spa',
        post_logout_redirect_uri: APP,
      })}`,
    );
    assertAsks(page);
    assert.equal(await sessionAlive(victim.client), true, 'still signed in until the user answers');
  });

  it("asks for an ID token of the same user from an earlier sign-in: only this session's own token is silent", async () => {
    const earlier = await signedIn();
    const form = assertSilent(await earlier.client.follow('/v2/logout?client_id=angularjs-spa'));
    await earlier.client.postForm(form.action, form.fields);
    await new Promise((resolve) => setTimeout(resolve, 1100)); // a later second: another auth_time
    const now = await signedIn();
    const page = await now.client.follow(
      `/oidc/logout?${new URLSearchParams({
        id_token_hint: earlier.tokens.id_token!,
        client_id: 'angularjs-spa',
        post_logout_redirect_uri: APP,
      })}`,
    );
    assertAsks(page);
    assert.equal(await sessionAlive(now.client), true);
  });

  it('asks without an ID token, and the answer ends the session and its refresh tokens', async () => {
    const { client, tokens } = await signedIn('bob@example.com', 'Bob-password-1');
    const page = await client.follow('/oidc/logout');
    const form = assertAsks(page);
    assert.equal(page.headers.get('cache-control')?.includes('no-store'), true);
    const done = await client.postForm(form.action, { ...form.fields, logout: 'yes' });
    assert.equal(done.status, 200);
    assert.match(done.body, /You are signed out/);
    assert.equal(await sessionAlive(client), false);
    assert.equal((await refresh(client, tokens.refresh_token!)).body.error, 'invalid_grant');
  });

  it('ends the refresh tokens of every application signed in through the session', async () => {
    const { client, tokens } = await signedIn();
    const rotated = await refresh(client, tokens.refresh_token!);
    assert.equal(rotated.status, 200, 'refreshing works before the sign-out');
    const form = assertSilent(await client.follow('/v2/logout?client_id=angularjs-spa'));
    await client.postForm(form.action, form.fields);
    assert.equal((await refresh(client, rotated.body.refresh_token!)).body.error, 'invalid_grant');
  });
});
