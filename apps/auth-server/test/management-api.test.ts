// The Management API over real HTTP against the spawned server: who may call it (tokens, audiences, scopes,
// the console's role), what it refuses and how (Auth0's error body, never a 5xx), secrets shown once, blocked
// users, and changes that apply to the next token without a restart.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  AUTH_SERVER_DIR,
  type AuthServerProcess,
  removeDir,
  startAuthServer,
} from '@calling-api/testkit/auth-server';
import { dpopProver } from '@calling-api/testkit/dpop-prover';
import { decodeJwt, OAuthTestClient } from '@calling-api/testkit/oauth-client';
import { MANAGEMENT_SCOPES } from '../src/management/system-api.ts';

const MESSAGES_API = 'http://localhost:3001/api';
const CONSOLE = { clientId: 'tenant-console', redirectUri: 'http://localhost:4001/callback' };
const ADMIN = { email: 'admin@example.com', password: 'Admin-password-1' };
const CAROL = { email: 'carol@example.com', password: 'Carol-password-1' };
const ALL_SCOPES = MANAGEMENT_SCOPES.map((s) => s.value).join(' ');

// biome-ignore lint/suspicious/noExplicitAny: answers of many shapes, read member by member as a client would
type Answer = { status: number; headers: Headers; body: any };

let server: AuthServerProcess;
let mgmt: string;
let admin: string;

before(async () => {
  server = await startAuthServer({ env: { LOG_LEVEL: 'warn' } });
  mgmt = `${server.issuer}api/v2/`;
  admin = (await consoleSignIn(ADMIN)).access_token!;
});
after(async () => {
  await server.stop();
  removeDir(server.dataDir);
});

/** A user signing in to the console: code + PKCE for the Management API, every scope asked for. */
async function consoleSignIn(
  user: { email: string; password: string },
  tokenHeaders?: Record<string, string>,
) {
  const { status, tokens } = await new OAuthTestClient(server.issuer).signIn({
    ...user,
    ...CONSOLE,
    audience: mgmt,
    scope: `openid profile email offline_access ${ALL_SCOPES}`,
    ...(tokenHeaders ? { tokenHeaders } : {}),
  });
  assert.equal(status, 200, JSON.stringify(tokens));
  return tokens;
}

