// The flows the SPA and the API depend on, over real HTTP against the spawned server.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type AuthServerProcess, removeDir, startAuthServer } from '@calling-api/testkit/auth-server';
import { decodeJwt, OAuthTestClient } from '@calling-api/testkit/oauth-client';
import { createRemoteJWKSet, jwtVerify } from 'jose';

const API = 'http://localhost:3001/api';
const USERS = {
  alice: { email: 'alice@example.com', password: 'Alice-password-1' },
  bob: { email: 'bob@example.com', password: 'Bob-password-1' },
  carol: { email: 'carol@example.com', password: 'Carol-password-1' },
};

let server: AuthServerProcess;
let jwks: ReturnType<typeof createRemoteJWKSet>;

before(async () => {
  server = await startAuthServer();
  jwks = createRemoteJWKSet(new URL(`${server.issuer}.well-known/jwks.json`));
});
after(async () => {
  await server.stop();
  removeDir(server.dataDir);
});

const verify = (token: string) =>
  jwtVerify(token, jwks, { issuer: server.issuer, audience: API, typ: 'at+jwt', algorithms: ['RS256'] });

describe('authorization code + PKCE with RBAC', () => {
  for (const [name, expected] of [
    ['alice', ['read:messages', 'write:messages']],
    ['bob', ['read:messages']],
    ['carol', []],
  ] as const) {
    it(`gives ${name} an RS256 at+jwt access token for the API with exactly ${expected.join(' ') || 'no API scope'}`, async () => {
      const client = new OAuthTestClient(server.issuer);
      const { status, tokens } = await client.signIn(USERS[name]);
      assert.equal(status, 200, JSON.stringify(tokens));
      assert.equal(tokens.token_type, 'Bearer');
      assert.ok(tokens.id_token, 'an ID token');
      const id = decodeJwt(tokens.id_token).payload;
      assert.equal(id.email, USERS[name].email, 'profile and email claims in the ID token, as Auth0 does');
      assert.equal(typeof id.name, 'string');
      assert.ok(tokens.refresh_token, 'a refresh token although prompt=consent was not sent');
      const { payload, protectedHeader } = await verify(tokens.access_token!);
      assert.equal(protectedHeader.alg, 'RS256');
      assert.equal(protectedHeader.typ, 'at+jwt');
      assert.equal(payload.aud, API);
      assert.equal(payload.client_id, 'angularjs-spa');
      for (const claim of ['sub', 'exp', 'iat', 'jti', 'scope']) assert.ok(claim in payload, claim);
      const apiScopes = String(payload.scope)
        .split(' ')
        .filter((s) => s.endsWith(':messages'));
      assert.deepEqual(apiScopes, [...expected]);
      assert.deepEqual(payload.permissions, [...expected]);
      const userinfo = await fetch(`${server.issuer}userinfo`, {
        headers: { authorization: `Bearer ${tokens.access_token}` },
      });
      assert.equal(userinfo.status, 200);
      const claims = (await userinfo.json()) as { sub: string; email: string };
      assert.equal(claims.sub, payload.sub);
      assert.equal(claims.email, USERS[name].email);
    });
  }

  it('drops scopes the API does not define', async () => {
    const client = new OAuthTestClient(server.issuer);
    const { tokens } = await client.signIn({
      ...USERS.alice,
      scope: 'openid read:messages delete:everything admin',
    });
    const { payload } = await verify(tokens.access_token!);
    assert.equal(payload.scope, 'openid read:messages');
  });

  it('issues an opaque token good at /userinfo when no audience is given (Auth0 behaviour)', async () => {
    const client = new OAuthTestClient(server.issuer);
    const { tokens } = await client.signIn({ ...USERS.bob, audience: '', scope: 'openid profile email' });
    assert.ok(tokens.access_token);
    assert.equal(tokens.access_token.split('.').length, 1, 'not a JWT');
    const res = await fetch(`${server.issuer}userinfo`, {
      headers: { authorization: `Bearer ${tokens.access_token}` },
    });
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as { email: string }).email, 'bob@example.com');
  });

  it('accepts the RFC 8707 resource parameter as well as audience', async () => {
    const client = new OAuthTestClient(server.issuer);
    const { verifier, challenge } = (await import('@calling-api/testkit/oauth-client')).pkcePair();
    let res = await client.follow(
      client.authorizeUrl({
        client_id: 'angularjs-spa',
        response_type: 'code',
        redirect_uri: 'http://localhost:3000/callback',
        scope: 'openid read:messages',
        resource: API,
        code_challenge: challenge,
        code_challenge_method: 'S256',
      }),
    );
    res = await client.login(res, USERS.alice.email, USERS.alice.password);
    const code = new URL(res.url).searchParams.get('code')!;
    const { body } = await client.token({
      grant_type: 'authorization_code',
      client_id: 'angularjs-spa',
      code,
      redirect_uri: 'http://localhost:3000/callback',
      code_verifier: verifier,
    });
    const { payload } = await verify(body.access_token!);
    assert.equal(payload.scope, 'openid read:messages');
  });
});

