// Start-up configuration and the tenant file: clear refusals, and a tenant moved to other ports and lifetimes.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  AUTH_SERVER_DIR,
  type AuthServerProcess,
  removeDir,
  startAuthServer,
  tempDir,
} from '@calling-api/testkit/auth-server';
import { decodeJwt, OAuthTestClient } from '@calling-api/testkit/oauth-client';
import { loadConfig } from '../src/config/config.ts';
import { parseTenant } from '../src/tenant/tenant-schema.ts';

const defaultTenant = () => JSON.parse(readFileSync(join(AUTH_SERVER_DIR, 'tenant.json'), 'utf8'));
const dirs: string[] = [];
const servers: AuthServerProcess[] = [];
after(async () => {
  for (const s of servers) await s.stop();
  for (const d of dirs) removeDir(d);
});

function startFails(env: Record<string, string>) {
  const dir = tempDir();
  dirs.push(dir);
  const run = spawnSync(process.execPath, [join(AUTH_SERVER_DIR, 'src/main.ts')], {
    cwd: AUTH_SERVER_DIR,
    env: { PATH: process.env.PATH, PORT: '0', ISSUER: 'http://localhost:4999', DATA_DIR: dir, ...env },
    encoding: 'utf8',
    timeout: 20_000,
  });
  assert.equal(run.status, 1, run.stdout + run.stderr);
  return run.stderr;
}

