// Tokens over time: refresh rotation, reuse detection, CORS for the SPA, and data and keys surviving a restart.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import {
  type AuthServerProcess,
  removeDir,
  startAuthServer,
  tempDir,
} from '@calling-api/testkit/auth-server';
import { decodeJwt, OAuthTestClient } from '@calling-api/testkit/oauth-client';
import { createRemoteJWKSet, jwtVerify } from 'jose';

const API = 'http://localhost:3001/api';
const ALICE = { email: 'alice@example.com', password: 'Alice-password-1' };
const SPA_ORIGIN = 'http://localhost:3000';

const servers: AuthServerProcess[] = [];
const dirs: string[] = [];
after(async () => {
  for (const s of servers) await s.stop();
  for (const d of dirs) removeDir(d);
});

async function start(dataDir: string, port?: number) {
  const s = await startAuthServer({ dataDir, ...(port ? { port } : {}) });
  servers.push(s);
  return s;
}

const refresh = (client: OAuthTestClient, token: string, headers: Record<string, string> = {}) =>
  client.token({ grant_type: 'refresh_token', client_id: 'angularjs-spa', refresh_token: token }, headers);

describe('refresh tokens', () => {
  it('rotate on each use, and reusing an old one revokes the whole family including the newest', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const server = await start(dir);
    const client = new OAuthTestClient(server.issuer);
    const { tokens } = await client.signIn(ALICE);
    const rt1 = tokens.refresh_token!;
    const second = await refresh(client, rt1);
    assert.equal(second.status, 200);
    const rt2 = second.body.refresh_token!;
    assert.ok(rt2 && rt2 !== rt1, 'a new refresh token');
    assert.equal(decodeJwt(second.body.access_token!).payload.aud, API);
    const reuse = await refresh(client, rt1);
    assert.equal(reuse.status, 400);
    assert.equal(reuse.body.error, 'invalid_grant');
    const newest = await refresh(client, rt2);
    assert.equal(newest.status, 400, 'the newest token of the family is revoked too');
    assert.equal(newest.body.error, 'invalid_grant');
  });

  it('answer the SPA origin with CORS at the token endpoint and refuse other origins', async () => {
    const server = servers[0]!;
    const client = new OAuthTestClient(server.issuer);
    const { tokens } = await client.signIn(ALICE);
    const ok = await refresh(client, tokens.refresh_token!, { origin: SPA_ORIGIN });
    assert.equal(ok.status, 200);
    assert.equal(ok.headers.get('access-control-allow-origin'), SPA_ORIGIN);
    const bad = await refresh(client, ok.body.refresh_token!, { origin: 'https://evil.example' });
    assert.equal(bad.status, 400);
    assert.equal(bad.headers.get('access-control-allow-origin'), null);
  });

  it('give only the scopes a refresh asks for when it asks for fewer, and never more', async () => {
    const server = servers[0]!;
    const client = new OAuthTestClient(server.issuer);
    const { tokens } = await client.signIn(ALICE);
    assert.equal(
      decodeJwt(tokens.access_token!).payload.scope,
      'openid profile email offline_access read:messages write:messages',
    );
    const narrow = await client.token({
      grant_type: 'refresh_token',
      client_id: 'angularjs-spa',
      refresh_token: tokens.refresh_token!,
      scope: 'openid read:messages',
    });
    assert.equal(narrow.status, 200);
    assert.equal(decodeJwt(narrow.body.access_token!).payload.scope, 'openid read:messages');
    const wider = await client.token({
      grant_type: 'refresh_token',
      client_id: 'angularjs-spa',
      refresh_token: narrow.body.refresh_token!,
      scope: 'openid read:messages delete:messages',
    });
    assert.equal(wider.status, 400);
    assert.equal(wider.body.error, 'invalid_scope');
  });

  it('can be revoked at /oauth/revoke', async () => {
    const server = servers[0]!;
    const client = new OAuthTestClient(server.issuer);
    const { tokens } = await client.signIn(ALICE);
    const res = await fetch(`${server.issuer}oauth/revoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: tokens.refresh_token!, client_id: 'angularjs-spa' }),
    });
    assert.equal(res.status, 200);
    assert.equal((await refresh(client, tokens.refresh_token!)).body.error, 'invalid_grant');
  });
});

describe('introspection', () => {
  const introspect = (token: string, auth: Record<string, string>) =>
    fetch(`${servers[0]!.issuer}oauth/introspect`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token, ...auth }),
    });

  it("tells a client nothing about another client's token, and a public client nothing at all", async () => {
    const client = new OAuthTestClient(servers[0]!.issuer);
    const { tokens } = await client.signIn(ALICE);
    const res = await introspect(tokens.refresh_token!, {
      client_id: 'messages-m2m',
      client_secret: 'dev-m2m-secret',
    });
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { active: false }, "the M2M app learns nothing of alice's SPA token");
    const spa = await introspect(tokens.refresh_token!, { client_id: 'angularjs-spa' });
    assert.deepEqual(await spa.json(), { active: false }, 'a public client learns nothing');
    const wrong = await introspect(tokens.refresh_token!, {
      client_id: 'messages-m2m',
      client_secret: 'nope',
    });
    assert.equal(wrong.status, 401);
  });
});

describe('restart on the same DATA_DIR', () => {
  it('keeps the key (same kid), so tokens from before verify, refresh tokens and the browser session keep working', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const first = await start(dir);
    const client = new OAuthTestClient(first.issuer);
    const { tokens } = await client.signIn(ALICE);
    const kidBefore = decodeJwt(tokens.access_token!).header.kid;
    await first.stop();
    assert.equal(first.child.exitCode, 0, 'SIGTERM shuts down cleanly');

    const second = await start(dir, first.port);
    const jwks = createRemoteJWKSet(new URL(`${second.issuer}.well-known/jwks.json`));
    const { protectedHeader } = await jwtVerify(tokens.access_token!, jwks, {
      issuer: second.issuer,
      audience: API,
      typ: 'at+jwt',
    });
    assert.equal(protectedHeader.kid, kidBefore);
    const after = await refresh(client, tokens.refresh_token!);
    assert.equal(after.status, 200, JSON.stringify(after.body));
    assert.equal(decodeJwt(after.body.access_token!).header.kid, kidBefore);
    const silent = await client.follow(
      client.authorizeUrl({
        client_id: 'angularjs-spa',
        response_type: 'code',
        redirect_uri: 'http://localhost:3000/callback',
        scope: 'openid',
        prompt: 'none',
        code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
        code_challenge_method: 'S256',
      }),
    );
    assert.ok(new URL(silent.url).searchParams.get('code'), `the browser session survived: ${silent.url}`);
  });
});
