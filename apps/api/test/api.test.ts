// The real API process over HTTP, against a real local issuer: what a user or an attacker sees.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { startTestIssuer, type TestIssuer } from '@calling-api/jwt-bearer/testing';
import { type ApiProcess, startApi } from '@calling-api/testkit/api';

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

type Body = { error?: string; error_description?: string; [key: string]: unknown };

describe('Messages API over HTTP', () => {
  let issuer: TestIssuer;
  let api: ApiProcess;
  const statuses: number[] = [];
  const minted: string[] = [];

  const mint = async (...args: Parameters<TestIssuer['mint']>) => {
    const token = await issuer.mint(...args);
    minted.push(token);
    return token;
  };
  const call = async (path: string, init: RequestInit & { token?: string } = {}) => {
    const headers = new Headers(init.headers);
    if (init.token !== undefined) headers.set('authorization', `Bearer ${init.token}`);
    const res = await fetch(`${api.url}${path}`, { ...init, headers });
    statuses.push(res.status);
    const text = await res.text();
    assert.match(res.headers.get('content-type') ?? '', /application\/json/, `${path} answered ${text}`);
    return { status: res.status, headers: res.headers, body: JSON.parse(text) as Body };
  };
  const expectInvalidToken = async (token: string, why: string) => {
    const res = await call('/api/private', { token });
    assert.equal(res.status, 401, why);
    assert.match(
      res.headers.get('www-authenticate') ?? '',
      /^Bearer realm="api", error="invalid_token", error_description="[^"]+"$/,
      why,
    );
    assert.equal(res.body.error, 'invalid_token', why);
    assert.equal(typeof res.body.error_description, 'string');
    return res;
  };

  before(async () => {
    issuer = await startTestIssuer();
    api = await startApi({
      ISSUER_BASE_URL: issuer.issuer,
      AUDIENCE: issuer.audience,
      CORS_ORIGINS: 'http://localhost:3000',
      JWKS_COOLDOWN_MS: '300',
    });
    await api.waitForLog(/signing keys loaded/);
  });
  after(async () => {
    assert.equal(await api.stop(), 0, 'graceful shutdown exits 0');
    await issuer.close();
  });

  it('GET /api/public answers without a token', async () => {
    const res = await call('/api/public');
    assert.equal(res.status, 200);
    assert.equal(
      res.body['message'],
      "Hello from a public endpoint! You don't need to be authenticated to see this.",
    );
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff', 'helmet headers are set');
    assert.equal(res.headers.get('x-powered-by'), null);
    assert.equal(res.headers.get('content-security-policy'), "default-src 'none';frame-ancestors 'none'");
    assert.equal(res.headers.get('x-frame-options'), 'DENY');
    assert.equal(res.headers.get('cross-origin-resource-policy'), 'same-origin');
    assert.equal(res.headers.get('referrer-policy'), 'no-referrer');
    assert.equal(res.headers.get('x-xss-protection'), null, 'document-only headers are not sent');
  });

  it('GET /api/private answers a valid token with the caller', async () => {
    const res = await call('/api/private', { token: await mint({ sub: 'auth0|carol', scope: 'openid' }) });
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, {
      message: 'Hello from a private endpoint! You need to be authenticated to see this.',
      sub: 'auth0|carol',
      scope: 'openid',
    });
    assert.equal(res.headers.get('cache-control'), 'no-store');
  });

  it('GET /healthz is 200 once keys are loaded', async () => {
    const res = await call('/healthz');
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, { status: 'ok' });
  });

  it('answers 401 with bare challenges for both schemes it takes when no token is sent', async () => {
    for (const headers of [{}, { authorization: 'Basic YWxpY2U6cHc=' }]) {
      const res = await call('/api/private', { headers });
      assert.equal(res.status, 401);
      assert.equal(
        res.headers.get('www-authenticate'),
        'Bearer realm="api", DPoP realm="api", algs="ES256 ES384 ES512 PS256 PS384 PS512 RS256 EdDSA Ed25519"',
      );
      assert.equal(res.body.error, 'unauthorized');
    }
  });

  it('refuses every forged, broken or misdirected token with 401 invalid_token', async () => {
    const now = Math.floor(Date.now() / 1000);
    const [h, p, s] = (await mint({ scope: 'openid' })).split('.');
    const claims = JSON.parse(Buffer.from(p!, 'base64url').toString());
    const tampered = `${h}.${Buffer.from(JSON.stringify({ ...claims, scope: 'read:messages' })).toString('base64url')}.${s}`;
    const cases: [string, string][] = [
      [await mint({}, { alg: 'none' }), 'alg none'],
      [await mint({}, { alg: 'HS256' }), 'HMAC signed with the public key'],
      [await mint({}, { signWith: 'attacker' }), 'attacker key with a known kid'],
      [await mint({}, { signWith: 'attacker', kid: randomUUID() }), 'unknown kid'],
      [
        await mint({}, { signWith: 'attacker', header: { jwk: issuer.publicJwks().keys[0] } }),
        'embedded jwk',
      ],
      [await mint({ exp: now - 60, iat: now - 700 }), 'expired'],
      [await mint({ nbf: now + 3600 }), 'not yet valid'],
      [await mint({ iss: 'https://evil.example/' }), 'wrong issuer'],
      [await mint({ aud: 'https://other.example/api' }), 'wrong audience'],
      [await mint({}, { typ: null }), 'missing typ'],
      [await mint({}, { typ: 'JWT' }), 'typ JWT (an ID token is not an access token)'],
      [await mint({}, { omit: ['sub'] }), 'missing sub'],
      [tampered, 'tampered payload'],
      [
        `${b64({ alg: 'RS256\r\nSet-Cookie: a=1', typ: 'at+jwt' })}.${p}.${s}`,
        'alg with CRLF (header injection)',
      ],
      [`${b64({ alg: 'RS256', typ: 'at+jwt\u2028é"' })}.${p}.${s}`, 'typ with non-ASCII and a quote'],
      ['not-a-jwt', 'malformed'],
      ['eyJhbGciOiJSUzI1NiJ9.e30.c2ln', 'malformed header'],
      [`${h}.${'A'.repeat(9000)}.${s}`, 'oversized'],
    ];
    for (const [token, why] of cases) {
      const res = await expectInvalidToken(token, why);
      if (why === 'expired') assert.match(res.body.error_description!, /expired/);
    }
  });

  it('answers 400 invalid_request for a token in the query, two credentials, or bad syntax', async () => {
    const token = await mint();
    const requests: [string, RequestInit][] = [
      [`/api/private?access_token=${token}`, {}],
      [`/api/private?access_token=${token}`, { headers: { authorization: `Bearer ${token}` } }],
      ['/api/private', { headers: { authorization: 'Bearer abc def' } }],
      ['/api/private', { headers: { authorization: 'Bearer "abc"' } }],
    ];
    for (const [path, init] of requests) {
      const res = await call(path, init);
      assert.equal(res.status, 400, path);
      assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer realm="api", error="invalid_request"/);
      assert.equal(res.body.error, 'invalid_request');
    }
  });

  it('answers 403 insufficient_scope naming the scope /api/private-scoped needs', async () => {
    const res = await call('/api/private-scoped', { token: await mint({ scope: 'openid profile' }) });
    assert.equal(res.status, 403);
    assert.match(
      res.headers.get('www-authenticate') ?? '',
      /^Bearer realm="api", error="insufficient_scope", error_description="[^"]+", scope="read:messages"$/,
    );
    assert.equal(res.body.error, 'insufficient_scope');
    const ok = await call('/api/private-scoped', {
      token: await mint({ scope: 'read:messages', sub: 'bob' }),
    });
    assert.equal(ok.status, 200);
    assert.equal(
      ok.body['message'],
      'Hello from a private endpoint! You need to be authenticated and have a scope of read:messages to see this.',
    );
    assert.equal(ok.body['sub'], 'bob');
  });

  describe('messages', () => {
    let alice: string;
    let bob: string;
    let carol: string;
    before(async () => {
      alice = await mint({ sub: 'auth0|alice', scope: 'openid read:messages write:messages' });
      bob = await mint({ sub: 'auth0|bob', scope: 'openid read:messages' });
      carol = await mint({ sub: 'auth0|carol', scope: 'openid' });
    });
    const post = (token: string, body: string, contentType = 'application/json') =>
      call('/api/messages', { method: 'POST', token, headers: { 'content-type': contentType }, body });

    it('stores a message owned by the caller and answers 201 with it', async () => {
      const res = await post(alice, JSON.stringify({ text: 'Hello, Bob!' }));
      assert.equal(res.status, 201);
      assert.equal(res.body['text'], 'Hello, Bob!');
      assert.equal(res.body['sub'], 'auth0|alice');
      assert.equal(typeof res.body['id'], 'number');
      assert.ok(!Number.isNaN(Date.parse(String(res.body['createdAt']))));
    });

    it("lists only the caller's own messages", async () => {
      const mine = await call('/api/messages', { token: alice });
      assert.equal(mine.status, 200);
      assert.equal(mine.body['sub'], 'auth0|alice');
      const texts = (mine.body['messages'] as { text: string; owner: string }[]).map((m) => m.text);
      assert.ok(texts.includes('Hello, Bob!'));
      const theirs = await call('/api/messages', { token: bob });
      assert.equal(theirs.status, 200);
      assert.deepEqual(theirs.body['messages'], []);
    });

    it('needs write:messages to post and read:messages to list', async () => {
      const denied = await post(bob, JSON.stringify({ text: 'hi' }));
      assert.equal(denied.status, 403);
      assert.match(denied.headers.get('www-authenticate') ?? '', /scope="write:messages"/);
      const unread = await call('/api/messages', { token: carol });
      assert.equal(unread.status, 403);
      assert.match(unread.headers.get('www-authenticate') ?? '', /scope="read:messages"/);
      const anonymous = await call('/api/messages', { method: 'POST', body: '{"text":"x"}' });
      assert.equal(anonymous.status, 401);
    });

    it('refuses bad bodies with a 4xx JSON error, never a 5xx', async () => {
      const cases: [string, string, number][] = [
        ['{"text": "unterminated', 'application/json', 400],
        ['{}', 'application/json', 400],
        ['{"text": ""}', 'application/json', 400],
        ['{"text": "   "}', 'application/json', 400],
        [JSON.stringify({ text: 'x'.repeat(501) }), 'application/json', 400],
        ['{"text": 42}', 'application/json', 400],
        ['{"text": "hi", "owner": "auth0|bob"}', 'application/json', 400],
        ['"just a string"', 'application/json', 400],
        ['[]', 'application/json', 400],
        ['null', 'application/json', 400],
        ['text=hi', 'application/x-www-form-urlencoded', 415],
        [JSON.stringify({ text: 'x'.repeat(20_000) }), 'application/json', 413],
      ];
      for (const [body, type, status] of cases) {
        const res = await post(alice, body, type);
        assert.equal(res.status, status, body.slice(0, 40));
        assert.equal(typeof res.body.error, 'string');
        assert.equal(typeof res.body.error_description, 'string');
      }
      const exactly500 = await post(alice, JSON.stringify({ text: 'é'.repeat(500) }));
      assert.equal(exactly500.status, 201);
    });
  });

  describe('pages and single messages', () => {
    let writer: string;
    let other: string;
    before(async () => {
      writer = await mint({ sub: 'auth0|pager', scope: 'read:messages write:messages' });
      other = await mint({ sub: 'auth0|other', scope: 'read:messages write:messages' });
    });
    const post = (token: string, text: string) =>
      call('/api/messages', {
        method: 'POST',
        token,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ text }),
      });

    it('pages through 250 messages, newest first, each exactly once, by next and by the Link header', async () => {
      const posted: number[] = [];
      for (let i = 0; i < 250; i++) posted.push((await post(writer, `message ${i}`)).body['id'] as number);
      const expected = [...posted].reverse();

      const byBody: number[] = [];
      let path: string | null = '/api/messages?limit=100';
      let pages = 0;
      while (path !== null) {
        const page = await call(path, { token: writer });
        assert.equal(page.status, 200);
        const messages = page.body['messages'] as { id: number; text: string; owner: string }[];
        assert.ok(messages.length <= 100);
        assert.ok(messages.every((m) => m.owner === 'auth0|pager'));
        byBody.push(...messages.map((m) => m.id));
        const next = page.body['next'] as string | null;
        const link = page.headers.get('link');
        if (next === null) assert.equal(link, null, 'no Link on the last page');
        else assert.equal(link, `</api/messages?limit=100&cursor=${next}>; rel="next"`);
        path = next === null ? null : `/api/messages?limit=100&cursor=${encodeURIComponent(next)}`;
        pages++;
      }
      assert.equal(pages, 3);
      assert.deepEqual(byBody, expected, 'every message once, in order');

      const byLink: number[] = [];
      let url: string | null = `${api.url}/api/messages?limit=7`;
      while (url !== null) {
        const res = await fetch(url, { headers: { authorization: `Bearer ${writer}` } });
        byLink.push(...((await res.json()) as { messages: { id: number }[] }).messages.map((m) => m.id));
        const link = /^<([^>]+)>; rel="next"$/.exec(res.headers.get('link') ?? '');
        url = link ? new URL(link[1]!, url).href : null;
      }
      assert.deepEqual(byLink, expected, 'a client that only follows Link sees the same');
      const first = await call('/api/messages', { token: writer });
      assert.equal((first.body['messages'] as unknown[]).length, 100, 'at most 100 without a limit');
    });

    it('refuses a bad limit or cursor with 400 invalid_request', async () => {
      for (const query of [
        'limit=0',
        'limit=101',
        'limit=ten',
        'limit=2.5',
        'cursor=abc',
        'cursor=YmVmb3JlOjA',
      ]) {
        const res = await call(`/api/messages?${query}`, { token: writer });
        assert.equal(res.status, 400, query);
        assert.equal(res.body.error, 'invalid_request', query);
        assert.match(res.body.error_description!, /limit|cursor/, query);
      }
    });

    it("reads and deletes the caller's own message; someone else's id is 404, as if it did not exist", async () => {
      const id = (await post(writer, 'mine')).body['id'] as number;
      const read = await call(`/api/messages/${id}`, { token: writer });
      assert.equal(read.status, 200);
      assert.equal(read.body['text'], 'mine');
      for (const method of ['GET', 'DELETE']) {
        const foreign = await call(`/api/messages/${id}`, { method, token: other });
        assert.equal(foreign.status, 404, method);
        assert.deepEqual(foreign.body, { error: 'not_found', error_description: 'No message with this id.' });
      }
      const missing = await call('/api/messages/999999999', { token: writer });
      assert.deepEqual(
        missing.body,
        (await call(`/api/messages/${id}`, { token: other })).body,
        'no difference',
      );
      for (const bad of ['abc', '0', '-1', '1e3', `${'9'.repeat(30)}`]) {
        assert.equal((await call(`/api/messages/${bad}`, { token: writer })).status, 404, bad);
      }
      const deleted = await fetch(`${api.url}/api/messages/${id}`, {
        method: 'DELETE',
        headers: { authorization: `Bearer ${writer}` },
      });
      assert.equal(deleted.status, 204);
      assert.equal((await call(`/api/messages/${id}`, { token: writer })).status, 404);
      assert.equal((await call(`/api/messages/${id}`, { method: 'DELETE', token: writer })).status, 404);
      assert.equal((await call(`/api/messages/${id}`, { method: 'PUT', token: writer })).status, 405);
    });

    it('needs read:messages to read one and write:messages to delete one', async () => {
      const id = (await post(writer, 'scoped')).body['id'] as number;
      const reader = await mint({ sub: 'auth0|pager', scope: 'read:messages' });
      const denied = await call(`/api/messages/${id}`, { method: 'DELETE', token: reader });
      assert.equal(denied.status, 403);
      assert.match(denied.headers.get('www-authenticate') ?? '', /scope="write:messages"/);
      const none = await mint({ sub: 'auth0|pager', scope: 'openid' });
      assert.equal((await call(`/api/messages/${id}`, { token: none })).status, 403);
      assert.equal((await call(`/api/messages/${id}`)).status, 401);
    });
  });

  it('logs one line per request: path without query, caller when verified, refusal code, never a token', async () => {
    const token = await mint({ sub: 'auth0|logged', client_id: 'logged-client', scope: 'read:messages' });
    const jwtShaped = await mint({ sub: 'in-a-path' });
    await call('/api/private?page=2', { token });
    const encodedName = await call(`/api/private?access%5Ftoken=${jwtShaped}`);
    assert.equal(encodedName.status, 400, 'a token under an encoded parameter name is still a query token');
    assert.equal(encodedName.body.error, 'invalid_request');
    await call(`/api/messages/${jwtShaped}`, { token });
    await call(`/no-route/${jwtShaped.replaceAll('.', '%2E')}/x`);
    const lines = async (pattern: RegExp, count: number) => {
      const deadline = Date.now() + 5000;
      for (;;) {
        const found = api.logs
          .filter((l) => pattern.test(l))
          .map((l) => JSON.parse(l) as Record<string, unknown>);
        if (found.length >= count || Date.now() > deadline) return found;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    };
    const [verified] = await lines(
      /"sub":"auth0\|logged".*"path":"\/api\/private"|"path":"\/api\/private".*"sub":"auth0\|logged"/,
      1,
    );
    assert.deepEqual(
      { ...verified, time: undefined, ms: undefined, level: undefined },
      {
        service: 'api',
        method: 'GET',
        path: '/api/private',
        status: 200,
        sub: 'auth0|logged',
        client_id: 'logged-client',
        msg: 'request',
        time: undefined,
        ms: undefined,
        level: undefined,
      },
    );
    assert.equal(typeof verified!['ms'], 'number');
    const refusal = (await lines(/"refusal":"ERR_BEARER_QUERY_REFUSED"/, 1))[0]!;
    assert.equal(refusal['status'], 400);
    assert.equal(refusal['path'], '/api/private');
    assert.ok(
      (await lines(/"path":"\/api\/messages\/\[token\]"/, 1)).length > 0,
      'a JWT in a path segment is masked',
    );
    assert.ok((await lines(/"path":"\/no-route\/\[token\]\/x"/, 1)).length > 0, 'also percent-encoded');
    const requestLines = api.logs.filter((l) => l.includes('"msg":"request"'));
    assert.ok(
      requestLines.every((l) => !/"path":"[^"]*\?/.test(l)),
      'no query in any logged path',
    );
    assert.ok(
      api.logs.every((l) => !/"stack"|\n\s+at /.test(l)),
      'no stack trace',
    );
  });

  it('answers an unknown route with 404 JSON and a wrong method with 405', async () => {
    const missing = await call('/api/nothing-here');
    assert.equal(missing.status, 404);
    assert.equal(missing.body.error, 'not_found');
    const wrong = await call('/api/messages', { method: 'DELETE' });
    assert.equal(wrong.status, 405);
    assert.equal(wrong.headers.get('allow'), 'GET, POST');
  });

  it('allows CORS only for the configured SPA origin, and exposes WWW-Authenticate', async () => {
    const preflight = await fetch(`${api.url}/api/private`, {
      method: 'OPTIONS',
      headers: {
        origin: 'http://localhost:3000',
        'access-control-request-method': 'GET',
        'access-control-request-headers': 'authorization',
      },
    });
    assert.equal(preflight.status, 204);
    assert.equal(preflight.headers.get('access-control-allow-origin'), 'http://localhost:3000');
    assert.match(preflight.headers.get('access-control-allow-headers') ?? '', /Authorization/);
    const actual = await fetch(`${api.url}/api/private`, { headers: { origin: 'http://localhost:3000' } });
    assert.match(actual.headers.get('access-control-expose-headers') ?? '', /WWW-Authenticate/);
    const evil = await fetch(`${api.url}/api/private`, { headers: { origin: 'https://evil.example' } });
    assert.equal(evil.headers.get('access-control-allow-origin'), null);
  });

  it('keeps serving known keys when the JWKS endpoint goes down after warm-up', async () => {
    issuer.setMode('error');
    try {
      const res = await call('/api/private', { token: await mint({ sub: 'during-outage' }) });
      assert.equal(res.status, 200);
      await expectInvalidToken(await mint({}, { kid: randomUUID() }), 'unknown kid during the outage');
    } finally {
      issuer.setMode('up');
    }
  });

  it('follows a key rotation with one JWKS fetch', async () => {
    await new Promise((resolve) => setTimeout(resolve, 350)); // let the refetch cooldown pass
    const before = issuer.counts.jwks;
    await issuer.rotate();
    const res = await call('/api/private', { token: await mint({ sub: 'after-rotation' }) });
    assert.equal(res.status, 200);
    assert.equal(issuer.counts.jwks, before + 1);
  });

  it('keeps JWKS fetches bounded under a spray of random kids (at most one per cooldown)', async () => {
    await new Promise((resolve) => setTimeout(resolve, 350));
    const before = issuer.counts.jwks;
    const tokens = await Promise.all(Array.from({ length: 150 }, () => mint({}, { kid: randomUUID() })));
    const started = Date.now();
    const results = await Promise.all(tokens.map((token) => call('/api/private', { token })));
    const allowed = 1 + Math.floor((Date.now() - started) / 300); // JWKS_COOLDOWN_MS is 300 here
    assert.ok(results.every((r) => r.status === 401));
    const fetched = issuer.counts.jwks - before;
    assert.ok(fetched <= allowed, `${fetched} JWKS fetches for 150 random kids (bound ${allowed})`);
  });

  it('never answered a 5xx and never logged a token', async () => {
    const logged = () => api.logs.filter((l) => l.includes('"msg":"request"')).length;
    for (let waited = 0; logged() < statuses.length && waited < 3000; waited += 50) {
      await new Promise((resolve) => setTimeout(resolve, 50)); // lines reach stdout in batches
    }
    assert.ok(statuses.length > 50);
    assert.deepEqual(
      statuses.filter((s) => s >= 500),
      [],
    );
    const secrets = minted.flatMap((t) => t.split('.')).filter((part) => part.length > 20);
    const leaked = api.logs.filter((line) => /eyJ/.test(line) || secrets.some((part) => line.includes(part)));
    assert.deepEqual(leaked, []);
    assert.ok(
      logged() >= statuses.length,
      `one line per request: ${logged()} lines, ${statuses.length} requests`,
    );
  });
});
