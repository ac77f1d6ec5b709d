// Server-side libraries written for Auth0 (express-oauth2-jwt-bearer, the auth0 package) and a certified
// OpenID relying party (openid-client), unchanged, against the embedded server.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  type AuthServerProcess,
  removeDir,
  startAuthServer,
  type TlsFiles,
  tempDir,
} from '@calling-api/testkit/auth-server';
import { formFields, OAuthTestClient } from '@calling-api/testkit/oauth-client';
import express from 'express';
import { auth, requiredScopes } from 'express-oauth2-jwt-bearer';
import * as client from 'openid-client';
import { claims, USERS } from '../support/browser.ts';
import { devCert } from '../support/fixture.ts';
import { AUTH0_DIALECT_API, MESSAGES_API, writeCompatTenant } from '../support/tenant.ts';

const APP_ORIGIN = 'http://localhost:3000';

describe('express-oauth2-jwt-bearer, Auth0 middleware for APIs', () => {
  let dir: string;
  let server: AuthServerProcess;
  const apis: Server[] = [];
  before(async () => {
    dir = tempDir('compat-');
    server = await startAuthServer({
      dataDir: join(dir, 'auth'),
      env: { TENANT_FILE: writeCompatTenant(dir, [APP_ORIGIN]), LOG_LEVEL: 'warn' },
    });
  });
  after(async () => {
    for (const api of apis) api.close();
    await server.stop();
    removeDir(dir);
  });

  /** An Express API protected the way Auth0's quickstart does it: issuerBaseURL and audience, nothing else. */
  async function protectedApi(audience: string): Promise<string> {
    const app = express();
    app.get(
      '/api/private-scoped',
      auth({ issuerBaseURL: server.issuer, audience }),
      requiredScopes('read:messages'),
      (req, res) => {
        res.json({ sub: req.auth?.payload.sub });
      },
    );
    app.use(
      (
        err: { status?: number },
        _req: express.Request,
        res: express.Response,
        _next: express.NextFunction,
      ) => {
        res.status(err.status ?? 500).json({ error: String(err) });
      },
    );
    const listening = app.listen(0, '127.0.0.1');
    apis.push(listening);
    await new Promise((r) => listening.once('listening', r));
    return `http://127.0.0.1:${(listening.address() as AddressInfo).port}/api/private-scoped`;
  }

  for (const [dialect, audience, typ] of [
    ['RFC 9068', MESSAGES_API, 'at+jwt'],
    ["Auth0's", AUTH0_DIALECT_API, 'JWT'],
  ] as const) {
    it(`accepts alice's token in ${dialect} dialect and refuses it tampered with`, async () => {
      const url = await protectedApi(audience);
      const { tokens } = await new OAuthTestClient(server.issuer).signIn({ ...USERS.alice, audience });
      const token = tokens.access_token!;
      assert.equal(JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()).typ, typ);
      const ok = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
      assert.equal(ok.status, 200);
      assert.equal(((await ok.json()) as { sub: string }).sub, claims(token).sub);

      const [header, payload, signature] = token.split('.');
      const raised = Buffer.from(
        JSON.stringify({ ...claims(token), scope: `${claims(token).scope} admin:all` }),
      ).toString('base64url');
      const tampered = await fetch(url, {
        headers: { authorization: `Bearer ${header}.${raised}.${signature}` },
      });
      assert.equal(tampered.status, 401);
      assert.notEqual(payload, raised);
    });
  }
});

