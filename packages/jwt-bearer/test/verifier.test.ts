import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { CompactSign, exportJWK, exportPKCS8, exportSPKI, generateKeyPair } from 'jose';
import {
  BearerConfigError,
  type BearerErrorCode,
  createVerifier,
  InvalidTokenError,
  KeySetUnavailableError,
  type VerifierOptions,
} from '../src/index.ts';
import { startTestIssuer, type TestIssuer } from './support/test-issuer.ts';

async function rejection(promise: Promise<unknown>): Promise<BearerErrorCode> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof InvalidTokenError || error instanceof KeySetUnavailableError, String(error));
    return error.code;
  }
  assert.fail('expected the token to be refused');
}

describe('createVerifier against a real local issuer', () => {
  let issuer: TestIssuer;
  const make = (options: Partial<VerifierOptions> = {}) =>
    createVerifier({ issuerBaseURL: issuer.issuer, audience: issuer.audience, ...options });

  before(async () => {
    issuer = await startTestIssuer();
  });
  after(() => issuer.close());

  it('accepts a valid token and returns its claims', async () => {
    const verifier = make();
    const { payload, header } = await verifier.verify(await issuer.mint({ sub: 'user-42' }));
    assert.equal(payload['sub'], 'user-42');
    assert.equal(header['typ'], 'at+jwt');
    assert.equal(verifier.issuer, issuer.issuer);
  });

  it('refuses alg none, HMAC signed with the public key, and an attacker key with a known kid', async () => {
    const verifier = make();
    assert.equal(
      await rejection(verifier.verify(await issuer.mint({}, { alg: 'none' }))),
      'ERR_TOKEN_ALG_NOT_ALLOWED',
    );
    assert.equal(
      await rejection(verifier.verify(await issuer.mint({}, { alg: 'HS256' }))),
      'ERR_TOKEN_ALG_NOT_ALLOWED',
    );
    assert.equal(
      await rejection(verifier.verify(await issuer.mint({}, { signWith: 'attacker' }))),
      'ERR_TOKEN_SIGNATURE',
    );
  });

  it('refuses a token that embeds its own key (jwk) or points at one (jku)', async () => {
    const verifier = make();
    const jwk = issuer.publicJwks().keys[0];
    assert.equal(
      await rejection(verifier.verify(await issuer.mint({}, { signWith: 'attacker', header: { jwk } }))),
      'ERR_TOKEN_UNTRUSTED_KEY_HEADER',
    );
    assert.equal(
      await rejection(
        verifier.verify(await issuer.mint({}, { header: { jku: 'https://evil.example/jwks' } })),
      ),
      'ERR_TOKEN_UNTRUSTED_KEY_HEADER',
    );
  });

  it('refuses expired, not-yet-valid, wrong-issuer and wrong-audience tokens', async () => {
    const verifier = make();
    const now = Math.floor(Date.now() / 1000);
    const cases: [Record<string, unknown>, BearerErrorCode][] = [
      [{ exp: now - 60, iat: now - 700 }, 'ERR_TOKEN_EXPIRED'],
      [{ nbf: now + 3600 }, 'ERR_TOKEN_NOT_YET_VALID'],
      [{ iss: 'https://evil.example/' }, 'ERR_TOKEN_ISSUER'],
      [{ iss: `${issuer.issuer}/` }, 'ERR_TOKEN_ISSUER'],
      [{ aud: 'https://other-api.example' }, 'ERR_TOKEN_AUDIENCE'],
    ];
    for (const [claims, expected] of cases) {
      assert.equal(
        await rejection(verifier.verify(await issuer.mint(claims))),
        expected,
        JSON.stringify(claims),
      );
    }
    assert.equal(
      verifier.metrics.signatureChecks,
      0,
      'claim failures are refused before any signature check',
    );
  });

  it('refuses a token without typ, with typ JWT, or without sub', async () => {
    const verifier = make();
    assert.equal(await rejection(verifier.verify(await issuer.mint({}, { typ: null }))), 'ERR_TOKEN_TYP');
    assert.equal(await rejection(verifier.verify(await issuer.mint({}, { typ: 'JWT' }))), 'ERR_TOKEN_TYP');
    assert.equal(
      await rejection(verifier.verify(await issuer.mint({}, { omit: ['sub'] }))),
      'ERR_TOKEN_CLAIM_MISSING',
    );
  });

  it('refuses a re-spelled signature: unused low bits of the last base64url character set (RFC 4648 §3.5)', async () => {
    const verifier = make();
    const token = await issuer.mint();
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    // A 256-byte RS256 signature is 342 characters: the last one carries 4 unused bits.
    const last = alphabet.indexOf(token.at(-1)!);
    const respelled = `${token.slice(0, -1)}${alphabet[last ^ 1]}`;
    assert.deepEqual(
      Buffer.from(respelled.split('.')[2]!, 'base64url'),
      Buffer.from(token.split('.')[2]!, 'base64url'),
    );
    assert.equal(await rejection(verifier.verify(respelled)), 'ERR_TOKEN_MALFORMED');
    assert.equal(
      (await verifier.verify(token)).payload['sub'],
      'auth0|alice',
      'the canonical spelling still verifies',
    );
  });

  it('refuses a tampered payload', async () => {
    const verifier = make();
    const [h, p, s] = (await issuer.mint({ scope: 'read:messages' })).split('.');
    const claims = JSON.parse(Buffer.from(p!, 'base64url').toString());
    claims.scope = 'read:messages write:messages admin';
    const tampered = `${h}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${s}`;
    assert.equal(await rejection(verifier.verify(tampered)), 'ERR_TOKEN_SIGNATURE');
  });

  it('refuses malformed and oversized tokens without fetching anything', async () => {
    const fresh = await startTestIssuer();
    try {
      const verifier = createVerifier({ issuerBaseURL: fresh.issuer, audience: fresh.audience });
      for (const bad of ['abc', 'a.b.c', 'eyJhbGciOiJSUzI1NiJ9.e30', `${'a'.repeat(9000)}.b.c`]) {
        const code = await rejection(verifier.verify(bad));
        assert.ok(code === 'ERR_TOKEN_MALFORMED' || code === 'ERR_TOKEN_TOO_LARGE', code);
      }
      assert.deepEqual(fresh.counts, { discovery: 0, jwks: 0 });
    } finally {
      await fresh.close();
    }
  });

  it('refuses an unknown kid, and a spray of random kids costs at most one JWKS fetch per cooldown', async () => {
    const fresh = await startTestIssuer();
    try {
      const verifier = createVerifier({ issuerBaseURL: fresh.issuer, audience: fresh.audience });
      await verifier.verify(await fresh.mint());
      assert.equal(fresh.counts.jwks, 1);
      const sprayed = await Promise.all(
        Array.from({ length: 200 }, async () =>
          rejection(verifier.verify(await fresh.mint({}, { kid: randomUUID() }))),
        ),
      );
      assert.ok(sprayed.every((c) => c === 'ERR_TOKEN_KID_UNKNOWN'));
      assert.ok(fresh.counts.jwks <= 2, `JWKS fetched ${fresh.counts.jwks} times`);
      assert.ok(fresh.counts.discovery <= 2, 'metadata is fetched with the keys, no more often');
      assert.equal(verifier.metrics.signatureChecks, 1, 'no signature check for an unknown kid');
    } finally {
      await fresh.close();
    }
  });

  it('keeps using cached keys when the JWKS endpoint goes down after warm-up', async () => {
    const fresh = await startTestIssuer();
    try {
      const verifier = createVerifier({
        issuerBaseURL: fresh.issuer,
        audience: fresh.audience,
        cooldownMs: 0,
        maxAgeMs: 0,
        cache: false,
      });
      await verifier.verify(await fresh.mint());
      for (const mode of ['error', 'garbage', 'hang'] as const) {
        fresh.setMode(mode);
        const verified = await createVerifierTimeoutGuard(verifier.verify(await fresh.mint({ sub: mode })));
        assert.equal(verified.payload['sub'], mode);
      }
      fresh.setMode('error');
      assert.equal(
        await rejection(verifier.verify(await fresh.mint({}, { kid: 'unknown' }))),
        'ERR_TOKEN_KID_UNKNOWN',
      );
      assert.ok(verifier.metrics.fetchFailures >= 2);
    } finally {
      await fresh.close();
    }
  });

  it('follows a key rotation: a token signed with the new key triggers one refetch', async () => {
    const fresh = await startTestIssuer();
    try {
      const verifier = createVerifier({
        issuerBaseURL: fresh.issuer,
        audience: fresh.audience,
        cooldownMs: 0,
      });
      const old = await fresh.mint();
      await verifier.verify(old);
      const newKid = await fresh.rotate({ dropOld: true });
      const { header } = await verifier.verify(await fresh.mint());
      assert.equal(header['kid'], newKid);
      assert.equal(fresh.counts.jwks, 2);
      // The old key left the JWKS: its tokens, even cached ones, stop working.
      assert.equal(await rejection(verifier.verify(old)), 'ERR_TOKEN_KID_UNKNOWN');
    } finally {
      await fresh.close();
    }
  });

  it('answers KeySetUnavailable (503) while the issuer has never been reachable', async () => {
    const fresh = await startTestIssuer();
    try {
      fresh.setMode('error');
      const verifier = createVerifier({ issuerBaseURL: fresh.issuer, audience: fresh.audience });
      const token = await fresh.mint();
      const error = await verifier.verify(token).catch((e: unknown) => e);
      assert.ok(error instanceof KeySetUnavailableError);
      assert.equal(error.status, 503);
      assert.ok(Number(error.headers()['Retry-After']) >= 1);
      // The cooldown also bounds fetches before the first load.
      await verifier.verify(token).catch(() => {});
      assert.equal(fresh.counts.discovery, 1);
      fresh.setMode('up');
      assert.equal(await verifier.refresh(), true);
      assert.equal((await verifier.verify(token)).payload['sub'], 'auth0|alice');
    } finally {
      await fresh.close();
    }
  });

  it('times out a JWKS fetch that never answers', async () => {
    const fresh = await startTestIssuer();
    try {
      fresh.setMode('hang');
      const verifier = createVerifier({
        issuerBaseURL: fresh.issuer,
        audience: fresh.audience,
        timeoutMs: 200,
      });
      const started = Date.now();
      assert.equal(await rejection(verifier.verify(await fresh.mint())), 'ERR_JWKS_UNAVAILABLE');
      assert.ok(Date.now() - started < 2000);
      assert.match(verifier.metrics.lastError ?? '', /timeout|abort/i);
    } finally {
      await fresh.close();
    }
  });

  it('refuses a discovery document that names another issuer (mix-up)', async () => {
    const fresh = await startTestIssuer({ advertisedIssuer: 'https://evil.example' });
    try {
      const verifier = createVerifier({ issuerBaseURL: fresh.issuer, audience: fresh.audience });
      assert.equal(await rejection(verifier.verify(await fresh.mint())), 'ERR_JWKS_UNAVAILABLE');
      assert.match(verifier.metrics.lastError ?? '', /names issuer/);
    } finally {
      await fresh.close();
    }
  });

  it('works with an explicit jwksUri and issuer, without discovery', async () => {
    const verifier = createVerifier({
      jwksUri: issuer.jwksUri,
      issuer: issuer.issuer,
      audience: issuer.audience,
    });
    const before = issuer.counts.discovery;
    await verifier.verify(await issuer.mint());
    assert.equal(issuer.counts.discovery, before);
  });

  it('Auth0 profile: issuer with a trailing slash, typ JWT, azp, aud array with userinfo', async () => {
    const tenant = await startTestIssuer({ trailingSlash: true, audience: 'https://api.example' });
    try {
      const verifier = createVerifier({
        issuerBaseURL: tenant.issuer,
        audience: tenant.audience,
        profile: 'auth0',
      });
      const token = await tenant.mint(
        { azp: 'spa', aud: ['https://api.example', `${tenant.issuer}userinfo`] },
        { typ: 'JWT', omit: ['client_id', 'jti'] },
      );
      assert.equal((await verifier.verify(token)).payload['azp'], 'spa');
      assert.equal(
        await rejection(verifier.verify(await tenant.mint({ iss: tenant.baseUrl }))),
        'ERR_TOKEN_ISSUER',
      );
    } finally {
      await tenant.close();
    }
  });

  it('refuses to be configured with none, HMAC or no audience', () => {
    assert.throws(() => make({ algorithms: ['none'] }), TypeError);
    assert.throws(() => make({ algorithms: ['HS256'] }), TypeError);
    assert.throws(() => make({ audience: [] }), TypeError);
    assert.throws(() => createVerifier({ issuerBaseURL: 'http://issuer.example', audience: 'a' }), /https/);
  });

  it('refuses an ES256 token when only RS256 is allowed', async () => {
    const verifier = make();
    const { privateKey } = await generateKeyPair('ES256');
    const es = await new CompactSign(new TextEncoder().encode('{}'))
      .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: issuer.currentKid })
      .sign(privateKey);
    assert.equal(await rejection(verifier.verify(es)), 'ERR_TOKEN_ALG_NOT_ALLOWED');
  });

  describe('verified-token cache', () => {
    it('hands out read-only claims, so one request cannot change what the next one sees', async () => {
      const fresh = await startTestIssuer();
      try {
        const verifier = createVerifier({ issuerBaseURL: fresh.issuer, audience: fresh.audience });
        const token = await fresh.mint({ scope: 'read:messages', permissions: ['read:messages'] });
        const first = await verifier.verify(token);
        assert.throws(() => {
          (first.payload as Record<string, unknown>)['scope'] = 'read:messages write:messages';
        }, TypeError);
        assert.throws(() => (first.payload['permissions'] as string[]).push('write:messages'), TypeError);
        const second = await verifier.verify(token);
        assert.equal(verifier.metrics.cacheHits, 1);
        assert.equal(second.payload['scope'], 'read:messages');
        assert.deepEqual(second.payload['permissions'], ['read:messages']);
      } finally {
        await fresh.close();
      }
    });

    it('verifies a repeated token once, re-checks exp on every hit, and empties on a key-set change', async () => {
      const fresh = await startTestIssuer();
      try {
        let clock = Date.now();
        const verifier = createVerifier({
          issuerBaseURL: fresh.issuer,
          audience: fresh.audience,
          cooldownMs: 0,
          now: () => clock,
        });
        const token = await fresh.mint({ exp: Math.floor(clock / 1000) + 60 });
        assert.equal(
          verifier.verifyNow(token),
          undefined,
          'before the first key load the synchronous path cannot judge: it asks for verify()',
        );
        for (let i = 0; i < 4; i++) await verifier.verify(token);
        assert.equal(verifier.verifyNow(token)?.payload['sub'], 'auth0|alice');
        assert.equal(verifier.metrics.signatureChecks, 1);
        assert.equal(verifier.metrics.cacheHits, 4);
        await fresh.rotate();
        await verifier.verify(await fresh.mint()); // new kid: refetch, new generation
        await verifier.verify(token);
        assert.equal(
          verifier.metrics.signatureChecks,
          3,
          'the old entry was dropped with the key-set change',
        );
        await verifier.verify(token);
        clock += 120_000;
        assert.throws(
          () => verifier.verifyNow(token),
          { code: 'ERR_TOKEN_EXPIRED' },
          'an entry never outlives the token',
        );
        assert.equal(await rejection(verifier.verify(token)), 'ERR_TOKEN_EXPIRED');
      } finally {
        await fresh.close();
      }
    });

    it('never caches a refused token as valid; a replayed bad signature costs a lookup, until the keys change', async () => {
      const fresh = await startTestIssuer();
      try {
        const verifier = createVerifier({
          issuerBaseURL: fresh.issuer,
          audience: fresh.audience,
          cooldownMs: 0,
        });
        const forged = await fresh.mint({}, { signWith: 'attacker' });
        for (let i = 0; i < 3; i++) {
          assert.equal(await rejection(verifier.verify(forged)), 'ERR_TOKEN_SIGNATURE');
        }
        assert.equal(verifier.metrics.signatureChecks, 1);
        assert.equal(verifier.metrics.badSignatureHits, 2);
        assert.throws(() => verifier.verifyNow(forged), { code: 'ERR_TOKEN_SIGNATURE' });
        assert.equal(verifier.metrics.cacheSize, 0);
        await fresh.rotate();
        await verifier.verify(await fresh.mint()); // new key set
        assert.equal(await rejection(verifier.verify(forged)), 'ERR_TOKEN_SIGNATURE');
        assert.equal(verifier.metrics.signatureChecks, 3, 'judged again against the new key set');
        const distinct = await Promise.all(
          Array.from({ length: 20 }, () => fresh.mint({}, { signWith: 'attacker' })),
        );
        for (const token of distinct) await rejection(verifier.verify(token));
        assert.equal(verifier.metrics.signatureChecks, 23, 'distinct forged tokens cost one check each');
      } finally {
        await fresh.close();
      }
    });
  });
});

