import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  extractToken,
  InvalidRequestError,
  InvalidTokenError,
  MissingCredentialsError,
} from '../src/index.ts';

const rejects = (fn: () => unknown, type: new (...args: never[]) => Error, code?: string) =>
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof type, `expected ${type.name}, got ${String(error)}`);
    if (code) assert.equal((error as unknown as { code: string }).code, code);
    return true;
  });

describe('extractToken (RFC 6750 §2)', () => {
  it('returns the token of "Bearer <token>", whatever the case of the scheme', () => {
    assert.equal(extractToken({ authorization: 'Bearer abc.def.ghi' }), 'abc.def.ghi');
    assert.equal(extractToken({ authorization: 'bearer abc.def.ghi' }), 'abc.def.ghi');
    assert.equal(extractToken({ authorization: 'BEARER  a-b_c~d+e/f==' }), 'a-b_c~d+e/f==');
  });

  it('answers "missing" (no error code) without credentials or with another scheme', () => {
    rejects(() => extractToken({}), MissingCredentialsError, 'ERR_BEARER_MISSING');
    rejects(() => extractToken({ authorization: [] }), MissingCredentialsError);
    rejects(() => extractToken({ authorization: 'Basic dXNlcjpwYXNz' }), MissingCredentialsError);
    rejects(() => extractToken({ authorization: 'Bearerabc' }), MissingCredentialsError);
    const error = new MissingCredentialsError();
    assert.equal(error.status, 401);
    assert.deepEqual(error.headers(), { 'WWW-Authenticate': 'Bearer realm="api"' });
  });

  it('refuses a Bearer header whose token breaks the b64token syntax', () => {
    for (const bad of [
      'Bearer',
      'Bearer ',
      'Bearer a b',
      'Bearer a,b',
      'Bearer "abc"',
      'Bearer abc=def',
      'Bearer ä',
    ]) {
      rejects(() => extractToken({ authorization: bad }), InvalidRequestError, 'ERR_BEARER_INVALID_REQUEST');
    }
  });

  it('refuses two Authorization headers', () => {
    rejects(
      () => extractToken({ authorization: ['Bearer a', 'Bearer b'] }),
      InvalidRequestError,
      'ERR_BEARER_MULTIPLE_METHODS',
    );
  });

  it('refuses a token in the query unless the caller allows it', () => {
    rejects(
      () => extractToken({ query: { access_token: 'abc' } }),
      InvalidRequestError,
      'ERR_BEARER_QUERY_REFUSED',
    );
    assert.equal(extractToken({ query: { access_token: 'abc' } }, { allowQuery: true }), 'abc');
    rejects(
      () => extractToken({ query: { access_token: ['a', 'b'] } }, { allowQuery: true }),
      InvalidRequestError,
    );
  });

  it('reads a form-body token only from a form body, and refuses it when turned off', () => {
    assert.equal(extractToken({ body: { access_token: 'abc' }, isFormBody: true }), 'abc');
    rejects(
      () => extractToken({ body: { access_token: 'abc' }, isFormBody: false }),
      MissingCredentialsError,
    );
    rejects(
      () => extractToken({ body: { access_token: 'abc' }, isFormBody: true }, { allowFormBody: false }),
      InvalidRequestError,
    );
  });

  it('refuses more than one method (header + query, header + body)', () => {
    rejects(
      () => extractToken({ authorization: 'Bearer a', query: { access_token: 'b' } }, { allowQuery: true }),
      InvalidRequestError,
      'ERR_BEARER_MULTIPLE_METHODS',
    );
    rejects(
      () => extractToken({ authorization: 'Bearer a', body: { access_token: 'b' }, isFormBody: true }),
      InvalidRequestError,
      'ERR_BEARER_MULTIPLE_METHODS',
    );
  });

  it('refuses a token longer than the limit before parsing it', () => {
    const long = 'a'.repeat(9000);
    rejects(
      () => extractToken({ authorization: `Bearer ${long}` }),
      InvalidTokenError,
      'ERR_TOKEN_TOO_LARGE',
    );
    assert.equal(extractToken({ authorization: `Bearer ${long}` }, { maxTokenLength: 10_000 }), long);
  });
});