describe('the auth0 package (AuthenticationClient) over https, with only a domain', () => {
  let dir: string;
  let tls: TlsFiles;
  let server: AuthServerProcess;
  before(async () => {
    dir = tempDir('compat-');
    tls = devCert(join(dir, 'certs'));
    server = await startAuthServer({ dataDir: join(dir, 'auth'), env: { LOG_LEVEL: 'warn' }, tls });
  });
  after(async () => {
    await server.stop();
    removeDir(dir);
  });

  it('gets a client-credentials token when Node trusts the dev CA (NODE_EXTRA_CA_CERTS)', () => {
    // NODE_EXTRA_CA_CERTS is read when Node starts: a child process, as a developer would run their script.
    const script = `
      import { AuthenticationClient } from 'auth0/legacy';
      const auth = new AuthenticationClient({ domain: process.env.DOMAIN, clientId: 'messages-m2m', clientSecret: 'dev-m2m-secret' });
      const { data } = await auth.oauth.clientCredentialsGrant({ audience: '${MESSAGES_API}' });
      console.log(JSON.stringify(data));`;
    const run = (ca: string | undefined) =>
      spawnSync(process.execPath, ['--input-type=module', '-e', script], {
        cwd: import.meta.dirname,
        env: {
          PATH: process.env.PATH,
          DOMAIN: `localhost:${server.port}`,
          ...(ca ? { NODE_EXTRA_CA_CERTS: ca } : {}),
        },
        encoding: 'utf8',
        timeout: 30_000,
      });
    const trusted = run(tls.caFile);
    assert.equal(trusted.status, 0, trusted.stderr);
    const data = JSON.parse(trusted.stdout) as { access_token: string; token_type: string };
    assert.equal(data.token_type, 'Bearer');
    assert.equal(claims(data.access_token).iss, server.issuer);
    assert.equal(claims(data.access_token).aud, MESSAGES_API);
    assert.equal(claims(data.access_token).scope, 'read:messages write:messages');
    const untrusted = run(undefined);
    assert.notEqual(untrusted.status, 0, 'without the CA the certificate is refused');
    assert.match(untrusted.stderr, /self.signed certificate|unable to verify|SELF_SIGNED/i);
  });
});

describe('openid-client (a certified relying party)', () => {
  let dir: string;
  let server: AuthServerProcess;
  before(async () => {
    dir = tempDir('compat-');
    server = await startAuthServer({
      dataDir: join(dir, 'auth'),
      env: { TENANT_FILE: writeCompatTenant(dir, [APP_ORIGIN]), LOG_LEVEL: 'warn' },
    });
  });
  after(async () => {
    await server.stop();
    removeDir(dir);
  });

  it('completes code + PKCE, refreshes, reads userinfo and revokes', async () => {
    const config = await client.discovery(new URL(server.issuer), 'auth0-sdk-app', undefined, client.None(), {
      execute: [client.allowInsecureRequests],
    });
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const nonce = client.randomNonce();
    const redirectUri = `${APP_ORIGIN}/callback`;
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: redirectUri,
      scope: 'openid profile email offline_access read:messages',
      audience: MESSAGES_API,
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      nonce,
    });
    // The browser's part: the hosted sign-in form.
    const browser = new OAuthTestClient(server.issuer);
    const form = await browser.follow(url.pathname + url.search);
    const landed = await browser.login(form, USERS.bob.email, USERS.bob.password);
    assert.ok(landed.url.startsWith(redirectUri), landed.url);
    assert.ok(formFields(form.body, '/login'), 'the sign-in form was shown');

    const tokens = await client.authorizationCodeGrant(config, new URL(landed.url), {
      pkceCodeVerifier: verifier,
      expectedState: state,
      expectedNonce: nonce,
    });
    assert.equal(tokens.claims()?.iss, server.issuer);
    assert.equal(tokens.claims()?.email, USERS.bob.email);
    assert.deepEqual(claims(tokens.access_token).permissions, ['read:messages']);

    const userinfo = await client.fetchUserInfo(config, tokens.access_token, tokens.claims()!.sub);
    assert.equal(userinfo.email, USERS.bob.email);
    const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token!);
    assert.ok(refreshed.refresh_token && refreshed.refresh_token !== tokens.refresh_token, 'rotated');
    await client.tokenRevocation(config, refreshed.refresh_token!);
    await assert.rejects(client.refreshTokenGrant(config, refreshed.refresh_token!), {
      error: 'invalid_grant',
    });
  });
});
