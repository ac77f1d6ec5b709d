// `npm run start:cluster` as a user tries it: two authorization servers and two Messages APIs behind
// their proxies, on a PostgreSQL it starts itself in DATA_DIR. A sign-in with code + PKCE goes through
// the proxy (the code issued by one instance is redeemed at the other: requests alternate), the token
// works at the API behind its proxy, and the API's requests reach both instances (no sticky sessions).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { freePort } from '@calling-api/testkit';
import { decodeJwt, OAuthTestClient, pkcePair } from '@calling-api/testkit/oauth-client';
import { type Cluster, startCluster } from '../../scripts/cluster.ts';

const dataDir = mkdtempSync(path.join(tmpdir(), 'cluster-'));
let cluster: Cluster;
const lines: string[] = [];

before(async () => {
  const [auth, api, spa, consolePort] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
  cluster = await startCluster({
    dataDir,
    ports: { auth, api, spa, console: consolePort },
    onLog: (l) => lines.push(l),
  });
});
after(async () => {
  await cluster?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('npm run start:cluster', () => {
  it('signs alice in through the proxy, and her token works at the API behind the other proxy', async () => {
    const browser = new OAuthTestClient(cluster.issuer);
    const { verifier, challenge } = pkcePair();
    const callback = `${cluster.urls.spa}/callback`;
    const loginPage = await browser.follow(
      browser.authorizeUrl({
        client_id: 'angularjs-spa',
        response_type: 'code',
        redirect_uri: callback,
        scope: 'openid profile read:messages write:messages',
        audience: 'http://localhost:3001/api',
        code_challenge: challenge,
        code_challenge_method: 'S256',
      }),
    );
    const redirected = await browser.login(loginPage, 'alice@example.com', 'Alice-password-1');
    const code = new URL(redirected.url).searchParams.get('code');
    assert.ok(code, `no code: ${redirected.status} ${redirected.body.slice(0, 200)}`);
    const token = await browser.token({
      grant_type: 'authorization_code',
      client_id: 'angularjs-spa',
      code,
      redirect_uri: callback,
      code_verifier: verifier,
    });
    assert.equal(token.status, 200, JSON.stringify(token.body));
    assert.equal(decodeJwt(token.body.access_token!).payload.iss, cluster.issuer);

    const headers = {
      authorization: `Bearer ${token.body.access_token}`,
      'content-type': 'application/json',
    };
    const posted: number[] = [];
    for (let i = 0; i < 4; i++) {
      const res = await fetch(`${cluster.urls.api}/api/messages`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ text: `through the cluster ${i}` }),
      });
      assert.equal(res.status, 201);
      posted.push(((await res.json()) as { id: number }).id);
    }
    const listed = (await (await fetch(`${cluster.urls.api}/api/messages`, { headers })).json()) as {
      messages: { id: number }[];
    };
    assert.deepEqual(
      listed.messages.map((m) => m.id),
      posted.toReversed(),
      'each instance sees what the other stored',
    );
    // The request log is written asynchronously: give it a moment.
    const answered = (label: string) => lines.some((l) => l.startsWith(label) && l.includes('/api/messages'));
    for (let waited = 0; !(answered('api1') && answered('api2')) && waited < 5000; waited += 100)
      await new Promise((r) => setTimeout(r, 100));
    assert.ok(answered('api1') && answered('api2'), 'both API instances answered some of the requests');
  });

  it("applies a Management API change made through one instance to the other's answers", async () => {
    const audience = `${cluster.issuer}api/v2/`;
    const { status, tokens } = await new OAuthTestClient(cluster.issuer).signIn({
      email: 'admin@example.com',
      password: 'Admin-password-1',
      clientId: 'tenant-console',
      redirectUri: `${cluster.urls.console}/callback`,
      audience,
      scope: 'openid read:roles create:roles',
    });
    assert.equal(status, 200, JSON.stringify(tokens));
    const call = (method: string, path: string, body?: unknown) =>
      fetch(new URL(path, audience), {
        method,
        headers: {
          authorization: `Bearer ${tokens.access_token}`,
          ...(body ? { 'content-type': 'application/json' } : {}),
        },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
    const created = await call('POST', 'roles', { name: 'cluster-auditor', description: 'Made once' });
    assert.equal(created.status, 200, await created.text()); // Auth0 answers a new role with 200
    // Requests alternate between the instances; the other one learns of the change by NOTIFY, within
    // milliseconds. Four answers in a row must then all have the role.
    let inARow = 0;
    const deadline = Date.now() + 3000;
    while (inARow < 4) {
      assert.ok(Date.now() < deadline, 'both instances show the new role within 3 s');
      const roles = (await (await call('GET', 'roles')).json()) as { name: string }[];
      inARow = roles.some((r) => r.name === 'cluster-auditor') ? inARow + 1 : 0;
    }
    const again = await call('POST', 'roles', { name: 'cluster-auditor', description: 'Twice' });
    assert.equal(again.status, 409, 'a second instance refuses the duplicate too');
  });

  it('keeps its PostgreSQL in DATA_DIR and never prints its password', () => {
    assert.match(cluster.database, /^PostgreSQL at 127\.0\.0\.1:\d+\/postgres$/);
    const output = lines.join('\n');
    assert.doesNotMatch(output, /postgres:\/\/[^@\s]*:[^@\s]*@/);
  });
});

describe('npm run start:cluster when an instance dies', () => {
  it('sends every request on to the other instance: no 502, even for the first one after the death', async () => {
    const client = new OAuthTestClient(cluster.issuer);
    const m2m = () =>
      client.token({
        grant_type: 'client_credentials',
        client_id: 'messages-m2m',
        client_secret: 'dev-m2m-secret',
        audience: 'http://localhost:3001/api',
      });
    const token = (await m2m()).body.access_token!;
    const api = cluster.programs.find((p) => p.label === 'api2')!;
    const auth = cluster.programs.find((p) => p.label === 'auth2')!;
    api.child.kill('SIGKILL');
    auth.child.kill('SIGKILL');
    await new Promise((resolve) => setTimeout(resolve, 300));
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) {
      statuses.push((await m2m()).status);
      const res = await fetch(`${cluster.urls.api}/api/messages`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ text: `after the death ${i}` }),
      });
      statuses.push(res.status);
    }
    assert.deepEqual(
      [...new Set(statuses)].sort(),
      [200, 201],
      `token requests 200 and posts 201 each time: ${statuses.join(' ')}`,
    );
  });
});