describe('configuration', () => {
  it('has the contract defaults', () => {
    const c = loadConfig({});
    assert.equal(c.port, 4000);
    assert.equal(c.issuer, 'http://localhost:4000/');
    assert.equal(c.dataDir, join(AUTH_SERVER_DIR, '.data'));
    assert.equal(c.tenantFile, join(AUTH_SERVER_DIR, 'tenant.json'));
    assert.equal(c.secrets.M2M_CLIENT_SECRET, 'dev-m2m-secret');
    assert.equal(loadConfig({ PORT: '4100' }).issuer, 'http://localhost:4100/');
    assert.equal(
      loadConfig({ ISSUER: 'http://localhost:4000' }).issuer,
      'http://localhost:4000',
      'kept as given',
    );
  });

  it('refuses an issuer with a path, query or fragment and a bad port, naming the variable', () => {
    for (const issuer of [
      'http://localhost:4000/tenant',
      'http://localhost:4000/?x=1',
      'http://localhost:4000/#a',
    ]) {
      assert.throws(() => loadConfig({ ISSUER: issuer }), /ISSUER: must be scheme:\/\/host\[:port\]/, issuer);
    }
    assert.throws(() => loadConfig({ PORT: 'eighty' }), /PORT/);
    assert.throws(() => loadConfig({ PORT: '0' }), /ISSUER: required when PORT=0/);
  });

  it('refuses development defaults with NODE_ENV=production', () => {
    assert.throws(() => loadConfig({ NODE_ENV: 'production' }), /M2M_CLIENT_SECRET must be set/);
    assert.throws(
      () =>
        loadConfig({
          NODE_ENV: 'production',
          M2M_CLIENT_SECRET: 'x'.repeat(40),
          ISSUER: 'http://auth.example.com',
        }),
      /ISSUER must use https/,
    );
    const ok = loadConfig({
      NODE_ENV: 'production',
      M2M_CLIENT_SECRET: 'x'.repeat(40),
      ISSUER: 'https://auth.example.com',
      TRUST_PROXY: 'true',
    });
    assert.equal(ok.production, true);
    assert.equal(ok.trustProxy, true);
  });

  it('refuses, in production, the transports that would quietly weaken cookies or throttles', () => {
    const prod = {
      NODE_ENV: 'production',
      M2M_CLIENT_SECRET: 'x'.repeat(40),
      ISSUER: 'https://auth.example.com',
    };
    const tls = { TLS_CERT_FILE: 'cert.pem', TLS_KEY_FILE: 'key.pem' };
    const refusals: [Record<string, string>, RegExp][] = [
      [
        {},
        /TRUST_PROXY must be set with an https ISSUER: true behind a TLS-terminating proxy, or false with/,
      ],
      [tls, /TRUST_PROXY must be set: false, since this server terminates TLS itself/],
      [
        { TRUST_PROXY: 'false' },
        /TRUST_PROXY=false with an https ISSUER needs TLS_CERT_FILE and TLS_KEY_FILE/,
      ],
      [
        { TRUST_PROXY: '1', ...tls },
        /TRUST_PROXY=true with TLS_CERT_FILE: clients reach this server directly/,
      ],
    ];
    for (const [env, message] of refusals) {
      let error = '';
      try {
        loadConfig({ ...prod, ...env });
      } catch (err) {
        error = (err as Error).message;
      }
      assert.match(error, message, JSON.stringify(env));
      assert.match(error, /^refusing to start with NODE_ENV=production: [^\n]+$/, 'one line');
    }
    assert.equal(loadConfig({ ...prod, TRUST_PROXY: 'true' }).trustProxy, true, 'behind a proxy');
    assert.equal(loadConfig({ ...prod, TRUST_PROXY: 'false', ...tls }).trustProxy, false, 'direct TLS');
    assert.equal(
      loadConfig({ ...prod, ISSUER: 'http://localhost:4000/' }).trustProxy,
      false,
      'loopback http',
    );
    assert.equal(
      loadConfig({ ISSUER: 'https://auth.example.com' }).trustProxy,
      false,
      'development: no refusal',
    );
  });

  it('keeps the data in SQLite by default and in PostgreSQL with DATABASE_URL, never echoing the URL', () => {
    assert.equal(loadConfig({}).storage.kind, 'sqlite');
    const pg = loadConfig({ DATABASE_URL: 'postgres://auth:s3cret-pw@127.0.0.1:5432/auth' }).storage;
    assert.deepEqual(pg, {
      kind: 'postgres',
      url: 'postgres://auth:s3cret-pw@127.0.0.1:5432/auth',
      poolSize: 10,
    });
    for (const bad of ['mysql://auth:s3cret-pw@db/auth', 'postgres://auth:s3cret-pw@[db', 's3cret-pw']) {
      const err = (() => {
        try {
          loadConfig({ DATABASE_URL: bad });
        } catch (e) {
          return e as Error;
        }
      })();
      assert.match(String(err?.message), /DATABASE_URL: must be a postgres:\/\/ or postgresql:\/\/ URL/, bad);
      assert.doesNotMatch(String(err?.message), /s3cret-pw/);
    }
    const production = {
      NODE_ENV: 'production',
      M2M_CLIENT_SECRET: 'x'.repeat(40),
      ISSUER: 'https://auth.example.com',
      TRUST_PROXY: 'true',
    };
    assert.throws(
      () => loadConfig({ ...production, DATABASE_URL: 'postgres://auth:pw@db.internal/auth' }),
      /DATABASE_URL must name a loopback host or ask for TLS/,
    );
    for (const fine of [
      'postgres://auth:pw@db.internal/auth?sslmode=verify-full',
      'postgres://auth:pw@127.0.0.1/auth',
    ])
      assert.equal(loadConfig({ ...production, DATABASE_URL: fine }).storage.kind, 'postgres');
  });

  it('does not start in production with the demo passwords of the default tenant', () => {
    const stderr = startFails({ NODE_ENV: 'production', M2M_CLIENT_SECRET: 'x'.repeat(40) });
    assert.match(
      stderr,
      /refusing plain passwords in the tenant file with NODE_ENV=production: users\.0\.password/,
    );
  });

  it('refuses the demo administrator in production, even from a DATA_DIR made in development', () => {
    const dir = tempDir();
    dirs.push(dir);
    const admin = defaultTenant().users.find((u: { email: string }) => u.email === 'admin@example.com');
    const seeding = join(dir, 'seed.json');
    writeFileSync(seeding, JSON.stringify({ users: [{ ...admin, roles: [] }] }));
    const empty = join(dir, 'empty.json');
    writeFileSync(empty, '{}');
    const env = { PATH: process.env.PATH, DATA_DIR: join(dir, 'data'), ISSUER: 'http://localhost:4999' };
    const seeded = spawnSync(process.execPath, [join(AUTH_SERVER_DIR, 'src/cli/main.ts'), 'list', 'users'], {
      cwd: AUTH_SERVER_DIR,
      env: { ...env, TENANT_FILE: seeding },
      encoding: 'utf8',
    });
    assert.match(seeded.stdout, /admin@example\.com/);
    const run = spawnSync(process.execPath, [join(AUTH_SERVER_DIR, 'src/main.ts')], {
      cwd: AUTH_SERVER_DIR,
      env: {
        ...env,
        PORT: '0',
        NODE_ENV: 'production',
        M2M_CLIENT_SECRET: 'x'.repeat(40),
        TENANT_FILE: empty,
      },
      encoding: 'utf8',
      timeout: 20_000,
    });
    assert.equal(run.status, 1);
    assert.match(run.stderr, /refusing the demo user admin@example\.com with its demo password/);
  });
});