async function call(
  method: string,
  path: string,
  options: { token?: string | undefined; body?: unknown; headers?: Record<string, string> } = {},
): Promise<Answer> {
  const headers: Record<string, string> = { ...options.headers };
  const token = 'token' in options ? options.token : admin;
  if (token) headers.authorization = `Bearer ${token}`;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(new URL(path, mgmt), {
    method,
    headers,
    ...(options.body === undefined
      ? {}
      : { body: typeof options.body === 'string' ? options.body : JSON.stringify(options.body) }),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
}

/** Auth0's error body, exactly these four members. */
function assertAuth0Error(answer: Answer, status: number, errorCode: string, message?: RegExp) {
  assert.equal(answer.status, status, JSON.stringify(answer.body));
  assert.deepEqual(Object.keys(answer.body).sort(), ['error', 'errorCode', 'message', 'statusCode']);
  assert.equal(answer.body.statusCode, status);
  assert.equal(answer.body.errorCode, errorCode);
  if (message) assert.match(answer.body.message, message);
}

function cli(...args: string[]) {
  const run = spawnSync(process.execPath, [join(AUTH_SERVER_DIR, 'src/cli/main.ts'), ...args], {
    cwd: AUTH_SERVER_DIR,
    env: {
      PATH: process.env.PATH,
      DATA_DIR: server.dataDir,
      ISSUER: server.issuer,
      PORT: String(server.port),
    },
    encoding: 'utf8',
  });
  assert.equal(run.status, 0, run.stderr);
  return run.stdout;
}

async function clientCredentials(clientId: string, secret: string, audience = mgmt) {
  return new OAuthTestClient(server.issuer).token({
    grant_type: 'client_credentials',
    client_id: clientId,
    client_secret: secret,
    audience,
  });
}

describe('who may call it', () => {
  it("refuses a request without a token: 401, a Bearer challenge and Auth0's body", async () => {
    const answer = await call('GET', 'resource-servers', { token: undefined });
    assertAuth0Error(answer, 401, 'missing_authentication', /^Missing authentication$/);
    assert.match(
      answer.headers.get('www-authenticate')!,
      /^Bearer realm="management", DPoP realm="management"/,
    );
    assert.equal(answer.body.error, 'Unauthorized');
  });

  it('refuses a token for another audience (the Messages API) and a forged one', async () => {
    const { tokens } = await new OAuthTestClient(server.issuer).signIn(ADMIN);
    assert.equal(decodeJwt(tokens.access_token!).payload.aud, MESSAGES_API);
    assertAuth0Error(await call('GET', 'users', { token: tokens.access_token }), 401, 'invalid_token');
    const [h, p] = admin.split('.');
    const forged = `${h}.${p}.${Buffer.from('not the signature').toString('base64url')}`;
    assertAuth0Error(await call('GET', 'users', { token: forged }), 401, 'invalid_token');
  });

  it('gives the admin (tenant-admin) every Management scope through the console, and carol (no role) none', async () => {
    const token = decodeJwt(admin).payload;
    assert.equal(token.aud, mgmt);
    assert.deepEqual([...(token.permissions as string[])].sort(), ALL_SCOPES.split(' ').sort());
    const carol = (await consoleSignIn(CAROL)).access_token!;
    assert.deepEqual(decodeJwt(carol).payload.permissions, []);
    const refused = await call('GET', 'resource-servers', { token: carol });
    assertAuth0Error(refused, 403, 'insufficient_scope', /expected any of: read:resource_servers/);
    assert.match(refused.headers.get('www-authenticate')!, /error="insufficient_scope"/);
  });

  it("refuses Management tokens to users of any other application (the SPA's page could ask for them)", async () => {
    const client = new OAuthTestClient(server.issuer);
    await assert.rejects(
      client.signIn({ ...ADMIN, audience: mgmt, scope: `openid ${ALL_SCOPES}` }),
      /error=invalid_target/,
    );
  });

  it('refuses a machine client the scopes its grant lacks (403), and lets it use those it has', async () => {
    cli('create-app', '--type', 'm2m', '--client-id', 'reader-bot', '--name', 'Reader bot');
    const secret = /shown once\): (\S+)/.exec(
      cli('create-app', '--type', 'm2m', '--client-id', 'reader-bot-2', '--name', 'Reader bot 2'),
    )![1]!;
    cli(
      'add-client-grant',
      '--client-id',
      'reader-bot-2',
      '--api',
      '##ISSUER##api/v2/',
      '--scope',
      'read:users',
    );
    const { body } = await clientCredentials('reader-bot-2', secret);
    assert.equal(decodeJwt(body.access_token!).payload.scope, 'read:users');
    assert.equal((await call('GET', 'users', { token: body.access_token })).status, 200);
    assertAuth0Error(
      await call('POST', 'roles', { token: body.access_token, body: { name: 'intruders' } }),
      403,
      'insufficient_scope',
      /create:roles/,
    );
  });

  it('answers CORS preflights for the console origin only; cookies are never read', async () => {
    const preflight = (origin: string) =>
      fetch(new URL('users', mgmt), {
        method: 'OPTIONS',
        headers: {
          origin,
          'access-control-request-method': 'PATCH',
          'access-control-request-headers': 'authorization,content-type,dpop',
        },
      });
    const console = await preflight('http://localhost:4001');
    assert.equal(console.headers.get('access-control-allow-origin'), 'http://localhost:4001');
    assert.match(console.headers.get('access-control-allow-methods')!, /PATCH/);
    const other = await preflight('http://localhost:3000');
    assert.equal(other.headers.get('access-control-allow-origin'), null, 'not the SPA, not anyone else');
    assert.equal(other.headers.get('access-control-allow-credentials'), null);
  });

  it("takes the console's DPoP-bound token with a proof, and refuses it as a bearer token", async () => {
    const prover = await dpopProver();
    const tokenUrl = `${server.issuer}oauth/token`;
    const tokens = await consoleSignIn(ADMIN, { DPoP: await prover.proof('POST', tokenUrl) });
    assert.equal(tokens.token_type, 'DPoP');
    const url = `${mgmt}roles`;
    const proof = await prover.proof('GET', url, { accessToken: tokens.access_token! });
    const ok = await call('GET', 'roles', {
      token: undefined,
      headers: { authorization: `DPoP ${tokens.access_token}`, dpop: proof },
    });
    assert.equal(ok.status, 200);
    assertAuth0Error(await call('GET', 'roles', { token: tokens.access_token }), 401, 'invalid_token');
  });
});

describe('input', () => {
  it("refuses malformed bodies and queries with 400 and Auth0's error body, never a 5xx", async () => {
    const cases: [string, string, unknown, string][] = [
      ['POST', 'resource-servers', { identifier: 'https://x.example', name: 42 }, 'invalid_body'],
      ['POST', 'resource-servers', { identifier: 'https://x.example', signing_alg: 'HS256' }, 'invalid_body'],
      ['POST', 'resource-servers', { identifier: 'https://x.example', colour: 'red' }, 'invalid_body'],
      [
        'POST',
        'resource-servers',
        { identifier: 'https://x.example', scopes: [{ value: 'a b' }] },
        'invalid_body',
      ],
      ['POST', 'resource-servers', '{"identifier": ', 'invalid_body'],
      ['POST', 'resource-servers', '[]', 'invalid_body'],
      ['POST', 'clients', { name: 'x', app_type: 'spa', callbacks: ['javascript:alert(1)'] }, 'invalid_body'],
      ['POST', 'clients', { name: 'x', app_type: 'spa', grant_types: ['password'] }, 'invalid_body'],
      [
        'POST',
        'clients',
        { name: 'x', app_type: 'non_interactive', callbacks: ['https://a.example/cb'] },
        'invalid_body',
      ],
      ['POST', 'clients', { app_type: 'spa' }, 'invalid_body'],
      [
        'POST',
        'users',
        { email: 'new@example.com', password: 'short', connection: 'Username-Password-Authentication' },
        'invalid_body',
      ],
      [
        'POST',
        'users',
        {
          email: 'not-an-email',
          password: 'Long-enough-pw-1',
          connection: 'Username-Password-Authentication',
        },
        'invalid_body',
      ],
      [
        'POST',
        'users',
        { email: 'new@example.com', password: 'Long-enough-pw-1', connection: 'google-oauth2' },
        'invalid_body',
      ],
      ['POST', 'roles', { name: 'has spaces' }, 'invalid_body'],
      [
        'POST',
        'client-grants',
        { client_id: 'messages-m2m', audience: MESSAGES_API, scope: [] },
        'invalid_body',
      ],
      ['GET', 'users?per_page=1000', undefined, 'invalid_query_string'],
      ['GET', 'users?page=-1', undefined, 'invalid_query_string'],
      ['GET', 'users?q=name:alice', undefined, 'invalid_query_string'],
      ['GET', 'users?include_totals=yes', undefined, 'invalid_query_string'],
      ['GET', 'roles?unknown=1', undefined, 'invalid_query_string'],
    ];
    for (const [method, path, body, errorCode] of cases) {
      const answer = await call(method, path, { body });
      assertAuth0Error(answer, 400, errorCode);
      assert.equal(answer.body.error, 'Bad Request', `${method} ${path}`);
    }
    // A body that is no JSON object at all, a huge one, a wrong content type: refused, not crashed.
    assert.equal((await call('POST', 'roles', { body: 'x'.repeat(100_000) })).status, 413);
    const form = await fetch(new URL('roles', mgmt), {
      method: 'POST',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'name=viaform',
    });
    assertAuth0Error(
      { status: form.status, headers: form.headers, body: await form.json() },
      400,
      'invalid_body',
    );
    const roles = (await call('GET', 'roles')).body as { id: string; description: string }[];
    const patch = await fetch(new URL(`roles/${roles[0]!.id}`, mgmt), {
      method: 'PATCH',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'text/plain' },
      body: '{"description":"changed as text"}',
    });
    assert.equal(patch.status, 400, 'a body that is not JSON is refused, not read as an empty change');
    assert.equal((await call('GET', `roles/${roles[0]!.id}`)).body.description, roles[0]!.description);
  });

  it('answers every odd body on every writing endpoint with a 4xx, never a 5xx', async () => {
    const roles = (await call('GET', 'roles')).body as { id: string }[];
    const alice = (await call('GET', `users-by-email?email=alice%40example.com`)).body[0].user_id;
    const rs = (await call('GET', 'resource-servers')).body.find(
      (r: { is_system: boolean }) => !r.is_system,
    ).id;
    const grant = (await call('GET', 'client-grants')).body[0].id;
    const endpoints = [
      ['POST', 'resource-servers'],
      ['PATCH', `resource-servers/${rs}`],
      ['POST', 'clients'],
      ['PATCH', 'clients/angularjs-spa'],
      ['POST', 'client-grants'],
      ['PATCH', `client-grants/${grant}`],
      ['POST', 'users'],
      ['PATCH', `users/${encodeURIComponent(alice)}`],
      ['POST', `users/${encodeURIComponent(alice)}/roles`],
      ['DELETE', `users/${encodeURIComponent(alice)}/roles`],
      ['POST', 'roles'],
      ['PATCH', `roles/${roles[0]!.id}`],
      ['POST', `roles/${roles[0]!.id}/permissions`],
      ['DELETE', `roles/${roles[0]!.id}/permissions`],
      ['POST', `roles/${roles[0]!.id}/users`],
    ];
    const odd = [
      'null',
      '1',
      '"text"',
      '[]',
      '{"__proto__": {"admin": true}}',
      '{"name": {"$gt": ""}}',
      JSON.stringify({ name: 'x'.repeat(5000), identifier: '\u0000', scopes: 'read:all' }),
      JSON.stringify({ permissions: [{ resource_server_identifier: 1 }], roles: [null], users: [{}] }),
      JSON.stringify({
        app_type: 'spa',
        callbacks: 'https://a.example',
        grant_types: [1],
        refresh_token: [],
      }),
      JSON.stringify({ email: 'a@b.c', password: 12, blocked: 'yes', scope: [true] }),
      `{"a":${'['.repeat(500)}${']'.repeat(500)}}`,
    ];
    for (const [method, path] of endpoints) {
      for (const body of odd) {
        const answer = await call(method!, path!, { body });
        assert.ok(
          answer.status >= 400 && answer.status < 500,
          `${method} ${path} ${body.slice(0, 60)}: ${answer.status}`,
        );
        assert.equal(typeof answer.body.message, 'string');
      }
    }
  });

  it('answers 404 for what does not exist and 409 for what already does', async () => {
    assertAuth0Error(await call('GET', 'users/auth0%7Cnobody'), 404, 'inexistent_user');
    assertAuth0Error(await call('GET', 'roles/rol_nope'), 404, 'inexistent_role');
    assertAuth0Error(await call('GET', 'clients/no-such-client'), 404, 'inexistent_client');
    assertAuth0Error(
      await call('PATCH', 'resource-servers/nope', { body: { name: 'x' } }),
      404,
      'inexistent_resource_server',
    );
    assertAuth0Error(await call('GET', 'no-such-endpoint'), 404, 'not_found');
    const exists = await call('POST', 'resource-servers', { body: { identifier: MESSAGES_API } });
    assertAuth0Error(exists, 409, 'conflict');
    const user = await call('POST', 'users', {
      body: {
        email: 'ALICE@example.com',
        password: 'Another-password-1',
        connection: 'Username-Password-Authentication',
      },
    });
    assertAuth0Error(user, 409, 'auth0_idp_error', /already exists/);
  });

  it('refuses to change or delete the Management API itself', async () => {
    const { body } = await call('GET', `resource-servers/${encodeURIComponent(mgmt)}`);
    assert.equal(body.is_system, true);
    assertAuth0Error(await call('DELETE', `resource-servers/${body.id}`), 400, 'operation_not_supported');
    assertAuth0Error(
      await call('PATCH', `resource-servers/${body.id}`, { body: { enforce_policies: false } }),
      400,
      'operation_not_supported',
    );
  });
});