describe('the issuer found by discovery', () => {
  it('works whether ISSUER_BASE_URL has a trailing slash or not, and holds iss to the document exactly', async () => {
    for (const trailingSlash of [false, true]) {
      const tenant = await startTestIssuer({ trailingSlash });
      try {
        for (const base of [tenant.baseUrl, `${tenant.baseUrl}/`]) {
          const verifier = createVerifier({ issuerBaseURL: base, audience: tenant.audience });
          assert.equal((await verifier.verify(await tenant.mint())).payload['iss'], tenant.issuer, base);
          const other = trailingSlash ? tenant.baseUrl : `${tenant.baseUrl}/`;
          assert.equal(
            await rejection(verifier.verify(await tenant.mint({ iss: other }))),
            'ERR_TOKEN_ISSUER',
          );
        }
      } finally {
        await tenant.close();
      }
    }
  });

  it('fetches the metadata again with every key-set refresh, so a changed document is followed', async () => {
    const tenant = await startTestIssuer();
    try {
      let clock = Date.now();
      const verifier = createVerifier({
        issuerBaseURL: tenant.issuer,
        audience: tenant.audience,
        cooldownMs: 1000,
        maxAgeMs: 60_000,
        now: () => clock,
      });
      await verifier.verify(await tenant.mint());
      assert.deepEqual(tenant.counts, { discovery: 1, jwks: 1 });
      clock += 61_000; // the set is old: the next verification refreshes it in the background
      await verifier.verify(await tenant.mint());
      await verifier.refresh();
      assert.deepEqual(tenant.counts, { discovery: 2, jwks: 2 });
      clock += 2000;
      await tenant.rotate();
      await verifier.verify(await tenant.mint()); // an unknown kid: metadata and keys again
      assert.deepEqual(tenant.counts, { discovery: 3, jwks: 3 });
    } finally {
      await tenant.close();
    }
  });

  it("accepts the URL of a .well-known document, and falls back to RFC 8414's location", async () => {
    const oidc = await startTestIssuer();
    const oauth = await startTestIssuer({ metadata: 'oauth-authorization-server' });
    try {
      const viaDocument = createVerifier({
        issuerBaseURL: `${oidc.issuer}/.well-known/openid-configuration`,
        audience: oidc.audience,
      });
      assert.equal((await viaDocument.verify(await oidc.mint())).payload['iss'], oidc.issuer);
      const viaFallback = createVerifier({ issuerBaseURL: oauth.issuer, audience: oauth.audience });
      assert.equal((await viaFallback.verify(await oauth.mint())).payload['iss'], oauth.issuer);
      assert.equal(oauth.counts.discovery, 1);
    } finally {
      await oidc.close();
      await oauth.close();
    }
  });

  it('refuses an issuerBaseURL with credentials, a query or a fragment, at creation', () => {
    for (const issuerBaseURL of [
      'https://user:pass@issuer.example/',
      'https://issuer.example/?debug=true',
      'https://issuer.example/#section',
      'http://issuer.example/',
    ]) {
      assert.throws(() => createVerifier({ issuerBaseURL, audience: 'a' }), BearerConfigError, issuerBaseURL);
    }
  });
});

