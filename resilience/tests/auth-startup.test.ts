// A careless production deployment (issue 12). In the review, NODE_ENV=production with an https ISSUER
// and no TRUST_PROXY started without a word: cookies lost Secure and, behind a proxy, every user shared
// the proxy's address, so 50 failed sign-ins by anyone locked everyone out. Each combination that would
// quietly weaken cookies or throttles now stops the server with one line; the two sound ones start.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { get as httpsGet } from 'node:https';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { freePort } from '@calling-api/testkit';
import {
  AUTH_SERVER_DIR,
  type AuthServerProcess,
  getWithCa,
  type TlsFiles,
} from '@calling-api/testkit/auth-server';
import { cliOk, removeDir, startAuthServer, tempDir } from '../support/auth-harness.ts';

const dir = tempDir('startup-');
let tls: TlsFiles;
let tenantFile: string;
const servers: AuthServerProcess[] = [];
const PRODUCTION = { NODE_ENV: 'production', M2M_CLIENT_SECRET: 'm'.repeat(40), LOG_LEVEL: 'warn' };

before(async () => {
  const cert = spawnSync(process.execPath, [join(AUTH_SERVER_DIR, 'src/cli/main.ts'), 'dev-cert'], {
    cwd: AUTH_SERVER_DIR,
    env: { PATH: process.env.PATH, DATA_DIR: join(dir, 'certs') },
    encoding: 'utf8',
  });
  assert.equal(cert.status, 0, cert.stderr);
  tls = {
    certFile: join(dir, 'certs', 'localhost.pem'),
    keyFile: join(dir, 'certs', 'localhost-key.pem'),
    caFile: join(dir, 'certs', 'dev-ca.pem'),
  };
  // A tenant fit for production: users come with hashes of passwords that are not the demo ones.
  const tenant = JSON.parse(readFileSync(join(AUTH_SERVER_DIR, 'tenant.json'), 'utf8'));
  for (const user of tenant.users) {
    // Hashed by the CLI, as an operator would: no workspace imports an app's code.
    user.passwordHash = (await cliOk(dir, ['hash-password'], `${user.email}-production-password`)).trim();
    delete user.password;
  }
  tenantFile = join(dir, 'tenant.json');
  writeFileSync(tenantFile, JSON.stringify(tenant));
});
after(async () => {
  for (const s of servers) await s.stop();
  for (const s of servers) removeDir(s.dataDir);
  removeDir(dir);
});

const authorizeQuery = new URLSearchParams({
  client_id: 'angularjs-spa',
  response_type: 'code',
  redirect_uri: 'http://localhost:3000/callback',
  scope: 'openid',
  code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
  code_challenge_method: 'S256',
});

function start(env: Record<string, string>) {
  return spawnSync(process.execPath, [join(AUTH_SERVER_DIR, 'src/main.ts')], {
    cwd: AUTH_SERVER_DIR,
    env: {
      PATH: process.env.PATH,
      PORT: '0',
      DATA_DIR: join(dir, 'data'),
      TENANT_FILE: tenantFile,
      ...PRODUCTION,
      ...env,
    },
    encoding: 'utf8',
    timeout: 20_000,
  });
}

test('refuses, with one line each, the production start-ups that would weaken cookies or throttles', () => {
  const https = { ISSUER: 'https://auth.example.com/' };
  const files = () => ({ TLS_CERT_FILE: tls.certFile, TLS_KEY_FILE: tls.keyFile });
  const cases: [string, Record<string, string>, RegExp][] = [
    ['https issuer, TRUST_PROXY unset', https, /TRUST_PROXY must be set with an https ISSUER/],
    [
      'https issuer with TLS files, TRUST_PROXY unset',
      { ...https, ...files() },
      /TRUST_PROXY must be set: false/,
    ],
    [
      'TRUST_PROXY=false, nothing terminates TLS',
      { ...https, TRUST_PROXY: 'false' },
      /needs TLS_CERT_FILE and TLS_KEY_FILE/,
    ],
    [
      'TRUST_PROXY=true on a server reached directly',
      { ...https, TRUST_PROXY: 'true', ...files() },
      /could choose their own X-Forwarded-For/,
    ],
  ];
  for (const [label, env, reason] of cases) {
    const run = start(env);
    assert.equal(run.status, 1, `${label}: ${run.stdout}${run.stderr}`);
    const lines = run.stderr.trimEnd().split('\n');
    assert.equal(lines.length, 1, `${label}: one line, got ${run.stderr}`);
    assert.match(lines[0]!, /^auth-server: refusing to start with NODE_ENV=production: /, label);
    assert.match(lines[0]!, reason, label);
    console.log(`# ${label}: ${lines[0]}`);
  }
});

test('starts in production when TLS ends here (TRUST_PROXY=false), with Secure cookies', async () => {
  const server = await startAuthServer({
    tls,
    dataDir: join(dir, 'direct'),
    env: { ...PRODUCTION, TENANT_FILE: tenantFile, TRUST_PROXY: 'false' },
  });
  servers.push(server);
  const ca = readFileSync(tls.caFile);
  const discovery = await getWithCa(`${server.issuer}.well-known/openid-configuration`, ca);
  assert.equal(JSON.parse(discovery.body).issuer, server.issuer);
  assert.match(server.issuer, /^https:/);
  const cookies = await new Promise<string[]>((resolve, reject) => {
    httpsGet(`${server.issuer}authorize?${authorizeQuery}`, { ca }, (res) => {
      res.resume();
      resolve(res.headers['set-cookie'] ?? []);
    }).on('error', reject);
  });
  assert.ok(cookies.length > 0);
  for (const c of cookies) assert.match(c, /;\s*secure/i, c);
});

test('starts in production behind a TLS-terminating proxy (TRUST_PROXY=true): Secure cookies from X-Forwarded-Proto', async () => {
  const port = await freePort();
  const server = await startAuthServer({
    port,
    dataDir: join(dir, 'proxied'),
    env: {
      ...PRODUCTION,
      TENANT_FILE: tenantFile,
      TRUST_PROXY: 'true',
      ISSUER: `https://localhost:${port}/`,
    },
  });
  servers.push(server);
  const res = await fetch(`http://localhost:${port}/authorize?${authorizeQuery}`, {
    redirect: 'manual',
    headers: { 'x-forwarded-proto': 'https', 'x-forwarded-for': '203.0.113.9' },
  });
  assert.equal(res.status, 303);
  const cookies = res.headers.getSetCookie();
  assert.ok(cookies.length > 0);
  for (const c of cookies) assert.match(c, /;\s*secure/i, c);
});