describe('client secrets', () => {
  it('are answered at creation and rotation only, never by a read, and rotation retires the old one', async () => {
    const created = await call('POST', 'clients', {
      body: { name: 'Billing job', app_type: 'non_interactive' },
    });
    assert.equal(created.status, 201);
    const { client_id: id, client_secret: first } = created.body;
    assert.equal(typeof first, 'string');
    assert.ok(first.length >= 64);
    const grant = await call('POST', 'client-grants', {
      body: { client_id: id, audience: MESSAGES_API, scope: ['read:messages'] },
    });
    assert.equal(grant.status, 201);
    assert.equal((await clientCredentials(id, first, MESSAGES_API)).status, 200);

    const one = await call('GET', `clients/${id}`);
    const all = await call('GET', 'clients?include_totals=true');
    for (const client of [one.body, ...all.body.clients]) {
      assert.equal('client_secret' in client, false, `${client.client_id} shows no secret`);
      assert.ok(!JSON.stringify(client).includes(first));
    }
    assert.ok(all.body.clients.some((c: { client_id: string }) => c.client_id === 'messages-m2m'));

    const rotated = await call('POST', `clients/${id}/rotate-secret`);
    assert.equal(rotated.status, 200);
    assert.notEqual(rotated.body.client_secret, first);
    assert.equal((await clientCredentials(id, first, MESSAGES_API)).status, 401, 'the old secret is refused');
    assert.equal((await clientCredentials(id, rotated.body.client_secret, MESSAGES_API)).status, 200);
    assert.ok(!server.output().includes(rotated.body.client_secret), 'never logged');

    assertAuth0Error(
      await call('POST', 'clients/messages-m2m/rotate-secret'),
      400,
      'operation_not_supported',
    );
    assertAuth0Error(
      await call('POST', 'clients/angularjs-spa/rotate-secret'),
      400,
      'operation_not_supported',
    );
  });
});

