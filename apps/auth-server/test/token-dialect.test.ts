// Auth0's token dialect, per API (tenant `tokenDialect: "auth0"`): what an API written for Auth0 expects.
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
import { decodeJwt, OAuthTestClient } from '@calling-api/testkit/oauth-client';
import { createRemoteJWKSet, jwtVerify } from 'jose';

const AUTH0_API = 'https://auth0-style.example.com/api';
let server: AuthServerProcess;
let dir: string;
before(async () => {
  dir = tempDir();
  const tenant = JSON.parse(readFileSync(join(AUTH_SERVER_DIR, 'tenant.json'), 'utf8'));
  tenant.apis.push({
    name: 'Auth0-style API',
    identifier: AUTH0_API,
    tokenDialect: 'auth0',
    rbac: true,
    permissionsInToken: true,
    scopes: [{ value: 'read:things', description: 'Read things' }],
  });
  tenant.roles
    .find((r: { name: string }) => r.name === 'editor')
    .permissions.push({
      audience: AUTH0_API,
      scope: 'read:things',
    });
  tenant.clientGrants.push({ clientId: 'messages-m2m', audience: AUTH0_API, scopes: ['read:things'] });
  const tenantFile = join(dir, 'tenant.json');
  writeFileSync(tenantFile, JSON.stringify(tenant));
  server = await startAuthServer({ env: { TENANT_FILE: tenantFile } });
});
after(async () => {
  await server.stop();
  removeDir(server.dataDir);
  removeDir(dir);
});

describe("Auth0's token dialect", () => {
  it('signs typ JWT with the API and <issuer>userinfo as audiences when openid is granted; /userinfo takes it', async () => {
    const client = new OAuthTestClient(server.issuer);
    const { tokens } = await client.signIn({
      email: 'alice@example.com',
      password: 'Alice-password-1',
      audience: AUTH0_API,
      scope: 'openid profile email read:things',
    });
    const jwks = createRemoteJWKSet(new URL(`${server.issuer}.well-known/jwks.json`));
    const { payload, protectedHeader } = await jwtVerify(tokens.access_token!, jwks, {
      issuer: server.issuer,
      audience: AUTH0_API,
      typ: 'JWT',
    });
    assert.equal(protectedHeader.typ, 'JWT');
    assert.deepEqual(payload.aud, [AUTH0_API, `${server.issuer}userinfo`]);
    assert.equal(payload.azp, 'angularjs-spa');
    assert.deepEqual(payload.permissions, ['read:things']);
    assert.equal(payload.scope, 'openid profile email read:things');
    const userinfo = await fetch(`${server.issuer}userinfo`, {
      headers: { authorization: `Bearer ${tokens.access_token}` },
    });
    assert.equal(userinfo.status, 200);
    assert.equal(((await userinfo.json()) as { email: string }).email, 'alice@example.com');
  });

  it('names only the API as audience without openid (client credentials)', async () => {
    const { body } = await new OAuthTestClient(server.issuer).token({
      grant_type: 'client_credentials',
      client_id: 'messages-m2m',
      client_secret: 'dev-m2m-secret',
      audience: AUTH0_API,
    });
    const { header, payload } = decodeJwt(body.access_token!);
    assert.equal(header.typ, 'JWT');
    assert.equal(payload.aud, AUTH0_API);
    assert.equal(payload.gty, 'client-credentials');
  });

  it('leaves the other APIs in RFC 9068 form, and /userinfo refuses an ID token', async () => {
    const client = new OAuthTestClient(server.issuer);
    const { tokens } = await client.signIn({ email: 'alice@example.com', password: 'Alice-password-1' });
    assert.equal(decodeJwt(tokens.access_token!).header.typ, 'at+jwt');
    assert.equal(decodeJwt(tokens.access_token!).payload.aud, 'http://localhost:3001/api');
    const withIdToken = await fetch(`${server.issuer}userinfo`, {
      headers: { authorization: `Bearer ${tokens.id_token}` },
    });
    assert.equal(withIdToken.status, 401);
  });
});
