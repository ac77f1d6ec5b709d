// The auth0 package's ManagementClient, from the registry and unchanged, over https against the embedded
// server: the tutorial's tenant steps as an automation script does them, then a user signs in through the
// new single-page application with auth0-spa-js in Chromium and gets exactly what the role grants.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  type AuthServerProcess,
  removeDir,
  startAuthServer,
  tempDir,
} from '@calling-api/testkit/auth-server';
import type { Browser } from 'playwright-core';
import { type AppServer, startAppServer } from '../support/app-server.ts';
import { claims, fillSignIn, launchBrowser, spkiHash } from '../support/browser.ts';
import { devCert } from '../support/fixture.ts';

const DEFAULT_TENANT = fileURLToPath(new URL('../../apps/auth-server/tenant.json', import.meta.url));
const AUTOMATION = 'tutorial-automation';
const SECRET = 'automation-secret-for-the-compat-tests-only-0123456789';
const AUDIENCE = 'https://tutorial-messages.example.com/api';
const USER = { email: 'dana@example.com', password: 'Reads-messages-42' };

/** What an Auth0 customer's script does for the tutorial, run as they would (NODE_EXTRA_CA_CERTS for the dev CA). */
const SCRIPT = `
  import { ManagementClient } from 'auth0';
  const { DOMAIN, SECRET, AUDIENCE, APP_ORIGIN, EMAIL, PASSWORD } = process.env;
  const management = new ManagementClient({ domain: DOMAIN, clientId: '${AUTOMATION}', clientSecret: SECRET });

  const api = await management.resourceServers.create({
    name: 'Tutorial Messages API',
    identifier: AUDIENCE,
    signing_alg: 'RS256',
    scopes: [{ value: 'read:messages', description: 'Read your messages' }],
  });
  // "Enable RBAC" and "Add Permissions in the Access Token"
  const rbac = await management.resourceServers.update(api.id, {
    enforce_policies: true,
    token_dialect: 'rfc9068_profile_authz',
  });
  const role = await management.roles.create({ name: 'messages-reader', description: 'Reads messages' });
  await management.roles.permissions.add(role.id, {
    permissions: [{ resource_server_identifier: AUDIENCE, permission_name: 'read:messages' }],
  });
  const user = await management.users.create({
    connection: 'Username-Password-Authentication',
    email: EMAIL,
    password: PASSWORD,
    name: 'Dana',
  });
  await management.users.roles.assign(user.user_id, { roles: [role.id] });
  const spa = await management.clients.create({
    name: 'Tutorial SPA',
    app_type: 'spa',
    callbacks: [APP_ORIGIN + '/callback'],
    allowed_logout_urls: [APP_ORIGIN + '/'],
    web_origins: [APP_ORIGIN],
    grant_types: ['authorization_code', 'refresh_token'],
    token_endpoint_auth_method: 'none',
  });

  // Read back as the dashboard would show it.
  const found = await management.users.list({ q: 'email:"' + EMAIL + '"', search_engine: 'v3' });
  const permissions = await management.users.permissions.list(user.user_id);
  const roles = await management.users.roles.list(user.user_id);
  const apis = await management.resourceServers.list();
  const client = await management.clients.get(spa.client_id);
  console.log(JSON.stringify({
    rbac: { enforce_policies: rbac.enforce_policies, token_dialect: rbac.token_dialect },
    clientId: spa.client_id,
    spaSecret: 'client_secret' in spa,
    callbacks: client.callbacks,
    webOrigins: client.web_origins,
    foundUsers: found.data.map((u) => u.email),
    permissions: permissions.data.map((p) => p.resource_server_identifier + ' ' + p.permission_name),
    roles: roles.data.map((r) => r.name),
    apis: apis.data.map((a) => a.identifier),
  }));
`;

