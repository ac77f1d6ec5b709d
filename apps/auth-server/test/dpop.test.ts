// Sender-constrained tokens (RFC 9449) at the token endpoint: binding, its enforcement on refresh, and
// each API's policy (required / allowed / off).
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
import { dpopProver } from '@calling-api/testkit/dpop-prover';
import { decodeJwt, OAuthTestClient } from '@calling-api/testkit/oauth-client';

const ALICE = { email: 'alice@example.com', password: 'Alice-password-1' };
const REQUIRED_API = 'https://dpop-required.example.com/api';
const BEARER_API = 'https://bearer-only.example.com/api';
let server: AuthServerProcess;
let dir: string;
let tokenEndpoint: string;

before(async () => {
  dir = tempDir();
  const tenant = JSON.parse(readFileSync(join(AUTH_SERVER_DIR, 'tenant.json'), 'utf8'));
  const scopes = [{ value: 'read:things', description: 'Read things' }];
  tenant.apis.push({ name: 'DPoP only', identifier: REQUIRED_API, dpop: 'required', scopes });
  tenant.apis.push({ name: 'Bearer only', identifier: BEARER_API, dpop: 'off', scopes });
  for (const audience of [REQUIRED_API, BEARER_API]) {
    tenant.clientGrants.push({ clientId: 'messages-m2m', audience, scopes: ['read:things'] });
  }
  const tenantFile = join(dir, 'tenant.json');
  writeFileSync(tenantFile, JSON.stringify(tenant));
  server = await startAuthServer({ env: { TENANT_FILE: tenantFile } });
  tokenEndpoint = `${server.issuer}oauth/token`;
});
after(async () => {
  await server.stop();
  removeDir(server.dataDir);
  removeDir(dir);
});

const refresh = async (client: OAuthTestClient, refreshToken: string, dpop?: string) =>
  client.token(
    { grant_type: 'refresh_token', client_id: 'angularjs-spa', refresh_token: refreshToken },
    dpop ? { dpop } : {},
  );