describe('keys given by configuration (no network)', () => {
  let issuer: TestIssuer;
  before(async () => {
    issuer = await startTestIssuer();
  });
  after(() => issuer.close());

  it('verifies with a static JWKS, synchronously from the first token, without one fetch', async () => {
    const verifier = createVerifier({
      issuer: issuer.issuer,
      audience: issuer.audience,
      jwks: issuer.publicJwks(),
    });
    assert.equal(verifier.ready, true);
    assert.equal(verifier.verifyNow(await issuer.mint({ sub: 'static' }))?.payload['sub'], 'static');
    assert.equal(
      await rejection(verifier.verify(await issuer.mint({}, { signWith: 'attacker' }))),
      'ERR_TOKEN_SIGNATURE',
    );
    assert.equal(
      await rejection(verifier.verify(await issuer.mint({}, { kid: randomUUID() }))),
      'ERR_TOKEN_KID_UNKNOWN',
    );
    assert.deepEqual(issuer.counts, { discovery: 0, jwks: 0 });
  });

  it('verifies with one public key (PEM or JWK), whatever kid the token names', async () => {
    const { publicKey, privateKey } = await generateKeyPair('RS256', { extractable: true });
    const sign = (kid: string) =>
      new CompactSign(new TextEncoder().encode(JSON.stringify(claimsFor(issuer))))
        .setProtectedHeader({ alg: 'RS256', typ: 'at+jwt', kid })
        .sign(privateKey);
    for (const key of [await exportSPKI(publicKey), await exportJWK(publicKey)]) {
      const verifier = createVerifier({
        issuer: issuer.issuer,
        audience: issuer.audience,
        publicKey: key as never,
      });
      assert.equal((await verifier.verify(await sign('any'))).payload['sub'], 'static-key-user');
      assert.equal(await rejection(verifier.verify(await issuer.mint())), 'ERR_TOKEN_SIGNATURE');
    }
    assert.deepEqual(issuer.counts, { discovery: 0, jwks: 0 });
    const privatePem = await exportPKCS8(privateKey);
    assert.throws(
      () => createVerifier({ issuer: issuer.issuer, audience: 'a', publicKey: privatePem }),
      BearerConfigError,
      'a private key is refused, not quietly turned into its public half',
    );
  });

  it('refuses contradictory or unsafe key options at creation', async () => {
    const jwks = issuer.publicJwks();
    const bad: [string, Partial<VerifierOptions>][] = [
      ['no issuer', { jwks }],
      ['jwks and issuerBaseURL', { jwks, issuer: 'x', issuerBaseURL: issuer.issuer }],
      ['jwks and publicKey', { jwks, issuer: 'x', publicKey: jwks.keys[0] as never }],
      ['a symmetric key', { issuer: 'x', publicKey: { kty: 'oct', k: 'c2VjcmV0' } as never }],
      ['an empty set', { issuer: 'x', jwks: { keys: [] } }],
      ['garbage', { issuer: 'x', publicKey: 'not a key' }],
    ];
    for (const [what, options] of bad) {
      assert.throws(
        () => createVerifier({ audience: 'a', ...options } as VerifierOptions),
        BearerConfigError,
        what,
      );
    }
  });
});

function claimsFor(issuer: TestIssuer): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  return {
    iss: issuer.issuer,
    aud: issuer.audience,
    sub: 'static-key-user',
    client_id: 'c',
    iat: now,
    exp: now + 60,
    jti: randomUUID(),
  };
}

function createVerifierTimeoutGuard<T>(promise: Promise<T>): Promise<T> {
  // A verification with cached keys must never wait on the (hanging) JWKS endpoint.
  return Promise.race([
    promise,
    new Promise<T>((_, reject) =>
      setTimeout(() => reject(new Error('verification waited on the JWKS endpoint')), 1000),
    ),
  ]);
}
