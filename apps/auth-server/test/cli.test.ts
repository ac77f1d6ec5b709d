// The admin command line against the DATA_DIR of a running server: changes apply without a restart.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { createServer as createHttpsServer } from 'node:https';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connect as tlsConnect } from 'node:tls';
import {
  AUTH_SERVER_DIR,
  type AuthServerProcess,
  removeDir,
  startAuthServer,
  tempDir,
} from '@calling-api/testkit/auth-server';
import { decodeJwt, formFields, OAuthTestClient } from '@calling-api/testkit/oauth-client';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import forge from 'node-forge';

let server: AuthServerProcess;
before(async () => {
  server = await startAuthServer();
});
after(async () => {
  await server.stop();
  removeDir(server.dataDir);
});

function tenant(args: string[], input?: string) {
  const run = spawnSync(process.execPath, [join(AUTH_SERVER_DIR, 'src/cli/main.ts'), ...args], {
    cwd: AUTH_SERVER_DIR,
    env: { PATH: process.env.PATH, DATA_DIR: server.dataDir },
    input,
    encoding: 'utf8',
  });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

const jwksOf = (s: AuthServerProcess) =>
  createRemoteJWKSet(new URL(`${s.issuer}.well-known/jwks.json`), { cooldownDuration: 0 });

describe('npm run tenant', () => {
  it('prints help for the tool and for each command', () => {
    const all = tenant(['--help']);
    assert.equal(all.status, 0);
    for (const c of [
      'create-api',
      'add-scope',
      'create-app',
      'create-user',
      'assign-role',
      'rotate-keys',
      'list',
    ]) {
      assert.match(all.stdout, new RegExp(`\\b${c}\\b`));
      const one = tenant([c, '--help']);
      assert.equal(one.status, 0, c);
      assert.match(one.stdout, new RegExp(`usage: npm run tenant -- ${c}`));
    }
  });

  it('fails with a clear message and a non-zero status on bad input', () => {
    const unknown = tenant(['frobnicate']);
    assert.equal(unknown.status, 2);
    assert.match(unknown.stderr, /unknown command "frobnicate"/);
    const none = tenant([]);
    assert.equal(none.status, 2);
    assert.match(none.stderr, /no command given\n\nusage: npm run tenant -- <command>/);
    const missing = tenant(['add-scope', '--api', 'http://localhost:3001/api']);
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /--scope is required/);
    const noApi = tenant(['add-scope', '--api', 'nope', '--scope', 'x:y', '--description', 'X']);
    assert.equal(noApi.status, 1);
    assert.match(noApi.stderr, /no API with identifier nope/);
    const badOption = tenant(['create-api', '--bogus']);
    assert.equal(badOption.status, 2);
    assert.match(badOption.stderr, /Unknown option '--bogus'/);
  });

  it("does the tutorial's steps: create an API, add a scope, let an M2M app get it; the running server issues the token", async () => {
    assert.equal(
      tenant([
        'create-api',
        '--name',
        'Notes API',
        '--identifier',
        'urn:notes',
        '--rbac',
        '--permissions-in-token',
      ]).status,
      0,
    );
    assert.equal(
      tenant(['add-scope', '--api', 'urn:notes', '--scope', 'read:notes', '--description', 'Read notes'])
        .status,
      0,
    );
    const app = tenant([
      'create-app',
      '--type',
      'm2m',
      '--client-id',
      'notes-worker',
      '--name',
      'Notes worker',
    ]);
    assert.equal(app.status, 0);
    const secret = /client secret \(shown once\): (\S+)/.exec(app.stdout)?.[1];
    assert.ok(secret);
    assert.equal(
      tenant([
        'add-client-grant',
        '--client-id',
        'notes-worker',
        '--api',
        'urn:notes',
        '--scope',
        'read:notes',
      ]).status,
      0,
    );
    const client = new OAuthTestClient(server.issuer);
    const { status, body } = await client.token({
      grant_type: 'client_credentials',
      client_id: 'notes-worker',
      client_secret: secret,
      audience: 'urn:notes',
    });
    assert.equal(status, 200, JSON.stringify(body));
    const { payload } = await jwtVerify(body.access_token!, jwksOf(server), {
      issuer: server.issuer,
      audience: 'urn:notes',
    });
    assert.equal(payload.scope, 'read:notes');
    const noGrant = await client.token({
      grant_type: 'client_credentials',
      client_id: 'notes-worker',
      client_secret: secret,
      audience: 'http://localhost:3001/api',
    });
    assert.equal(noGrant.status, 400);
    assert.equal(noGrant.body.error, 'access_denied');
  });

  it("creates a user and a role; the user signs in with the role's permissions at once", async () => {
    assert.equal(
      tenant([
        'create-role',
        '--name',
        'notes-reader',
        '--api',
        'http://localhost:3001/api',
        '--scope',
        'read:messages',
      ]).status,
      0,
    );
    const created = tenant(
      ['create-user', '--email', 'dave@example.com', '--name', 'Dave', '--password-stdin'],
      'Dave-password-12\n',
    );
    assert.equal(created.status, 0, created.stderr);
    const before = await new OAuthTestClient(server.issuer).signIn({
      email: 'dave@example.com',
      password: 'Dave-password-12',
    });
    assert.deepEqual(decodeJwt(before.tokens.access_token!).payload.permissions, []);
    assert.equal(tenant(['assign-role', '--email', 'dave@example.com', '--role', 'notes-reader']).status, 0);
    const afterRole = await new OAuthTestClient(server.issuer).signIn({
      email: 'dave@example.com',
      password: 'Dave-password-12',
    });
    assert.deepEqual(decodeJwt(afterRole.tokens.access_token!).payload.permissions, ['read:messages']);
    const listed = JSON.parse(tenant(['list', 'users', '--json']).stdout) as {
      users: { email: string; roles: string[] }[];
    };
    assert.deepEqual(listed.users.find((u) => u.email === 'dave@example.com')?.roles, ['notes-reader']);
    assert.equal(tenant(['assign-role', '--email', 'nobody@example.com', '--role', 'viewer']).status, 1);
  });

  it('shows consent with the scope descriptions for a third-party application, and "Accept" completes it', async () => {
    const app = tenant([
      'create-app',
      '--type',
      'spa',
      '--client-id',
      'partner-spa',
      '--name',
      'Partner App',
      '--third-party',
      '--callback',
      'http://localhost:5555/cb',
      '--web-origin',
      'http://localhost:5555',
    ]);
    assert.equal(app.status, 0, app.stderr);
    const client = new OAuthTestClient(server.issuer);
    const { pkcePair } = await import('@calling-api/testkit/oauth-client');
    const { verifier, challenge } = pkcePair();
    let page = await client.follow(
      client.authorizeUrl({
        client_id: 'partner-spa',
        response_type: 'code',
        redirect_uri: 'http://localhost:5555/cb',
        scope: 'openid read:messages write:messages',
        audience: 'http://localhost:3001/api',
        code_challenge: challenge,
        code_challenge_method: 'S256',
      }),
    );
    page = await client.login(page, 'bob@example.com', 'Bob-password-1');
    assert.equal(page.status, 200);
    assert.match(page.body, /Authorize Partner App/);
    assert.match(page.body, /Read your messages/);
    assert.doesNotMatch(
      page.body,
      /Write messages on your behalf/,
      'bob may not get write:messages, so it is not offered',
    );
    assert.match(page.body, /<button type="submit">Accept<\/button>/);
    const form = formFields(page.body, '/confirm')!;
    const done = await client.postForm(form.action, form.fields);
    const code = new URL(done.url).searchParams.get('code');
    assert.ok(code, done.url);
    const { body } = await client.token({
      grant_type: 'authorization_code',
      client_id: 'partner-spa',
      code: code!,
      redirect_uri: 'http://localhost:5555/cb',
      code_verifier: verifier,
    });
    assert.equal(decodeJwt(body.access_token!).payload.scope, 'openid read:messages');
  });

  it('creates a regular web application that signs users in with its secret (client_secret_basic)', async () => {
    const app = tenant([
      'create-app',
      '--type',
      'regular_web',
      '--client-id',
      'portal',
      '--name',
      'Portal',
      '--callback',
      'http://localhost:7000/cb',
      '--no-refresh-token',
    ]);
    assert.equal(app.status, 0, app.stderr);
    const secret = /client secret \(shown once\): (\S+)/.exec(app.stdout)![1]!;
    const client = new OAuthTestClient(server.issuer);
    const { pkcePair } = await import('@calling-api/testkit/oauth-client');
    const { verifier, challenge } = pkcePair();
    let page = await client.follow(
      client.authorizeUrl({
        client_id: 'portal',
        response_type: 'code',
        redirect_uri: 'http://localhost:7000/cb',
        scope: 'openid read:messages',
        audience: 'http://localhost:3001/api',
        code_challenge: challenge,
        code_challenge_method: 'S256',
      }),
    );
    page = await client.login(page, 'alice@example.com', 'Alice-password-1');
    const code = new URL(page.url).searchParams.get('code')!;
    const body = {
      grant_type: 'authorization_code',
      code,
      redirect_uri: 'http://localhost:7000/cb',
      code_verifier: verifier,
    };
    const basic = (s: string) => ({
      authorization: `Basic ${Buffer.from(`portal:${s}`).toString('base64')}`,
    });
    const wrong = await client.token(body, basic('wrong'));
    assert.equal(wrong.body.error, 'invalid_client');
    const ok = await client.token(body, basic(secret));
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.equal(decodeJwt(ok.body.access_token!).payload.scope, 'openid read:messages');
    assert.equal(ok.body.refresh_token, undefined, 'no refresh tokens for this application');
  });

  it('gives an application a refresh-token reuse interval when asked (none by default)', async () => {
    const app = tenant([
      'create-app',
      '--type',
      'spa',
      '--client-id',
      'multi-tab-spa',
      '--name',
      'Multi-tab SPA',
      '--callback',
      'http://localhost:3000/callback',
      '--reuse-interval',
      '2',
    ]);
    assert.equal(app.status, 0, app.stderr);
    const client = new OAuthTestClient(server.issuer);
    const { tokens } = await client.signIn({
      email: 'alice@example.com',
      password: 'Alice-password-1',
      clientId: 'multi-tab-spa',
    });
    const use = () =>
      client.token({
        grant_type: 'refresh_token',
        client_id: 'multi-tab-spa',
        refresh_token: tokens.refresh_token!,
      });
    assert.equal((await use()).status, 200);
    assert.equal((await use()).status, 200, 'a second tab within the interval');
    await new Promise((r) => setTimeout(r, 2200));
    assert.equal((await use()).body.error, 'invalid_grant', 'reuse after the interval is detected');
  });

  it('rotates keys in steps on the running server: publish, then sign, old tokens still verify', async () => {
    const m2m = () =>
      new OAuthTestClient(server.issuer).token({
        grant_type: 'client_credentials',
        client_id: 'messages-m2m',
        client_secret: 'dev-m2m-secret',
        audience: 'http://localhost:3001/api',
      });
    const old = (await m2m()).body.access_token!;
    const oldKid = decodeJwt(old).header.kid;
    const staged = tenant(['rotate-keys']);
    assert.equal(staged.status, 0, staged.stderr);
    const newKid = /staged key (\S+):/.exec(staged.stdout)![1];
    const published = async () => {
      const { keys } = (await (await fetch(`${server.issuer}.well-known/jwks.json`)).json()) as {
        keys: { kid: string; d?: string }[];
      };
      assert.ok(
        keys.every((k) => k.d === undefined),
        'no private parts published',
      );
      return keys.map((k) => k.kid);
    };
    await waitFor(async () => (await published()).includes(newKid!));
    assert.equal(
      decodeJwt((await m2m()).body.access_token!).header.kid,
      oldKid,
      'a staged key does not sign yet',
    );
    assert.equal(tenant(['rotate-keys', '--activate']).status, 0);
    await waitFor(async () => decodeJwt((await m2m()).body.access_token!).header.kid === newKid);
    assert.ok((await published()).includes(oldKid as string), 'the old key stays published');
    await jwtVerify(old, jwksOf(server), { issuer: server.issuer });
    const pruned = tenant(['rotate-keys', '--prune']);
    assert.match(pruned.stdout, /no retired key is old enough/);
  });
});