describe('changes apply to the next token, without a restart', () => {
  it('an API, a role, a user and its assignment; then a permission removed, and the user blocked', async () => {
    const api = 'https://inventory.example.com';
    const created = await call('POST', 'resource-servers', {
      body: {
        name: 'Inventory',
        identifier: api,
        signing_alg: 'RS256',
        scopes: [{ value: 'read:stock', description: 'Read stock' }],
        enforce_policies: true,
        token_dialect: 'rfc9068_profile_authz',
        allow_offline_access: true,
      },
    });
    assert.equal(created.status, 201);
    const added = await call('PATCH', `resource-servers/${created.body.id}`, {
      body: { scopes: [...created.body.scopes, { value: 'write:stock', description: 'Change stock' }] },
    });
    assert.deepEqual(
      added.body.scopes.map((s: { value: string }) => s.value),
      ['read:stock', 'write:stock'],
    );

    const role = (await call('POST', 'roles', { body: { name: 'stock-keeper', description: 'Keeps stock' } }))
      .body;
    assert.match(role.id, /^rol_/);
    const perms = [
      { resource_server_identifier: api, permission_name: 'read:stock' },
      { resource_server_identifier: api, permission_name: 'write:stock' },
    ];
    assert.equal(
      (await call('POST', `roles/${role.id}/permissions`, { body: { permissions: perms } })).status,
      201,
    );
    const user = await call('POST', 'users', {
      body: {
        email: 'erin@example.com',
        password: 'Stock-keeper-pw-1',
        name: 'Erin',
        connection: 'Username-Password-Authentication',
      },
    });
    assert.equal(user.status, 201);
    const uid = encodeURIComponent(user.body.user_id);
    assert.equal((await call('POST', `users/${uid}/roles`, { body: { roles: [role.id] } })).status, 204);
    const permissions = await call('GET', `users/${uid}/permissions`);
    assert.deepEqual(
      permissions.body.map((p: { permission_name: string }) => p.permission_name),
      ['read:stock', 'write:stock'],
    );
    assert.equal(permissions.body[0].sources[0].source_name, 'stock-keeper');
    const members = await call('GET', `roles/${role.id}/users?include_totals=true`);
    assert.deepEqual(
      members.body.users.map((u: { email: string }) => u.email),
      ['erin@example.com'],
    );

    const erin = { email: 'erin@example.com', password: 'Stock-keeper-pw-1' };
    const signIn = () =>
      new OAuthTestClient(server.issuer).signIn({
        ...erin,
        audience: api,
        scope: 'openid offline_access read:stock write:stock',
      });
    const first = await signIn();
    assert.deepEqual(decodeJwt(first.tokens.access_token!).payload.permissions, [
      'read:stock',
      'write:stock',
    ]);

    await call('DELETE', `roles/${role.id}/permissions`, { body: { permissions: [perms[1]] } });
    const refreshed = await new OAuthTestClient(server.issuer).token({
      grant_type: 'refresh_token',
      client_id: 'angularjs-spa',
      refresh_token: first.tokens.refresh_token!,
    });
    assert.equal(refreshed.status, 200);
    assert.deepEqual(decodeJwt(refreshed.body.access_token!).payload.permissions, ['read:stock']);

    // Blocked: the sign-in form says so, and the refresh token stops working.
    const blocked = await call('PATCH', `users/${uid}`, { body: { blocked: true } });
    assert.equal(blocked.body.blocked, true);
    const browser = new OAuthTestClient(server.issuer);
    const form = await browser.follow(
      browser.authorizeUrl({
        client_id: 'angularjs-spa',
        response_type: 'code',
        redirect_uri: 'http://localhost:3000/callback',
        scope: 'openid',
        code_challenge: 'x'.repeat(43),
        code_challenge_method: 'S256',
      }),
    );
    const page = await browser.login(form, erin.email, erin.password);
    assert.equal(page.status, 401);
    assert.match(page.body, /This account is blocked/);
    const refused = await new OAuthTestClient(server.issuer).token({
      grant_type: 'refresh_token',
      client_id: 'angularjs-spa',
      refresh_token: refreshed.body.refresh_token!,
    });
    assert.equal(refused.status, 400);
    assert.equal(refused.body.error, 'invalid_grant');
    await call('PATCH', `users/${uid}`, { body: { blocked: false } });
    assert.equal((await signIn()).status, 200, 'unblocked, erin signs in again');

    // The search the console uses, and paging.
    const found = await call(
      'GET',
      `users?q=${encodeURIComponent('email:"ERIN@example.com"')}&include_totals=true`,
    );
    assert.deepEqual([found.body.total, found.body.users[0].user_id], [1, user.body.user_id]);
    const prefix = await call('GET', `users?q=${encodeURIComponent('email:er*')}`);
    assert.deepEqual(
      prefix.body.map((u: { email: string }) => u.email),
      ['erin@example.com'],
    );
    const paged = await call('GET', 'users?per_page=2&page=1&include_totals=true');
    assert.deepEqual([paged.body.start, paged.body.limit, paged.body.length], [2, 2, 2]);
    assert.ok(paged.body.total >= 5);
    const byEmail = await call('GET', `users-by-email?email=${encodeURIComponent('erin@example.com')}`);
    assert.equal(byEmail.body[0].user_id, user.body.user_id);

    // Deleted, the API takes its role permissions with it.
    assert.equal((await call('DELETE', `resource-servers/${created.body.id}`)).status, 204);
    assert.deepEqual((await call('GET', `roles/${role.id}/permissions`)).body, []);
  });

  it('keeps accepting tokens after the signing key rotates', async () => {
    cli('rotate-keys');
    cli('rotate-keys', '--activate');
    const before = decodeJwt(admin).header.kid;
    let kid = before;
    let token = '';
    for (let i = 0; i < 50 && kid === before; i++) {
      await new Promise((r) => setTimeout(r, 200));
      token = (await consoleSignIn(ADMIN)).access_token!;
      kid = decodeJwt(token).header.kid;
    }
    assert.notEqual(kid, before, 'the server signs with the new key');
    assert.equal((await call('GET', 'roles', { token })).status, 200);
    assert.equal(
      (await call('GET', 'roles', { token: admin })).status,
      200,
      'the old key is still published',
    );
  });
});
