// The Express adapter with sender-constrained tokens (RFC 9449 §7): a bound token only with the DPoP scheme
// and a proof for that very request; challenges per the API's mode (allowed: Bearer and DPoP; required: DPoP).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import express from 'express';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT } from 'jose';
import { auth, requiredScopes } from '../src/express/index.ts';
import { accessTokenHash } from '../src/index.ts';
import { startTestIssuer, type TestIssuer } from './support/test-issuer.ts';

type Key = Awaited<ReturnType<typeof makeKey>>;
async function makeKey() {
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  const jwk = await exportJWK(publicKey);
  return { privateKey, jwk, jkt: await calculateJwkThumbprint(jwk) };
}
const proof = (key: Key, htm: string, htu: string, token: string, claims: Record<string, unknown> = {}) =>
  new SignJWT({
    htm,
    htu,
    jti: randomUUID(),
    iat: Math.floor(Date.now() / 1000),
    ath: accessTokenHash(token),
    ...claims,
  })
    .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: key.jwk })
    .sign(key.privateKey);

describe('Express auth() with DPoP', () => {
  let issuer: TestIssuer;
  let base: string;
  let close: () => void;
  let key: Key;

  before(async () => {
    issuer = await startTestIssuer();
    key = await makeKey();
    const app = express();
    const options = { issuerBaseURL: issuer.issuer, audience: issuer.audience };
    app.get(
      '/allowed',
      auth({ ...options, dpop: { mode: 'allowed' } }),
      requiredScopes('read:messages'),
      (req, res) => {
        res.json({ sub: req.auth?.payload['sub'] });
      },
    );
    app.get('/required', auth({ ...options, dpop: { mode: 'required' } }), (_req, res) => {
      res.json({ ok: true });
    });
    app.get('/off', auth(options), (_req, res) => {
      res.json({ ok: true });
    });
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    close = () => server.close();
  });
  after(async () => {
    close();
    await issuer.close();
  });

  const get = async (path: string, headers: Record<string, string> = {}) => {
    const res = await fetch(`${base}${path}`, { headers });
    return {
      status: res.status,
      challenge: res.headers.get('www-authenticate') ?? '',
      body: await res.json(),
    };
  };
  const bound = (jkt = key.jkt) => issuer.mint({ scope: 'read:messages', cnf: { jkt } });

  it('takes a bound token with the DPoP scheme and a proof for this method, URL and token', async () => {
    const at = await bound();
    const res = await get('/allowed?page=2', {
      authorization: `DPoP ${at}`,
      dpop: await proof(key, 'GET', `${base}/allowed`, at),
    });
    assert.equal(res.status, 200, JSON.stringify(res));
    const scoped = await get('/allowed', {
      authorization: `DPoP ${at}`,
      dpop: await proof(key, 'GET', `${base}/allowed`, at),
    });
    assert.equal(scoped.status, 200, 'a second request with a fresh proof');
  });

  it('refuses a copied token: as a bearer one, with no proof, another key, a replayed proof, another URL or method', async () => {
    const at = await bound();
    const thief = await makeKey();
    const used = await proof(key, 'GET', `${base}/allowed`, at);
    assert.equal((await get('/allowed', { authorization: `DPoP ${at}`, dpop: used })).status, 200);
    const cases: [string, Record<string, string>, RegExp][] = [
      [
        'as a bearer token',
        { authorization: `Bearer ${at}` },
        /^DPoP realm="api", error="invalid_token", error_description="The access token is bound to a DPoP key/,
      ],
      ['without a proof', { authorization: `DPoP ${at}` }, /^DPoP realm="api", error="invalid_dpop_proof"/],
      [
        'with a proof from another key',
        { authorization: `DPoP ${at}`, dpop: await proof(thief, 'GET', `${base}/allowed`, at) },
        /invalid_dpop_proof", error_description="The DPoP proof is signed by a key the access token is not bound to/,
      ],
      ['with a replayed proof', { authorization: `DPoP ${at}`, dpop: used }, /used before/],
      [
        'with a proof for another URL',
        { authorization: `DPoP ${at}`, dpop: await proof(key, 'GET', `${base}/required`, at) },
        /another URL/,
      ],
      [
        'with a proof for another method',
        { authorization: `DPoP ${at}`, dpop: await proof(key, 'POST', `${base}/allowed`, at) },
        /another HTTP method/,
      ],
      [
        'with a proof for another token',
        { authorization: `DPoP ${at}`, dpop: await proof(key, 'GET', `${base}/allowed`, await bound()) },
        /another access token/,
      ],
    ];
    for (const [why, headers, challenge] of cases) {
      const res = await get('/allowed', headers);
      assert.equal(res.status, 401, why);
      assert.match(res.challenge, challenge, why);
      assert.match(res.challenge, /algs="ES256 /, why);
    }
  });

  it('refuses an unbound token with the DPoP scheme, and keeps bearer tokens working where DPoP is only allowed', async () => {
    const plain = await issuer.mint({ scope: 'read:messages' });
    assert.equal((await get('/allowed', { authorization: `Bearer ${plain}` })).status, 200);
    const asDpop = await get('/allowed', {
      authorization: `DPoP ${plain}`,
      dpop: await proof(key, 'GET', `${base}/allowed`, plain),
    });
    assert.equal(asDpop.status, 401);
    assert.match(
      asDpop.challenge,
      /^Bearer realm="api", error="invalid_token", error_description="The access token is not bound to a DPoP key/,
    );
  });

  it('challenges with the schemes the route takes, and keeps the scheme on a 403', async () => {
    const none = await get('/allowed');
    assert.equal(none.status, 401);
    assert.match(none.challenge, /^Bearer realm="api", DPoP realm="api", algs="ES256 [^"]+"$/);
    assert.match((await get('/required')).challenge, /^DPoP realm="api", algs="/);
    assert.equal((await get('/off')).challenge, 'Bearer realm="api"');

    const unscoped = await issuer.mint({ scope: 'openid', cnf: { jkt: key.jkt } });
    const forbidden = await get('/allowed', {
      authorization: `DPoP ${unscoped}`,
      dpop: await proof(key, 'GET', `${base}/allowed`, unscoped),
    });
    assert.equal(forbidden.status, 403);
    assert.match(forbidden.challenge, /^DPoP realm="api", error="insufficient_scope"/);
  });

  it('refuses bearer tokens where DPoP is required, and bound tokens where DPoP is off', async () => {
    const plain = await issuer.mint({ scope: 'read:messages' });
    const required = await get('/required', { authorization: `Bearer ${plain}` });
    assert.equal(required.status, 401);
    assert.match(
      required.challenge,
      /^DPoP realm="api", error="invalid_token", error_description="This API accepts only DPoP-bound access tokens/,
    );
    const at = await bound();
    assert.equal(
      (await get('/off', { authorization: `Bearer ${at}` })).status,
      401,
      'a bound token is never a bearer one',
    );
    const dpopScheme = await get('/off', {
      authorization: `DPoP ${at}`,
      dpop: await proof(key, 'GET', `${base}/off`, at),
    });
    assert.equal(dpopScheme.status, 401, 'the DPoP scheme is unknown where DPoP is off');
    assert.equal(dpopScheme.challenge, 'Bearer realm="api"');
  });
});