describe('the auth0 package (ManagementClient) over https: the tutorial tenant steps', () => {
  let dir: string;
  let auth: AuthServerProcess;
  let app: AppServer;
  let browser: Browser;
  let caFile: string;

  before(async () => {
    dir = tempDir('compat-');
    const tls = devCert(join(dir, 'certs'));
    caFile = tls.caFile;
    app = await startAppServer({ cert: readFileSync(tls.certFile), key: readFileSync(tls.keyFile) });
    // The automation's application and its grant, as a customer registers them for their deploy script.
    const tenant = JSON.parse(readFileSync(DEFAULT_TENANT, 'utf8'));
    tenant.applications.push({
      type: 'm2m',
      clientId: AUTOMATION,
      name: 'Tutorial automation',
      clientSecret: { env: 'AUTOMATION_CLIENT_SECRET' },
    });
    tenant.clientGrants.push({
      clientId: AUTOMATION,
      audience: '##ISSUER##api/v2/',
      scopes: ['create:resource_servers', 'read:resource_servers', 'update:resource_servers']
        .concat(['create:roles', 'read:roles', 'update:roles', 'create:users', 'read:users', 'update:users'])
        .concat(['create:role_members', 'create:clients', 'read:clients']),
    });
    const tenantFile = join(dir, 'tenant.json');
    writeFileSync(tenantFile, JSON.stringify(tenant));
    auth = await startAuthServer({
      dataDir: join(dir, 'auth'),
      env: { TENANT_FILE: tenantFile, AUTOMATION_CLIENT_SECRET: SECRET, LOG_LEVEL: 'warn' },
      tls,
    });
    browser = await launchBrowser(spkiHash(readFileSync(tls.certFile, 'utf8')));
  });
  after(async () => {
    await browser?.close();
    await auth?.stop();
    await app?.close();
    removeDir(dir);
  });

  it('creates the API (RBAC, permissions in the token), a role, a user with it and an SPA; the user gets exactly read:messages', async () => {
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', SCRIPT], {
      cwd: import.meta.dirname,
      env: {
        PATH: process.env.PATH,
        NODE_EXTRA_CA_CERTS: caFile,
        DOMAIN: `localhost:${auth.port}`,
        SECRET,
        AUDIENCE,
        APP_ORIGIN: app.origin,
        EMAIL: USER.email,
        PASSWORD: USER.password,
      },
      encoding: 'utf8',
      timeout: 30_000,
    });
    assert.equal(run.status, 0, run.stderr);
    const result = JSON.parse(run.stdout);
    assert.deepEqual(result.rbac, { enforce_policies: true, token_dialect: 'rfc9068_profile_authz' });
    assert.equal(result.spaSecret, false, 'a SPA gets no secret');
    assert.deepEqual(result.callbacks, [`${app.origin}/callback`]);
    assert.deepEqual(result.webOrigins, [app.origin]);
    assert.deepEqual(result.foundUsers, [USER.email]);
    assert.deepEqual(result.permissions, [`${AUDIENCE} read:messages`]);
    assert.deepEqual(result.roles, ['messages-reader']);
    assert.ok(result.apis.includes(AUDIENCE) && result.apis.includes(`${auth.issuer}api/v2/`));

    // The new application's user signs in with auth0-spa-js, configured with a domain as for Auth0.
    app.settings = { domain: `localhost:${auth.port}`, clientId: result.clientId, audience: AUDIENCE };
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${app.origin}/`);
    await page.evaluate(() => (window as unknown as { app: { start(): Promise<unknown> } }).app.start());
    await page.evaluate(() => {
      void (
        window as unknown as { app: { client: { loginWithRedirect(): Promise<void> } } }
      ).app.client.loginWithRedirect();
    });
    await page.waitForURL(
      (url) => url.href.startsWith(auth.issuer) && url.pathname.startsWith('/interaction/'),
    );
    await fillSignIn(page, USER);
    await page.waitForFunction(() => document.getElementById('status')?.textContent?.startsWith('signed in'));
    const token = claims(
      await page.evaluate(() =>
        (
          window as unknown as { app: { client: { getTokenSilently(): Promise<string> } } }
        ).app.client.getTokenSilently(),
      ),
    );
    assert.equal(token.aud, AUDIENCE);
    assert.equal(token.client_id, result.clientId);
    assert.deepEqual(token.permissions, ['read:messages']);
    // The page asked for read:messages and write:messages; the API has only the first, and the role gives it.
    assert.deepEqual(
      String(token.scope)
        .split(' ')
        .filter((s) => s.endsWith(':messages')),
      ['read:messages'],
    );
    await context.close();
  });
});
