import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bearerChallenge, parseWwwAuthenticate } from '../src/api-auth/www-authenticate.ts';

describe('WWW-Authenticate parsing', () => {
  it('reads the missing scope of an insufficient_scope answer (RFC 6750 §3)', () => {
    const params = bearerChallenge('Bearer realm="api", error="insufficient_scope", scope="read:messages"');
    assert.deepEqual(params, { realm: 'api', error: 'insufficient_scope', scope: 'read:messages' });
  });

  it('keeps space-separated scopes, escapes and commas inside quoted strings', () => {
    const params = bearerChallenge(
      'Bearer error="insufficient_scope", scope="read:messages write:messages", error_description="needs \\"write\\", sorry"',
    );
    assert.equal(params?.['scope'], 'read:messages write:messages');
    assert.equal(params?.['error_description'], 'needs "write", sorry');
  });

  it('accepts any case of scheme and parameter names, unquoted values and odd spacing', () => {
    const params = bearerChallenge('bEaReR   Realm = api ,ERROR=invalid_token');
    assert.deepEqual(params, { realm: 'api', error: 'invalid_token' });
  });

  it('finds the Bearer challenge among several', () => {
    const header =
      'Basic realm="x", DPoP algs="ES256 PS256", Bearer realm="api", error="insufficient_scope", scope="a"';
    const challenges = parseWwwAuthenticate(header);
    assert.deepEqual(
      challenges.map((c) => c.scheme),
      ['basic', 'dpop', 'bearer'],
    );
    assert.equal(bearerChallenge(header)?.['scope'], 'a');
  });

  it('reads a challenge without parameters and a token68 challenge', () => {
    assert.deepEqual(parseWwwAuthenticate('Bearer'), [{ scheme: 'bearer', params: {} }]);
    assert.deepEqual(parseWwwAuthenticate('Negotiate abc+/=='), [
      { scheme: 'negotiate', params: { token68: 'abc+/==' } },
    ]);
    assert.deepEqual(
      parseWwwAuthenticate('Negotiate, Bearer realm="api"').map((c) => c.scheme),
      ['negotiate', 'bearer'],
    );
  });

  it('keeps the first of a repeated parameter, so a later one cannot override it', () => {
    assert.equal(bearerChallenge('Bearer scope="a", scope="b"')?.['scope'], 'a');
  });

  it('returns nothing for absent or malformed headers rather than a guess', () => {
    assert.deepEqual(parseWwwAuthenticate(null), []);
    assert.deepEqual(parseWwwAuthenticate(''), []);
    assert.deepEqual(parseWwwAuthenticate('Bearer scope="unterminated'), []);
    assert.deepEqual(parseWwwAuthenticate('Bearer scope="a" junk'), []);
    assert.deepEqual(parseWwwAuthenticate('"quoted"'), []);
    assert.equal(bearerChallenge('Basic realm="x"'), undefined);
  });
});

describe('the refusal of a DPoP-bound token', () => {
  it('reads the DPoP challenge that carries the error, beside a bare Bearer one', () => {
    const params = bearerChallenge(
      'Bearer realm="api", DPoP realm="api", error="insufficient_scope", scope="write:messages", algs="ES256 PS256"',
    );
    assert.equal(params?.['error'], 'insufficient_scope');
    assert.equal(params?.['scope'], 'write:messages');
  });
});
