// The API process with sender-constrained tokens (RFC 9449): DPOP=allowed (the default) takes DPoP-bound
// tokens with their proofs and bearer tokens, DPOP=required only the former; CORS lets the SPA send proofs.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { accessTokenHash } from '@calling-api/jwt-bearer';
import { startTestIssuer, type TestIssuer } from '@calling-api/jwt-bearer/testing';
import { type ApiProcess, startApi } from '@calling-api/testkit/api';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT } from 'jose';

describe('Messages API with DPoP', () => {
  let issuer: TestIssuer;
  let allowed: ApiProcess;
  let required: ApiProcess;
  let key: { privateKey: Parameters<SignJWT['sign']>[0]; jwk: Record<string, unknown>; jkt: string };

  before(async () => {
    issuer = await startTestIssuer();
    const env = {
      ISSUER_BASE_URL: issuer.issuer,
      AUDIENCE: issuer.audience,
      CORS_ORIGINS: 'http://localhost:3000',
    };
    [allowed, required] = await Promise.all([startApi(env), startApi({ ...env, DPOP: 'required' })]);
    await Promise.all([
      allowed.waitForLog(/signing keys loaded/),
      required.waitForLog(/signing keys loaded/),
    ]);
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    const jwk = await exportJWK(publicKey);
    key = { privateKey, jwk, jkt: await calculateJwkThumbprint(jwk) };
  });
  after(async () => {
    await allowed.stop();
    await required.stop();
    await issuer.close();
  });

  const proof = (htm: string, htu: string, token: string) =>
    new SignJWT({
      htm,
      htu,
      jti: randomUUID(),
      iat: Math.floor(Date.now() / 1000),
      ath: accessTokenHash(token),
    })
      .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: key.jwk })
      .sign(key.privateKey);

  it('answers a bound token with its proof, on each route and method, and posts as its owner', async () => {
    const token = await issuer.mint({
      sub: 'auth0|dee',
      scope: 'read:messages write:messages',
      cnf: { jkt: key.jkt },
    });
    const scoped = await fetch(`${allowed.url}/api/private-scoped`, {
      headers: {
        authorization: `DPoP ${token}`,
        dpop: await proof('GET', `${allowed.url}/api/private-scoped`, token),
      },
    });
    assert.equal(scoped.status, 200);
    const posted = await fetch(`${allowed.url}/api/messages`, {
      method: 'POST',
      headers: {
        authorization: `DPoP ${token}`,
        dpop: await proof('POST', `${allowed.url}/api/messages`, token),
        'content-type': 'application/json',
      },
      body: JSON.stringify({ text: 'bound' }),
    });
    assert.equal(posted.status, 201);
    assert.equal(((await posted.json()) as { owner: string }).owner, 'auth0|dee');
    const bearer = await fetch(`${allowed.url}/api/private`, {
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(bearer.status, 401, 'never as a bearer token');
  });

  it('keeps bearer tokens where DPoP is allowed, refuses them where it is required', async () => {
    const plain = await issuer.mint({ scope: 'read:messages' });
    assert.equal(
      (await fetch(`${allowed.url}/api/private`, { headers: { authorization: `Bearer ${plain}` } })).status,
      200,
    );
    const refused = await fetch(`${required.url}/api/private`, {
      headers: { authorization: `Bearer ${plain}` },
    });
    assert.equal(refused.status, 401);
    assert.match(
      refused.headers.get('www-authenticate') ?? '',
      /^DPoP realm="api", error="invalid_token", .*algs="ES256 /,
    );
    const none = await fetch(`${required.url}/api/private`);
    assert.match(none.headers.get('www-authenticate') ?? '', /^DPoP realm="api", algs="/);
  });

  it('lets the app send a proof across origins and read the server nonce and the challenge (CORS)', async () => {
    const preflight = await fetch(`${allowed.url}/api/private`, {
      method: 'OPTIONS',
      headers: {
        origin: 'http://localhost:3000',
        'access-control-request-method': 'GET',
        'access-control-request-headers': 'authorization,dpop',
      },
    });
    assert.equal(preflight.status, 204);
    assert.match(preflight.headers.get('access-control-allow-headers') ?? '', /\bDPoP\b/);
    const answer = await fetch(`${allowed.url}/api/private`, {
      headers: { origin: 'http://localhost:3000' },
    });
    const exposed = answer.headers.get('access-control-expose-headers') ?? '';
    assert.match(exposed, /WWW-Authenticate/);
    assert.match(exposed, /DPoP-Nonce/);
  });
});