describe('the tenant file', () => {
  it('is accepted as shipped', () => {
    const t = parseTenant(defaultTenant());
    assert.deepEqual(
      t.apis.map((a) => [a.name, a.identifier, a.signingAlg, a.rbac, a.permissionsInToken]),
      [['Messages API', 'http://localhost:3001/api', 'RS256', true, true]],
    );
  });

  it('names the Management API by its alias, checks its scopes, and lets only listed applications be its console', () => {
    const t = defaultTenant();
    const admin = t.roles.find((r: { name: string }) => r.name === 'tenant-admin');
    assert.ok(admin.permissions.every((p: { audience: string }) => p.audience === '##ISSUER##api/v2/'));
    admin.permissions[0].scope = 'read:everything';
    t.managementApi.userClients.push('messages-m2m');
    let message = '';
    try {
      parseTenant(t);
    } catch (err) {
      message = (err as Error).message;
    }
    assert.match(
      message,
      /roles\.2\.permissions\.0\.scope: API ##ISSUER##api\/v2\/ has no scope read:everything/,
    );
    assert.match(message, /managementApi\.userClients\.1: no spa or regular_web application messages-m2m/);
  });

  it('names the path of a bad field', () => {
    const t = defaultTenant();
    t.applications[0].callbackUrls[0] = 'not a url';
    t.roles[1].permissions[0].scope = 'delete:messages';
    t.apis[0].accessTokenLifetime = 5;
    let message = '';
    try {
      parseTenant(t, 'my-tenant.json');
    } catch (err) {
      message = (err as Error).message;
    }
    assert.match(message, /invalid tenant file my-tenant.json/);
    assert.match(message, /applications\.0\.callbackUrls\.0: must be an absolute URL/);
    assert.match(message, /apis\.0\.accessTokenLifetime:/);
    assert.match(
      message,
      /roles\.1\.permissions\.0\.scope: API http:\/\/localhost:3001\/api has no scope delete:messages/,
    );
  });

  it('lets a client secret come only from a variable named for it, never PATH or HOME', () => {
    const t = defaultTenant();
    t.applications[1].clientSecret = { env: 'HOME' };
    assert.throws(
      () => parseTenant(t),
      /applications\.1\.clientSecret\.env: an environment variable whose name ends in _CLIENT_SECRET/,
    );
    const c = loadConfig({ HOME: '/root', DATABASE_PASSWORD: 'p', BILLING_CLIENT_SECRET: 's' });
    assert.deepEqual(Object.keys(c.secrets).sort(), ['BILLING_CLIENT_SECRET', 'M2M_CLIENT_SECRET']);
  });

  it('stops the server with that message at start', () => {
    const dir = tempDir();
    dirs.push(dir);
    const t = defaultTenant();
    t.users[0].roles = ['admin'];
    writeFileSync(join(dir, 'tenant.json'), JSON.stringify(t));
    assert.match(startFails({ TENANT_FILE: join(dir, 'tenant.json') }), /users\.0\.roles\.0: no role admin/);
  });

  it('moves to other ports and short lifetimes as data (what the e2e helper does)', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const t = defaultTenant();
    const spa = t.applications.find((a: { clientId: string }) => a.clientId === 'angularjs-spa');
    spa.callbackUrls = ['http://localhost:13000/callback'];
    spa.logoutUrls = ['http://localhost:13000/'];
    spa.webOrigins = ['http://localhost:13000'];
    t.apis[0].accessTokenLifetime = 10;
    t.signup.enabled = false;
    writeFileSync(join(dir, 'tenant.json'), JSON.stringify(t));
    const server = await startAuthServer({
      dataDir: join(dir, 'data'),
      env: { TENANT_FILE: join(dir, 'tenant.json') },
    });
    servers.push(server);
    const client = new OAuthTestClient(server.issuer);
    const { tokens } = await client.signIn({
      email: 'alice@example.com',
      password: 'Alice-password-1',
      redirectUri: 'http://localhost:13000/callback',
    });
    assert.equal(tokens.expires_in, 10);
    const { payload } = decodeJwt(tokens.access_token!);
    assert.equal(Number(payload.exp) - Number(payload.iat), 10);
    const refreshed = await client.token(
      { grant_type: 'refresh_token', client_id: 'angularjs-spa', refresh_token: tokens.refresh_token! },
      { origin: 'http://localhost:13000' },
    );
    assert.equal(refreshed.headers.get('access-control-allow-origin'), 'http://localhost:13000');
    await assert.rejects(
      new OAuthTestClient(server.issuer).signIn({ email: 'alice@example.com', password: 'Alice-password-1' }),
      /did not reach the callback/,
      'the old callback on port 3000 is no longer registered',
    );
    const login = await client.follow(
      client.authorizeUrl({
        client_id: 'angularjs-spa',
        response_type: 'code',
        redirect_uri: 'http://localhost:13000/callback',
        scope: 'openid',
        prompt: 'login',
        code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
        code_challenge_method: 'S256',
      }),
    );
    assert.doesNotMatch(login.body, /Sign up/, 'sign-up is off for this tenant');
  });
});
