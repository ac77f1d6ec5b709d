import assert from 'node:assert/strict';
import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import express from 'express';
import { auth, claimCheck, requiredPermissions, requiredScopes } from '../src/express/index.ts';
import { startTestIssuer, type TestIssuer } from './support/test-issuer.ts';

describe('Express middleware auth()', () => {
  let issuer: TestIssuer;
  let base: string;
  let close: () => void;

  before(async () => {
    issuer = await startTestIssuer();
    const app = express();
    app.use(express.urlencoded({ extended: false }));
    const checkJwt = auth({ issuerBaseURL: issuer.issuer, audience: issuer.audience });
    app.get('/private', checkJwt, (req, res) => {
      res.json({ sub: req.auth?.payload['sub'] });
    });
    app.post('/form', checkJwt, (req, res) => {
      res.json({ sub: req.auth?.payload['sub'] });
    });
    app.get('/scoped', checkJwt, requiredScopes('read:messages'), (_req, res) => {
      res.json({ ok: true });
    });
    app.get('/perm', checkJwt, requiredPermissions('write:messages'), (_req, res) => {
      res.json({ ok: true });
    });
    const optional = auth({ issuerBaseURL: issuer.issuer, audience: issuer.audience, authRequired: false });
    app.get('/optional', optional, (req, res) => {
      res.json({ sub: req.auth?.payload['sub'] ?? null });
    });
    app.get(
      '/async-check',
      checkJwt,
      claimCheck((() => Promise.resolve(true)) as unknown as () => boolean),
      (_req, res) => {
        res.json({ ok: true });
      },
    );
    // Some frameworks and tests build requests without Express's originalUrl.
    app.get(
      '/no-original-url',
      (req, _res, next) => {
        Object.defineProperty(req, 'originalUrl', { value: undefined });
        next();
      },
      checkJwt,
      (req, res) => {
        res.json({ sub: req.auth?.payload['sub'] });
      },
    );
    const ownShape = auth({
      issuerBaseURL: issuer.issuer,
      audience: issuer.audience,
      realm: 'own',
      errorBody: (error) => ({ statusCode: error.status, message: error.description }),
    });
    app.get('/own-shape', ownShape, requiredScopes('read:messages'), (_req, res) => {
      res.json({ ok: true });
    });
    app.get(
      '/from-env',
      auth({ env: { ISSUER_BASE_URL: issuer.issuer, AUDIENCE: 'other' } }),
      (_req, res) => {
        res.json({ ok: true });
      },
    );
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    close = () => server.close();
  });
  after(async () => {
    close();
    await issuer.close();
  });

  const call = (path: string, init: RequestInit = {}) => fetch(`${base}${path}`, init);
  const bearer = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });

  it('passes a valid token and exposes its claims on req.auth', async () => {
    const res = await call('/private', bearer(await issuer.mint({ sub: 'u1' })));
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { sub: 'u1' });
  });

  it('answers 401 with a bare challenge when no credentials are sent', async () => {
    const res = await call('/private');
    assert.equal(res.status, 401);
    assert.equal(res.headers.get('www-authenticate'), 'Bearer realm="api"');
    assert.equal(((await res.json()) as { error: string }).error, 'unauthorized');
  });

  it('answers 401 invalid_token for a forged token', async () => {
    const res = await call('/private', bearer(await issuer.mint({}, { signWith: 'attacker' })));
    assert.equal(res.status, 401);
    assert.match(
      res.headers.get('www-authenticate')!,
      /^Bearer realm="api", error="invalid_token", error_description="[^"]+"$/,
    );
    assert.deepEqual(await res.json(), {
      error: 'invalid_token',
      error_description: 'The access token signature is invalid.',
    });
  });

  it('answers 400 invalid_request for a token in the query or two credentials', async () => {
    const token = await issuer.mint();
    for (const res of [
      await call(`/private?access_token=${token}`),
      await call(`/private?access_token=${token}`, bearer(token)),
      await call('/form', {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-www-form-urlencoded' },
        body: `access_token=${token}`,
      }),
    ]) {
      assert.equal(res.status, 400);
      assert.match(res.headers.get('www-authenticate')!, /^Bearer realm="api", error="invalid_request"/);
      assert.equal(((await res.json()) as { error: string }).error, 'invalid_request');
    }
  });

  it('answers 400 invalid_request for two Authorization headers (Node keeps only the first in req.headers)', async () => {
    const token = await issuer.mint();
    const { port } = new URL(base);
    const status = await new Promise<number | undefined>((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port,
          path: '/private',
          headers: ['Authorization', `Bearer ${token}`, 'Authorization', 'Bearer other'],
        },
        (res) => {
          res.resume();
          resolve(res.statusCode);
        },
      );
      req.on('error', reject);
      req.end();
    });
    assert.equal(status, 400);
  });

  it('accepts a form-body token on POST (RFC 6750 §2.2)', async () => {
    const res = await call('/form', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `access_token=${await issuer.mint({ sub: 'form-user' })}`,
    });
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { sub: 'form-user' });
  });

  it('answers 403 insufficient_scope with the missing scope named', async () => {
    const res = await call('/scoped', bearer(await issuer.mint({ scope: 'openid profile' })));
    assert.equal(res.status, 403);
    assert.match(res.headers.get('www-authenticate')!, /error="insufficient_scope".*scope="read:messages"/);
    assert.equal(((await res.json()) as { error: string }).error, 'insufficient_scope');
    const ok = await call('/scoped', bearer(await issuer.mint({ scope: 'read:messages' })));
    assert.equal(ok.status, 200);
  });

  it('checks permissions from the permissions claim', async () => {
    const denied = await call('/perm', bearer(await issuer.mint({ permissions: ['read:messages'] })));
    assert.equal(denied.status, 403);
    const allowed = await call('/perm', bearer(await issuer.mint({ permissions: ['write:messages'] })));
    assert.equal(allowed.status, 200);
  });

  it('with authRequired false, lets a request without credentials through and still refuses bad ones', async () => {
    const anonymous = await call('/optional');
    assert.equal(anonymous.status, 200);
    assert.deepEqual(await anonymous.json(), { sub: null });
    const signedIn = await call('/optional', bearer(await issuer.mint({ sub: 'u2' })));
    assert.deepEqual(await signedIn.json(), { sub: 'u2' });
    const forged = await call('/optional', bearer(await issuer.mint({}, { signWith: 'attacker' })));
    assert.equal(forged.status, 401);
    const malformed = await call('/optional', { headers: { authorization: 'Bearer a b' } });
    assert.equal(malformed.status, 400);
  });

  it('refuses with 403 when a claim check answers a Promise (not a yes)', async () => {
    const res = await call('/async-check', bearer(await issuer.mint()));
    assert.equal(res.status, 403);
    assert.equal(((await res.json()) as { error: string }).error, 'insufficient_scope');
  });

  it('verifies a request that has no originalUrl instead of failing with a 500', async () => {
    const res = await call('/no-original-url', bearer(await issuer.mint({ sub: 'u3' })));
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { sub: 'u3' });
    const refused = await call('/no-original-url?access_token=x', bearer(await issuer.mint()));
    assert.equal(refused.status, 400, 'a query token is still seen through req.url');
  });

  it("renders refusals in another API's error shape with errorBody, the challenge unchanged", async () => {
    const missing = await call('/own-shape');
    assert.equal(missing.status, 401);
    assert.equal(missing.headers.get('www-authenticate'), 'Bearer realm="own"');
    assert.deepEqual(await missing.json(), {
      statusCode: 401,
      message: 'An Authorization header with a Bearer access token is required.',
    });
    const scoped = await call('/own-shape', bearer(await issuer.mint({ scope: 'openid' })));
    assert.equal(scoped.status, 403);
    assert.match(scoped.headers.get('www-authenticate')!, /^Bearer realm="own", error="insufficient_scope"/);
    assert.deepEqual(await scoped.json(), {
      statusCode: 403,
      message: 'The access token lacks the required scope: read:messages.',
    });
    const plain = await call('/scoped', bearer(await issuer.mint({ scope: 'openid' })));
    assert.equal(
      ((await plain.json()) as { error: string }).error,
      'insufficient_scope',
      'other routes keep theirs',
    );
  });

  it('reads its configuration from the environment when options lack it', async () => {
    const res = await call('/from-env', bearer(await issuer.mint()));
    assert.equal(res.status, 401, 'AUDIENCE "other" does not match the token');
    assert.throws(() => auth({ env: {} }), /ISSUER_BASE_URL/);
    assert.throws(() => auth({ env: { AUTH0_DOMAIN: 'tenant.auth0.com' } }), /AUTH0_AUDIENCE/);
    const tenant = auth({ env: { AUTH0_DOMAIN: 'tenant.eu.auth0.com', AUTH0_AUDIENCE: 'https://api' } });
    assert.equal(tenant.verifier.keySet.issuer, undefined, 'the issuer comes from discovery');
  });
});
