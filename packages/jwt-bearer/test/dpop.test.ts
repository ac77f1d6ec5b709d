// RFC 9449 §4.3: every check a resource server makes on a DPoP proof, each refused on its own.
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomUUID, sign } from 'node:crypto';
import { describe, it } from 'node:test';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import {
  accessTokenHash,
  InvalidDpopProofError,
  normaliseHtu,
  ReplayCache,
  verifyDpopProof,
} from '../src/index.ts';

const URL_ = 'https://api.example.com/api/messages';
const TOKEN = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhIn0.c2ln';
const NOW = 1_800_000_000_000;

const keys = await generateKeyPair('ES256', { extractable: true });
const jwk = await exportJWK(keys.publicKey);
const JKT = await calculateJwkThumbprint(jwk);
const other = await generateKeyPair('ES256', { extractable: true });

type Tweak = {
  header?: Record<string, unknown>;
  claims?: Record<string, unknown>;
  drop?: string[];
  signWith?: Parameters<SignJWT['sign']>[0];
};

async function proof(tweak: Tweak = {}): Promise<string> {
  const claims: Record<string, unknown> = {
    htm: 'GET',
    htu: URL_,
    iat: NOW / 1000,
    jti: randomUUID(),
    ath: accessTokenHash(TOKEN),
    ...tweak.claims,
  };
  for (const name of tweak.drop ?? []) delete claims[name];
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk, ...tweak.header } as { alg: string })
    .sign(tweak.signWith ?? keys.privateKey);
}

const check = async (
  value: string | string[] | undefined,
  over: Partial<Parameters<typeof verifyDpopProof>[0]> = {},
) =>
  verifyDpopProof(
    { proof: value, method: 'GET', url: URL_, accessToken: TOKEN, boundTo: JKT, ...over },
    { replay: new ReplayCache(), now: () => NOW },
  );

async function refused(promise: Promise<unknown>, why: RegExp): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof InvalidDpopProofError, String(error));
    assert.equal(error.status, 401);
    assert.match(error.description, why);
    assert.match(
      error.headers()['WWW-Authenticate']!,
      /^DPoP realm="api", error="invalid_dpop_proof", error_description="[^"]+", algs="ES256 /,
    );
    return true;
  });
}