async function waitFor(check: () => Promise<boolean>, ms = 8000) {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('npm run tenant -- dev-cert', () => {
  it('writes a local CA and a localhost certificate it signed, keys private, and keeps the CA on a re-run', async () => {
    const dir = tempDir();
    try {
      const run = () =>
        spawnSync(process.execPath, [join(AUTH_SERVER_DIR, 'src/cli/main.ts'), 'dev-cert'], {
          cwd: AUTH_SERVER_DIR,
          env: { PATH: process.env.PATH, DATA_DIR: dir },
          encoding: 'utf8',
        });
      const first = run();
      assert.equal(first.status, 0, first.stderr);
      assert.match(first.stdout, /NODE_EXTRA_CA_CERTS=/);
      assert.match(
        first.stdout,
        /TLS_CERT_FILE=\S+localhost\.pem TLS_KEY_FILE=\S+localhost-key\.pem npm run start:auth/,
      );
      const ca = new X509Certificate(readFileSync(join(dir, 'dev-ca.pem')));
      const leaf = new X509Certificate(readFileSync(join(dir, 'localhost.pem')));
      assert.equal(ca.ca, true);
      assert.equal(leaf.ca, false);
      assert.ok(leaf.verify(ca.publicKey), 'signed by the CA');
      assert.equal(leaf.checkHost('localhost'), 'localhost');
      assert.equal(leaf.checkIP('127.0.0.1'), '127.0.0.1');
      assert.equal(leaf.checkHost('example.com'), undefined);
      for (const key of ['dev-ca-key.pem', 'localhost-key.pem']) {
        assert.equal(statSync(join(dir, key)).mode & 0o777, 0o600, key);
      }
      assert.equal(await rogueSiteRefused(dir), true, 'the CA cannot vouch for any other name');
      assert.equal(run().status, 0);
      assert.equal(
        new X509Certificate(readFileSync(join(dir, 'dev-ca.pem'))).fingerprint256,
        ca.fingerprint256,
      );
      assert.notEqual(
        new X509Certificate(readFileSync(join(dir, 'localhost.pem'))).serialNumber,
        leaf.serialNumber,
      );
    } finally {
      removeDir(dir);
    }
  });
});

/**
 * With the dev CA's key (as anyone who read DATA_DIR would have it), sign a certificate for another site and
 * serve it: a client that trusts the CA must still refuse it (the CA's name constraints).
 */
async function rogueSiteRefused(dir: string): Promise<boolean> {
  const caCert = forge.pki.certificateFromPem(readFileSync(join(dir, 'dev-ca.pem'), 'utf8'));
  const caKey = forge.pki.privateKeyFromPem(readFileSync(join(dir, 'dev-ca-key.pem'), 'utf8'));
  const keys = forge.pki.rsa.generateKeyPair(2048);
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = '0abc';
  cert.validity.notBefore = new Date(Date.now() - 60_000);
  cert.validity.notAfter = new Date(Date.now() + 86_400_000);
  cert.setSubject([{ name: 'commonName', value: 'bank.example' }]);
  cert.setIssuer(caCert.subject.attributes);
  cert.setExtensions([{ name: 'subjectAltName', altNames: [{ type: 2, value: 'bank.example' }] }]);
  cert.sign(caKey, forge.md.sha256.create());
  const server = createHttpsServer(
    { cert: forge.pki.certificateToPem(cert), key: forge.pki.privateKeyToPem(keys.privateKey) },
    (_req, res) => res.end('hello'),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  try {
    return await new Promise<boolean>((resolve) => {
      const socket = tlsConnect({
        host: '127.0.0.1',
        port,
        servername: 'bank.example',
        ca: readFileSync(join(dir, 'dev-ca.pem')),
      });
      socket.once('secureConnect', () => {
        socket.destroy();
        resolve(false);
      });
      socket.once('error', (error) => resolve(/permitted subtree violation/.test(error.message)));
    });
  } finally {
    server.close();
  }
}
