// Several authorization-server instances on one PostgreSQL behave as one tenant: what one issues another
// redeems, reuse is caught across them, the CLI's changes and key rotations reach all without a restart,
// and sessions outlive an instance. Real processes and a real PostgreSQL (@calling-api/testkit).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { freePort } from '@calling-api/testkit';
import {
  AUTH_SERVER_DIR,
  type AuthServerProcess,
  removeDir,
  startAuthServer,
  tempDir,
} from '@calling-api/testkit/auth-server';
import { CookieJar, decodeJwt, OAuthTestClient, pkcePair } from '@calling-api/testkit/oauth-client';
import { startPostgres, type TestPostgres } from '@calling-api/testkit/postgres';
import { createRemoteJWKSet, jwtVerify } from 'jose';

const API = 'http://localhost:3001/api';
const ALICE = { email: 'alice@example.com', password: 'Alice-password-1' };
const CALLBACK = 'http://localhost:3000/callback';

/** A browser's view of one instance: its own base URL, the cookie jar shared with the other (same host). */
class Browser extends OAuthTestClient {
  override readonly jar: CookieJar;

  constructor(base: string, jar: CookieJar) {
    super(base);
    this.jar = jar;
  }
}

let postgres: TestPostgres;
let databaseUrl: string;
let issuer: string;
const instances: AuthServerProcess[] = [];
const dirs: string[] = [];

/** An instance on the shared database, answering for the shared issuer (as behind a load balancer). */
async function instance(port?: number): Promise<AuthServerProcess> {
  const dir = tempDir('auth-instance-');
  dirs.push(dir);
  const s = await startAuthServer({
    dataDir: dir,
    ...(port ? { port } : {}),
    env: { DATABASE_URL: databaseUrl, ISSUER: issuer },
  });
  instances.push(s);
  return s;
}

let a: AuthServerProcess;
let b: AuthServerProcess;
before(async () => {
  postgres = await startPostgres();
  databaseUrl = await postgres.createDatabase();
  const port = await freePort();
  issuer = `http://localhost:${port}/`;
  // Both start at once on an empty database: migrations, seeding and the first keys must not collide.
  [a, b] = await Promise.all([instance(port), instance()]);
});
after(async () => {
  for (const s of instances) await s.stop();
  for (const d of dirs) removeDir(d);
  await postgres?.stop();
});

function tenantCli(args: string[]) {
  const run = spawnSync(process.execPath, [join(AUTH_SERVER_DIR, 'src/cli/main.ts'), ...args], {
    cwd: AUTH_SERVER_DIR,
    env: { PATH: process.env.PATH, DATA_DIR: dirs[0], DATABASE_URL: databaseUrl },
    encoding: 'utf8',
  });
  assert.equal(run.status, 0, run.stderr);
  assert.ok(
    !(run.stdout + run.stderr).includes(new URL(databaseUrl).password),
    'the password is not printed',
  );
  return run.stdout;
}

/** /authorize and the login form at one instance; the code, and what the token request needs. */
async function authorizeAt(browser: OAuthTestClient, prompt?: string) {
  const { verifier, challenge } = pkcePair();
  let page = await browser.follow(
    browser.authorizeUrl({
      client_id: 'angularjs-spa',
      response_type: 'code',
      redirect_uri: CALLBACK,
      scope: 'openid profile offline_access read:messages',
      audience: API,
      code_challenge: challenge,
      code_challenge_method: 'S256',
      ...(prompt ? { prompt } : {}),
    }),
  );
  if (page.status === 200 && page.body.includes('/login'))
    page = await browser.login(page, ALICE.email, ALICE.password);
  const code = new URL(page.url).searchParams.get('code');
  assert.ok(code, `no code: ${page.status} ${page.url} ${page.body.slice(0, 300)}`);
  return {
    grant_type: 'authorization_code',
    client_id: 'angularjs-spa',
    code,
    redirect_uri: CALLBACK,
    code_verifier: verifier,
  };
}

