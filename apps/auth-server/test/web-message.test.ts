// response_mode=web_message (Auth0's silent sign-in in an iframe, and popups) as the HTTP answers show it;
// the browser side (postMessage, framing) is driven by Auth0's own SDK in compat/.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  AUTH_SERVER_DIR,
  type AuthServerProcess,
  removeDir,
  startAuthServer,
  tempDir,
} from '@calling-api/testkit/auth-server';
import { type HttpResult, OAuthTestClient, pkcePair } from '@calling-api/testkit/oauth-client';

const CALLBACK = 'http://localhost:3000/callback';
/** Registered as a callback of the test application, but its origin is not an allowed web origin. */
const OTHER_CALLBACK = 'http://127.0.0.1:3000/callback';

let server: AuthServerProcess;
let dir: string;
before(async () => {
  dir = tempDir();
  const tenant = JSON.parse(readFileSync(join(AUTH_SERVER_DIR, 'tenant.json'), 'utf8'));
  tenant.applications[0].callbackUrls.push(OTHER_CALLBACK);
  const tenantFile = join(dir, 'tenant.json');
  writeFileSync(tenantFile, JSON.stringify(tenant));
  server = await startAuthServer({ env: { TENANT_FILE: tenantFile } });
});
after(async () => {
  await server.stop();
  removeDir(server.dataDir);
  removeDir(dir);
});

const webMessage = (client: OAuthTestClient, extra: Record<string, string> = {}) =>
  client.follow(
    client.authorizeUrl({
      client_id: 'angularjs-spa',
      response_type: 'code',
      redirect_uri: CALLBACK,
      scope: 'openid',
      response_mode: 'web_message',
      prompt: 'none',
      state: 'st-1',
      code_challenge: pkcePair().challenge,
      code_challenge_method: 'S256',
      ...extra,
    }),
  );

/** The JSON the page posts, as oidc-provider embeds it in its script. */
function postedData(page: HttpResult): { redirect_uri: string; response: Record<string, string> } {
  const json = /var data = (\{.*?\});/s.exec(page.body)?.[1];
  assert.ok(json, `a web_message page:\n${page.body.slice(0, 400)}`);
  return JSON.parse(json) as { redirect_uri: string; response: Record<string, string> };
}

const directive = (page: HttpResult, name: string) =>
  page.headers
    .get('content-security-policy')
    ?.split(';')
    .map((d) => d.trim())
    .find((d) => d.startsWith(`${name} `));

describe('response_mode=web_message', () => {
  it('is advertised in discovery', async () => {
    const discovery = (await (await fetch(`${server.issuer}.well-known/openid-configuration`)).json()) as {
      response_modes_supported: string[];
    };
    assert.ok(discovery.response_modes_supported.includes('web_message'));
  });

  it("answers a signed-in prompt=none with a page that posts the code to the redirect URI's origin, frameable by the web origins only", async () => {
    const client = new OAuthTestClient(server.issuer);
    await client.signIn({ email: 'alice@example.com', password: 'Alice-password-1' });
    const page = await webMessage(client);
    assert.equal(page.status, 200);
    const data = postedData(page);
    assert.equal(data.redirect_uri, CALLBACK, 'the postMessage target: the registered callback, never *');
    assert.equal(data.response.state, 'st-1');
    assert.ok(data.response.code);
    assert.match(page.body, /postMessage\(authorization_response, origin\)/);
    assert.equal(directive(page, 'frame-ancestors'), 'frame-ancestors http://localhost:3000');
    assert.match(directive(page, 'script-src') ?? '', /^script-src 'self' 'sha256-[A-Za-z0-9+/=]+'$/);
    assert.equal(page.headers.get('x-frame-options'), null);
  });

  it('answers login_required the same way when nobody is signed in', async () => {
    const page = await webMessage(new OAuthTestClient(server.issuer));
    const data = postedData(page);
    assert.equal(data.response.error, 'login_required');
    assert.equal(data.response.code, undefined);
    assert.equal(directive(page, 'frame-ancestors'), 'frame-ancestors http://localhost:3000');
  });

  it('refuses a redirect URI whose origin is not an allowed web origin: an error page, no message, no code', async () => {
    const client = new OAuthTestClient(server.issuer);
    await client.signIn({ email: 'alice@example.com', password: 'Alice-password-1' });
    const page = await webMessage(client, { redirect_uri: OTHER_CALLBACK });
    assert.equal(page.status, 400);
    assert.ok(page.url.startsWith(server.issuer), 'no redirect to the application');
    assert.doesNotMatch(page.body, /postMessage|code=/);
    assert.match(page.body, /allowed web origins/);
    assert.equal(directive(page, 'frame-ancestors'), "frame-ancestors 'none'");
  });

  it("keeps frame-ancestors 'none' on every other page", async () => {
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
    assert.match(login.body, /name="password"/);
    const query = await webMessage(client, { response_mode: 'query' });
    for (const page of [login, query, await client.follow('/.well-known/openid-configuration')]) {
      assert.equal(directive(page, 'frame-ancestors'), "frame-ancestors 'none'", page.url);
    }
  });

  it('lets the sign-in pages keep their opener (popups), and no other page', async () => {
    const client = new OAuthTestClient(server.issuer);
    const login = await client.follow(
      client.authorizeUrl({
        client_id: 'angularjs-spa',
        response_type: 'code',
        redirect_uri: CALLBACK,
        scope: 'openid',
        response_mode: 'web_message',
        code_challenge: pkcePair().challenge,
        code_challenge_method: 'S256',
      }),
    );
    assert.match(login.url, /\/interaction\//);
    assert.equal(login.headers.get('cross-origin-opener-policy'), null);
    const other = await client.follow('/oidc/logout');
    assert.equal(other.headers.get('cross-origin-opener-policy'), 'same-origin');
  });
});