describe('/userinfo with a JWT access token', () => {
  it('answers the CORS preflight of the SPA origin only', async () => {
    const preflight = (origin: string) =>
      fetch(`${server.issuer}userinfo`, {
        method: 'OPTIONS',
        headers: {
          origin,
          'access-control-request-method': 'GET',
          'access-control-request-headers': 'authorization',
        },
      });
    const ok = await preflight('http://localhost:3000');
    assert.equal(ok.status, 204);
    assert.equal(ok.headers.get('access-control-allow-origin'), 'http://localhost:3000');
    const other = await preflight('https://evil.example');
    assert.notEqual(other.headers.get('access-control-allow-origin'), 'https://evil.example');
  });

  it('refuses a forged token and one without openid', async () => {
    const call = (token: string) =>
      fetch(`${server.issuer}userinfo`, { headers: { authorization: `Bearer ${token}` } });
    const forged = await call('eyJhbGciOiJub25lIiwidHlwIjoiYXQrand0In0.eyJzdWIiOiJ4In0.c2ln');
    assert.equal(forged.status, 401);
    const m2m = await new OAuthTestClient(server.issuer).token({
      grant_type: 'client_credentials',
      client_id: 'messages-m2m',
      client_secret: 'dev-m2m-secret',
      audience: API,
    });
    assert.equal((await call(m2m.body.access_token!)).status, 403);
  });
});

describe('client_credentials for messages-m2m', () => {
  const m2m = (extra: Record<string, string> = {}) =>
    new OAuthTestClient(server.issuer).token({
      grant_type: 'client_credentials',
      client_id: 'messages-m2m',
      client_secret: 'dev-m2m-secret',
      audience: API,
      ...extra,
    });

  it('issues a token with every granted scope when none is asked for', async () => {
    const { status, body, headers } = await m2m();
    assert.equal(status, 200);
    assert.match(headers.get('cache-control') ?? '', /no-store/);
    assert.match(headers.get('content-security-policy') ?? '', /default-src 'none'/);
    assert.equal(headers.get('x-content-type-options'), 'nosniff');
    const { payload } = await verify(body.access_token!);
    assert.equal(payload.sub, 'messages-m2m');
    assert.equal(payload.scope, 'read:messages write:messages');
    assert.deepEqual(payload.permissions, ['read:messages', 'write:messages']);
    assert.equal(payload.gty, 'client-credentials');
  });

  it('narrows to the requested scope and drops unknown ones', async () => {
    const { body } = await m2m({ scope: 'read:messages delete:everything' });
    assert.equal(decodeJwt(body.access_token!).payload.scope, 'read:messages');
  });

  it('refuses a wrong secret with invalid_client', async () => {
    const { status, body } = await m2m({ client_secret: 'wrong' });
    assert.equal(status, 401);
    assert.equal(body.error, 'invalid_client');
  });

  it('refuses an unknown audience with invalid_target', async () => {
    const { status, body } = await m2m({ audience: 'https://unknown.example/api' });
    assert.equal(status, 400);
    assert.equal(body.error, 'invalid_target');
  });
});

describe('bad input of any kind', () => {
  it('never gets a 5xx or a stack trace', async () => {
    const form = { 'content-type': 'application/x-www-form-urlencoded' };
    const cases: [string, RequestInit][] = [
      ['/authorize', {}],
      ['/authorize?client_id=angularjs-spa&response_type=code&redirect_uri=%zz', {}],
      ['/oauth/token', { method: 'POST', headers: form, body: '' }],
      [
        '/oauth/token',
        {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: '{"grant_type":"client_credentials"',
        },
      ],
      [
        '/oauth/token',
        {
          method: 'POST',
          headers: form,
          body: 'grant_type=refresh_token&client_id=angularjs-spa&refresh_token=x',
        },
      ],
      [
        '/oauth/token',
        {
          method: 'POST',
          headers: form,
          body: 'grant_type=authorization_code&client_id=angularjs-spa&code=x&code_verifier=y',
        },
      ],
      ['/userinfo', { headers: { authorization: 'Bearer a.b.c' } }],
      ['/userinfo', { headers: { authorization: 'Basic Zm9vOmJhcg==' } }],
      ['/interaction/garbage', {}],
      ['/interaction/garbage/login', { method: 'POST', headers: form, body: 'email=a&password=b&_csrf=c' }],
      ['/v2/logout?client_id=no-such-client&returnTo=http%3A%2F%2Flocalhost%3A3000%2F', {}],
      ['/oidc/logout?post_logout_redirect_uri=http%3A%2F%2Flocalhost%3A3000%2F', {}],
      ['/assets/../src/main.ts', {}],
      ['/no/such/route', {}],
    ];
    for (const [path, init] of cases) {
      const res = await fetch(`${server.issuer}${path}`, { ...init, redirect: 'manual' });
      assert.ok(res.status < 500, `${init.method ?? 'GET'} ${path} answered ${res.status}`);
      if (res.status < 300) assert.ok(path.startsWith('/oidc/logout'), `${path} should not succeed`);
      assert.doesNotMatch(await res.text(), /at .*\.(ts|js):\d+/, 'no stack trace');
    }
  });
});