describe('DPoP proofs (RFC 9449 §4.3)', () => {
  it("accepts a proof for this request, this token and the token's key, and names the key", async () => {
    assert.equal(await check(await proof()), JKT);
  });

  it('ignores the query and fragment of htu, and compares URLs normalised (RFC 3986 §6.2.2, §6.2.3)', async () => {
    assert.equal(await check(await proof({ claims: { htu: `${URL_}?page=2#top` } })), JKT);
    assert.equal(
      await check(await proof({ claims: { htu: 'HTTPS://API.example.com:443/api/%6Dessages' } })),
      JKT,
    );
    assert.equal(normaliseHtu('https://a.example/x/../y?q#f'), 'https://a.example/y');
    assert.equal(normaliseHtu('https://a.example/%7e%2f'), 'https://a.example/~%2F');
  });

  it('refuses no proof, two proofs and a header that is not a compact JWT', async () => {
    await refused(check(undefined), /needs a DPoP proof/);
    await refused(check([await proof(), await proof()]), /exactly one DPoP header/);
    await refused(check('not.a jwt'), /not a compact JWT/);
    await refused(check('x'.repeat(9000)), /not a compact JWT/);
  });

  it('refuses a wrong typ, alg none, an HMAC or unlisted algorithm', async () => {
    await refused(check(await proof({ header: { typ: 'JWT' } })), /typ "dpop\+jwt"/);
    const none = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'dpop+jwt', jwk })).toString('base64url')}.${Buffer.from('{}').toString('base64url')}.x`;
    await refused(check(none), /algorithm must be one of/);
    const hmac = await new SignJWT({ htm: 'GET', htu: URL_, iat: NOW / 1000, jti: 'a' })
      .setProtectedHeader({ alg: 'HS256', typ: 'dpop+jwt', jwk })
      .sign(new Uint8Array(32));
    await refused(check(hmac), /algorithm must be one of/);
  });

  it('refuses a proof without its public key, with a private key, or signed by another key', async () => {
    await refused(check(await proof({ header: { jwk: undefined } })), /public key in the jwk header/);
    const privateJwk: JWK = await exportJWK(keys.privateKey);
    await refused(check(await proof({ header: { jwk: privateJwk } })), /private key/);
    await refused(check(await proof({ signWith: other.privateKey })), /signature is invalid/);
  });

  it('refuses a proof made for another method, URL or access token', async () => {
    await refused(check(await proof({ claims: { htm: 'POST' } })), /another HTTP method/);
    await refused(
      check(await proof({ claims: { htu: 'https://api.example.com/api/private' } })),
      /another URL/,
    );
    await refused(
      check(await proof({ claims: { htu: 'https://evil.example/api/messages' } })),
      /another URL/,
    );
    await refused(check(await proof({ claims: { htu: 'not a url' } })), /another URL/);
    await refused(
      check(await proof({ claims: { ath: accessTokenHash('another token') } })),
      /another access token/,
    );
    await refused(check(await proof({ drop: ['ath'] })), /another access token/);
  });

  it('refuses a proof from a key the token is not bound to', async () => {
    const theirs = await exportJWK(other.publicKey);
    const stolen = await new SignJWT({
      htm: 'GET',
      htu: URL_,
      iat: NOW / 1000,
      jti: 'j',
      ath: accessTokenHash(TOKEN),
    })
      .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: theirs })
      .sign(other.privateKey);
    await refused(check(stolen), /not bound to/);
  });

  it('refuses an old proof, one from the future, and one without iat or jti', async () => {
    await refused(check(await proof({ claims: { iat: NOW / 1000 - 61 - 5 } })), /iat/);
    await refused(check(await proof({ claims: { iat: NOW / 1000 + 60 } })), /iat/);
    await refused(check(await proof({ drop: ['iat'] })), /iat/);
    await refused(check(await proof({ drop: ['jti'] })), /jti/);
    assert.equal(await check(await proof({ claims: { iat: NOW / 1000 - 60 } })), JKT, 'a minute old is fine');
  });

  it('refuses a replayed proof within its window, and forgets it after', async () => {
    const replay = new ReplayCache();
    let now = NOW;
    const request = { method: 'GET', url: URL_, accessToken: TOKEN, boundTo: JKT };
    const once = await proof();
    verifyDpopProof({ ...request, proof: once }, { replay, now: () => now });
    await refused(
      (async () => verifyDpopProof({ ...request, proof: once }, { replay, now: () => now }))(),
      /used before/,
    );
    now += 70_000;
    assert.equal(replay.record(JKT, 'another', now + 1000, now), 'recorded');
    assert.equal(replay.size, 1, 'the expired entry is gone');
  });

  it('never evicts a live proof to make room: when full, new proofs are turned away (503; 429 for one busy key), not accepted', async () => {
    const replay = new ReplayCache({ maxEntries: 3, maxPerKey: 2 });
    assert.equal(replay.record('k1', 'a', NOW + 60_000, NOW), 'recorded');
    assert.equal(replay.record('k1', 'b', NOW + 60_000, NOW), 'recorded');
    assert.equal(replay.record('k1', 'c', NOW + 60_000, NOW), 'key-full', "one key's share is full");
    assert.equal(replay.record('k2', 'a', NOW + 60_000, NOW), 'recorded');
    assert.equal(replay.record('k3', 'a', NOW + 60_000, NOW), 'full', 'the whole memory is full');
    assert.equal(replay.record('k1', 'a', NOW + 60_000, NOW), 'seen', 'old proofs are still remembered');
    assert.equal(
      replay.record('k3', 'a', NOW + 61_000, NOW + 60_001),
      'recorded',
      'room again once they expire',
    );
    // Through the verifier: a flood with the victim's key cannot flush the victim's proof out.
    const small = new ReplayCache({ maxEntries: 100_000, maxPerKey: 1 });
    const request = { method: 'GET', url: URL_, accessToken: TOKEN, boundTo: JKT };
    verifyDpopProof({ ...request, proof: await proof() }, { replay: small, now: () => NOW });
    await assert.rejects(
      (async () =>
        verifyDpopProof({ ...request, proof: await proof() }, { replay: small, now: () => NOW }))(),
      (error: { status?: number; headers(): Record<string, string> }) =>
        error.status === 429 && error.headers()['Retry-After'] === '5',
    );
    const tiny = new ReplayCache({ maxEntries: 1, maxPerKey: 1 });
    verifyDpopProof({ ...request, proof: await proof() }, { replay: tiny, now: () => NOW });
    await assert.rejects(
      (async () => verifyDpopProof({ ...request, proof: await proof() }, { replay: tiny, now: () => NOW }))(),
      (error: { status?: number; headers(): Record<string, string> }) =>
        error.status === 503 && error.headers()['Retry-After'] === '5',
    );
  });

  it("refuses a key that does not fit the proof's algorithm, before importing any key it is not bound to", async () => {
    const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' });
    const p384Jwk = p384.publicKey.export({ format: 'jwk' }) as JWK;
    const segment = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const input = `${segment({ alg: 'ES256', typ: 'dpop+jwt', jwk: p384Jwk })}.${segment({ htm: 'GET', htu: URL_, iat: NOW / 1000, jti: 'x', ath: accessTokenHash(TOKEN) })}`;
    const signature = sign('sha256', Buffer.from(input), { key: p384.privateKey, dsaEncoding: 'ieee-p1363' });
    const mismatched = `${input}.${signature.toString('base64url')}`;
    await refused(
      check(mismatched, { boundTo: await calculateJwkThumbprint(p384Jwk) }),
      /does not fit its algorithm ES256/,
    );
    const huge = { kty: 'RSA', e: 'AQAB', n: 'A'.repeat(5000) };
    const bloated = `${Buffer.from(JSON.stringify({ alg: 'RS256', typ: 'dpop+jwt', jwk: huge })).toString('base64url')}.${Buffer.from(JSON.stringify({ htm: 'GET', htu: URL_, iat: NOW / 1000, jti: 'y', ath: accessTokenHash(TOKEN) })).toString('base64url')}.AAAA`;
    await refused(check(bloated), /not bound to/);
    await refused(
      check(bloated, { boundTo: await calculateJwkThumbprint(huge) }),
      /does not fit its algorithm RS256/,
    );
  });

  it('accepts the other asymmetric algorithms, and names each key by its RFC 7638 thumbprint', async () => {
    for (const alg of ['ES384', 'PS256', 'RS256', 'EdDSA']) {
      const pair = await generateKeyPair(alg, { extractable: true });
      const publicJwk = await exportJWK(pair.publicKey);
      const thumbprint = await calculateJwkThumbprint(publicJwk);
      const signed = await new SignJWT({
        htm: 'GET',
        htu: URL_,
        iat: NOW / 1000,
        jti: alg,
        ath: accessTokenHash(TOKEN),
      })
        .setProtectedHeader({ alg, typ: 'dpop+jwt', jwk: publicJwk })
        .sign(pair.privateKey);
      assert.equal(await check(signed, { boundTo: thumbprint }), thumbprint, alg);
    }
  });

  it('refuses an ECDSA signature of the wrong length: r and s padded with zeros would be a second spelling', async () => {
    const valid = await proof();
    const [h, p, sig] = valid.split('.');
    const raw = Buffer.from(sig!, 'base64url');
    const pad = Buffer.alloc(16);
    const padded = Buffer.concat([pad, raw.subarray(0, 32), pad, raw.subarray(32)]).toString('base64url');
    await refused(check(`${h}.${p}.${padded}`), /signature is invalid/);
    assert.equal(await check(valid), JKT, 'the 64-byte spelling verifies');
  });
});