describe('DPoP at the token endpoint', () => {
  it('is advertised in discovery', async () => {
    const d = (await (await fetch(`${server.issuer}.well-known/openid-configuration`)).json()) as {
      dpop_signing_alg_values_supported?: string[];
    };
    assert.ok(d.dpop_signing_alg_values_supported?.includes('ES256'));
  });

  it("binds the SPA's access and refresh tokens to its key, and only that key refreshes", async () => {
    const key = await dpopProver();
    const client = new OAuthTestClient(server.issuer);
    const { tokens } = await client.signIn({
      ...ALICE,
      tokenHeaders: { dpop: await key.proof('POST', tokenEndpoint) },
    });
    assert.equal(tokens.token_type, 'DPoP');
    assert.deepEqual(decodeJwt(tokens.access_token!).payload.cnf, { jkt: key.thumbprint });

    const thief = await dpopProver();
    const stolen = await refresh(client, tokens.refresh_token!, await thief.proof('POST', tokenEndpoint));
    assert.equal(stolen.body.error, 'invalid_grant', 'another key cannot use the refresh token');
    const bare = await refresh(client, tokens.refresh_token!);
    assert.equal(bare.body.error, 'invalid_grant', 'nor can a request without a proof');

    const renewed = await refresh(client, tokens.refresh_token!, await key.proof('POST', tokenEndpoint));
    assert.equal(renewed.status, 200, JSON.stringify(renewed.body));
    assert.equal(renewed.body.token_type, 'DPoP');
    assert.deepEqual(decodeJwt(renewed.body.access_token!).payload.cnf, { jkt: key.thumbprint });
  });

  it('refuses a replayed proof, a proof for another URL or method, and an old one', async () => {
    const key = await dpopProver();
    const m2m = (dpop: string) =>
      new OAuthTestClient(server.issuer).token(
        {
          grant_type: 'client_credentials',
          client_id: 'messages-m2m',
          client_secret: 'dev-m2m-secret',
          audience: REQUIRED_API,
        },
        { dpop },
      );
    const proof = await key.proof('POST', tokenEndpoint);
    assert.equal((await m2m(proof)).status, 200);
    for (const [why, bad] of [
      ['replayed', proof],
      ['another URL', await key.proof('POST', `${server.issuer}oauth/revoke`)],
      ['another method', await key.proof('GET', tokenEndpoint)],
      [
        'issued an hour ago',
        await key.proof('POST', tokenEndpoint, { claims: { iat: Math.floor(Date.now() / 1000) - 3600 } }),
      ],
    ] as const) {
      const res = await m2m(bad);
      assert.equal(res.status, 400, why);
      assert.match(String(res.body.error), /invalid_dpop_proof|invalid_grant/, why);
    }
  });

  it("follows each API's policy: required refuses bearer requests, off refuses proofs, allowed takes both", async () => {
    const key = await dpopProver();
    const cc = (audience: string, dpop?: string) =>
      new OAuthTestClient(server.issuer).token(
        {
          grant_type: 'client_credentials',
          client_id: 'messages-m2m',
          client_secret: 'dev-m2m-secret',
          audience,
        },
        dpop ? { dpop } : {},
      );
    const requiredBearer = await cc(REQUIRED_API);
    assert.equal(requiredBearer.status, 400);
    assert.match(String(requiredBearer.body.error_description), /accepts only DPoP-bound tokens/);
    assert.equal((await cc(REQUIRED_API, await key.proof('POST', tokenEndpoint))).body.token_type, 'DPoP');

    const offBound = await cc(BEARER_API, await key.proof('POST', tokenEndpoint));
    assert.equal(offBound.status, 400);
    assert.match(String(offBound.body.error_description), /does not accept DPoP-bound tokens/);
    assert.equal((await cc(BEARER_API)).body.token_type, 'Bearer');

    const messages = 'http://localhost:3001/api';
    assert.equal((await cc(messages)).body.token_type, 'Bearer');
    assert.equal((await cc(messages, await key.proof('POST', tokenEndpoint))).body.token_type, 'DPoP');
  });

  it('lets /userinfo take a bound token only with the DPoP scheme and a proof for that request', async () => {
    const key = await dpopProver();
    const { tokens } = await new OAuthTestClient(server.issuer).signIn({
      ...ALICE,
      tokenHeaders: { dpop: await key.proof('POST', tokenEndpoint) },
    });
    const at = tokens.access_token!;
    const userinfo = `${server.issuer}userinfo`;
    const ask = (headers: Record<string, string>) => fetch(userinfo, { headers });

    const ok = await ask({
      authorization: `DPoP ${at}`,
      dpop: await key.proof('GET', userinfo, { accessToken: at }),
    });
    assert.equal(ok.status, 200);
    assert.equal(((await ok.json()) as { email: string }).email, ALICE.email);

    const asBearer = await ask({ authorization: `Bearer ${at}` });
    assert.equal(asBearer.status, 401, 'a bound token presented as a bearer token');
    assert.match(asBearer.headers.get('www-authenticate') ?? '', /invalid_token/);
    for (const [why, headers] of [
      ['no proof', { authorization: `DPoP ${at}` }],
      [
        'a proof for another URL',
        { authorization: `DPoP ${at}`, dpop: await key.proof('GET', tokenEndpoint, { accessToken: at }) },
      ],
      [
        'a proof from another key',
        {
          authorization: `DPoP ${at}`,
          dpop: await (await dpopProver()).proof('GET', userinfo, { accessToken: at }),
        },
      ],
    ] as const) {
      const res = await ask(headers);
      assert.equal(res.status, 401, why);
      assert.match(
        res.headers.get('www-authenticate') ?? '',
        /^DPoP realm="userinfo", error="invalid_dpop_proof"/,
        why,
      );
    }
  });
});