const m2mToken = (at: AuthServerProcess, clientId = 'messages-m2m', secret = 'dev-m2m-secret') =>
  new OAuthTestClient(at.issuer).token({
    grant_type: 'client_credentials',
    client_id: clientId,
    client_secret: secret,
    audience: API,
  });

async function eventually(check: () => Promise<boolean>, what: string, ms = 8000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`not within ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const publishedKids = async (at: AuthServerProcess) =>
  ((await (await fetch(`${at.issuer}.well-known/jwks.json`)).json()) as { keys: { kid: string }[] }).keys.map(
    (k) => k.kid,
  );

describe('two authorization servers on one PostgreSQL', () => {
  it('start together on an empty database and share one signing key', async () => {
    assert.deepEqual(await publishedKids(a), await publishedKids(b));
    assert.equal((await publishedKids(a)).length, 1);
    const [fromA, fromB] = await Promise.all([m2mToken(a), m2mToken(b)]);
    assert.equal(
      decodeJwt(fromA.body.access_token!).header.kid,
      decodeJwt(fromB.body.access_token!).header.kid,
    );
    assert.equal(decodeJwt(fromB.body.access_token!).payload.iss, issuer);
  });

  it('redeem at one instance the code issued by the other, once', async () => {
    const jar = new CookieJar();
    const request = await authorizeAt(new Browser(a.issuer, jar));
    const atB = await new OAuthTestClient(b.issuer).token(request);
    assert.equal(atB.status, 200, JSON.stringify(atB.body));
    const { payload } = await jwtVerify(
      atB.body.access_token!,
      createRemoteJWKSet(new URL(`${a.issuer}.well-known/jwks.json`)),
      {
        issuer,
        audience: API,
      },
    );
    assert.equal(payload.scope, 'openid profile offline_access read:messages');
    const again = await new OAuthTestClient(a.issuer).token(request);
    assert.equal(again.status, 400);
    assert.equal(again.body.error, 'invalid_grant', 'the code is spent at every instance');
  });

  it('revoke the whole family when a refresh token rotated at one instance is reused at the other', async () => {
    const request = await authorizeAt(new Browser(a.issuer, new CookieJar()));
    const first = (await new OAuthTestClient(a.issuer).token(request)).body.refresh_token!;
    const refresh = (at: AuthServerProcess, token: string) =>
      new OAuthTestClient(at.issuer).token({
        grant_type: 'refresh_token',
        client_id: 'angularjs-spa',
        refresh_token: token,
      });
    const rotated = await refresh(a, first);
    assert.equal(rotated.status, 200);
    const reuse = await refresh(b, first);
    assert.equal(reuse.status, 400);
    assert.equal(reuse.body.error, 'invalid_grant');
    const newest = await refresh(a, rotated.body.refresh_token!);
    assert.equal(newest.body.error, 'invalid_grant', 'the newest token of the family is revoked too');
  });

  it('let only one of two simultaneous refreshes with one token, at the two instances, succeed', async () => {
    for (let round = 0; round < 5; round++) {
      const request = await authorizeAt(new Browser(a.issuer, new CookieJar()));
      const token = (await new OAuthTestClient(b.issuer).token(request)).body.refresh_token!;
      const results = await Promise.all(
        [a, b].map((at) =>
          new OAuthTestClient(at.issuer).token({
            grant_type: 'refresh_token',
            client_id: 'angularjs-spa',
            refresh_token: token,
          }),
        ),
      );
      assert.deepEqual(results.map((r) => r.status).sort(), [200, 400], `round ${round}`);
    }
  });

  it('apply a change made with the CLI at every instance for the next token, without a restart', async () => {
    const secret = /client secret \(shown once\): (\S+)/.exec(
      tenantCli(['create-app', '--type', 'm2m', '--client-id', 'reporting', '--name', 'Reporting']),
    )![1]!;
    tenantCli(['add-client-grant', '--client-id', 'reporting', '--api', API, '--scope', 'read:messages']);
    for (const at of [a, b]) {
      const res = await m2mToken(at, 'reporting', secret);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal(decodeJwt(res.body.access_token!).payload.scope, 'read:messages');
    }
    tenantCli(['create-role', '--name', 'auditor', '--api', API, '--scope', 'read:messages']);
    const listed = JSON.parse(tenantCli(['list', 'roles', '--json'])) as { roles: { name: string }[] };
    assert.ok(listed.roles.some((r) => r.name === 'auditor'));
  });

  it('publish, then sign with, a key rotated with the CLI at every instance, without a restart', async () => {
    const [oldKid] = await publishedKids(a);
    const staged = /staged key (\S+):/.exec(tenantCli(['rotate-keys']))![1]!;
    for (const at of [a, b])
      await eventually(
        async () => (await publishedKids(at)).includes(staged),
        `${at.issuer} publishes ${staged}`,
      );
    for (const at of [a, b])
      assert.equal(
        decodeJwt((await m2mToken(at)).body.access_token!).header.kid,
        oldKid,
        'staged: not signing yet',
      );
    tenantCli(['rotate-keys', '--activate']);
    for (const at of [a, b]) {
      await eventually(
        async () => decodeJwt((await m2mToken(at)).body.access_token!).header.kid === staged,
        `${at.issuer} signs with ${staged}`,
      );
      assert.deepEqual(
        (await publishedKids(at)).sort(),
        [oldKid, staged].sort(),
        'the old key stays published',
      );
    }
  });

  it('count failed sign-ins at both instances together: the sixth, at either, is locked', async () => {
    const email = 'carol@example.com';
    const loginPage = async (at: AuthServerProcess) => {
      const browser = new Browser(at.issuer, new CookieJar());
      const page = await browser.follow(
        browser.authorizeUrl({
          client_id: 'angularjs-spa',
          response_type: 'code',
          redirect_uri: CALLBACK,
          scope: 'openid',
          code_challenge: pkcePair().challenge,
          code_challenge_method: 'S256',
        }),
      );
      return { browser, page };
    };
    // Five failures of one account from one network lock that pair (SECURITY.md); alternating instances.
    for (let i = 0; i < 5; i++) {
      const { browser, page } = await loginPage(i % 2 ? b : a);
      const res = await browser.login(page, email, `wrong-password-${i}`);
      assert.equal(res.status, 401, `attempt ${i + 1}: ${res.body.slice(0, 200)}`);
    }
    for (const at of [a, b]) {
      const { browser, page } = await loginPage(at);
      const res = await browser.login(page, email, 'Carol-password-1');
      assert.equal(res.status, 429, 'the right password too: the pair is locked at every instance');
      assert.match(res.body, /Too many failed attempts/);
      assert.ok(Number(res.headers.get('retry-after')) > 60, 'for the lock time');
    }
  });

  it("keep a browser's session when the instance that signed it in is killed", async () => {
    const doomed = await instance();
    const jar = new CookieJar();
    const signedIn = await new OAuthTestClient(doomed.issuer).token(
      await authorizeAt(new Browser(doomed.issuer, jar)),
    );
    doomed.child.kill('SIGKILL');
    await new Promise((resolve) => doomed.child.once('exit', resolve));
    const silent = await authorizeAt(new Browser(b.issuer, jar), 'none');
    const res = await new OAuthTestClient(a.issuer).token(silent);
    assert.equal(res.status, 200, 'prompt=none at another instance found the session');
    assert.equal(decodeJwt(res.body.id_token!).payload.sub, decodeJwt(signedIn.body.id_token!).payload.sub);
  });

  it('never print the database password', () => {
    // The kit's own server has a random 24-character password; a short external one could occur by chance.
    const password = decodeURIComponent(new URL(databaseUrl).password);
    for (const s of instances) {
      if (password.length >= 12) assert.ok(!s.output().includes(password), 'the password is not printed');
      assert.ok(!s.output().includes(databaseUrl), 'the URL is not printed');
      assert.match(s.output(), /storage":"PostgreSQL at [^"@]+\/testkit_\w+"/);
    }
  });
});
