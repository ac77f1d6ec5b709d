import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  BearerConfigError,
  type ClaimContext,
  claimCheck,
  claimEquals,
  claimIncludes,
  decodeToken,
  InsufficientScopeError,
  InvalidRequestError,
  InvalidTokenError,
  MissingCredentialsError,
  PROFILES,
  requiredPermissions,
  requiredScopes,
  scopeIncludesAny,
  validateClaims,
  validateHeader,
} from '../src/index.ts';

const now = 1_800_000_000;
const context = (overrides: Partial<ClaimContext> = {}): ClaimContext => ({
  issuer: 'https://issuer.example/',
  audiences: ['https://api.example'],
  now,
  clockToleranceSeconds: 5,
  maxTokenAgeSeconds: undefined,
  profile: PROFILES.rfc9068,
  ...overrides,
});
const valid = () => ({
  iss: 'https://issuer.example/',
  aud: 'https://api.example',
  sub: 'user-1',
  client_id: 'spa',
  iat: now - 10,
  exp: now + 600,
  jti: 'j1',
  scope: 'read:messages write:messages',
});

const code = (fn: () => unknown): string => {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof InvalidTokenError, String(error));
    return error.code;
  }
  assert.fail('expected a rejection');
};

describe('claim validators (RFC 7519, RFC 9068)', () => {
  it('accepts a complete RFC 9068 payload', () => {
    validateClaims(valid(), context());
  });

  it('compares iss exactly: a missing trailing slash is another issuer', () => {
    assert.equal(
      code(() => validateClaims({ ...valid(), iss: 'https://issuer.example' }, context())),
      'ERR_TOKEN_ISSUER',
    );
  });

  it('accepts aud as a string or as an array that contains the API', () => {
    validateClaims({ ...valid(), aud: ['https://other', 'https://api.example'] }, context());
    assert.equal(
      code(() => validateClaims({ ...valid(), aud: ['https://other'] }, context())),
      'ERR_TOKEN_AUDIENCE',
    );
    assert.equal(
      code(() => validateClaims({ ...valid(), aud: 42 }, context())),
      'ERR_TOKEN_AUDIENCE',
    );
  });

  it('refuses an expired token, with the clock tolerance and no more', () => {
    validateClaims({ ...valid(), exp: now - 4 }, context());
    assert.equal(
      code(() => validateClaims({ ...valid(), exp: now - 5 }, context())),
      'ERR_TOKEN_EXPIRED',
    );
    assert.equal(
      code(() => validateClaims({ ...valid(), exp: 'soon' }, context())),
      'ERR_TOKEN_CLAIM_INVALID',
    );
  });

  it('refuses a token not valid yet (nbf) or issued in the future (iat)', () => {
    validateClaims({ ...valid(), nbf: now + 5 }, context());
    assert.equal(
      code(() => validateClaims({ ...valid(), nbf: now + 60 }, context())),
      'ERR_TOKEN_NOT_YET_VALID',
    );
    assert.equal(
      code(() => validateClaims({ ...valid(), iat: now + 60 }, context())),
      'ERR_TOKEN_IAT',
    );
  });

  it('refuses iat exactly at now + tolerance, and accepts it a second earlier', () => {
    validateClaims({ ...valid(), iat: now + 4 }, context());
    assert.equal(
      code(() => validateClaims({ ...valid(), iat: now + 5 }, context())),
      'ERR_TOKEN_IAT',
    );
  });

  it('enforces a maximum token age when configured', () => {
    assert.equal(
      code(() => validateClaims({ ...valid(), iat: now - 4000 }, context({ maxTokenAgeSeconds: 3600 }))),
      'ERR_TOKEN_EXPIRED',
    );
  });

  it('requires sub, client_id, iat and jti under RFC 9068', () => {
    for (const name of ['sub', 'client_id', 'iat', 'jti', 'exp']) {
      const payload: Record<string, unknown> = valid();
      delete payload[name];
      assert.equal(
        code(() => validateClaims(payload, context())),
        'ERR_TOKEN_CLAIM_MISSING',
        name,
      );
    }
  });

  it('under the Auth0 profile accepts azp instead of client_id and no jti', () => {
    const { client_id: _c, jti: _j, ...rest } = valid();
    validateClaims({ ...rest, azp: 'spa' }, context({ profile: PROFILES.auth0 }));
    assert.equal(
      code(() => validateClaims(rest, context({ profile: PROFILES.auth0 }))),
      'ERR_TOKEN_CLAIM_MISSING',
    );
  });

  it('refuses claims of the wrong type', () => {
    assert.equal(
      code(() => validateClaims({ ...valid(), sub: 7 }, context())),
      'ERR_TOKEN_CLAIM_INVALID',
    );
    assert.equal(
      code(() => validateClaims({ ...valid(), scope: ['a'] }, context())),
      'ERR_TOKEN_CLAIM_INVALID',
    );
    assert.equal(
      code(() => validateClaims({ ...valid(), permissions: 'a' }, context())),
      'ERR_TOKEN_CLAIM_INVALID',
    );
  });
});

describe('header checks (RFC 8725)', () => {
  const allowed = new Set(['RS256']);
  const header = (extra: Record<string, unknown>) => ({ alg: 'RS256', typ: 'at+jwt', kid: 'k1', ...extra });

  it('accepts typ at+jwt and application/at+jwt in any case', () => {
    validateHeader(header({}), allowed, PROFILES.rfc9068);
    validateHeader(header({ typ: 'application/AT+JWT' }), allowed, PROFILES.rfc9068);
  });

  it('refuses alg none, HMAC and anything off the allow-list', () => {
    for (const alg of ['none', 'HS256', 'RS512', undefined]) {
      assert.equal(
        code(() => validateHeader(header({ alg }), allowed, PROFILES.rfc9068)),
        'ERR_TOKEN_ALG_NOT_ALLOWED',
      );
    }
  });

  it('refuses typ JWT (an ID token, say) under RFC 9068 but accepts it under the Auth0 profile', () => {
    assert.equal(
      code(() => validateHeader(header({ typ: 'JWT' }), allowed, PROFILES.rfc9068)),
      'ERR_TOKEN_TYP',
    );
    assert.equal(
      code(() => validateHeader(header({ typ: undefined }), allowed, PROFILES.rfc9068)),
      'ERR_TOKEN_TYP',
    );
    validateHeader(header({ typ: 'JWT' }), allowed, PROFILES.auth0);
  });

  it('refuses jku, x5u, x5c and jwk headers, and crit', () => {
    for (const name of ['jku', 'x5u', 'x5c', 'jwk']) {
      assert.equal(
        code(() => validateHeader(header({ [name]: 'x' }), allowed, PROFILES.rfc9068)),
        'ERR_TOKEN_UNTRUSTED_KEY_HEADER',
      );
    }
    assert.equal(
      code(() => validateHeader(header({ crit: ['exp'] }), allowed, PROFILES.rfc9068)),
      'ERR_TOKEN_CRIT',
    );
  });

  it('decodeToken refuses what is not a JWS compact JWT', () => {
    for (const bad of [
      'abc',
      'a.b',
      'a.b.c.d.e',
      'e30.e30.@@',
      '!!.e30.sig',
      'bnVsbA.e30.sig',
      'W10.e30.sig',
    ]) {
      assert.equal(
        code(() => decodeToken(bad)),
        'ERR_TOKEN_MALFORMED',
        bad,
      );
    }
  });
});

describe('authorization helpers', () => {
  const payload = {
    scope: 'openid read:messages',
    permissions: ['read:messages'],
    org: 'acme',
    roles: ['a', 'b'],
  };
  const insufficient = (fn: () => unknown, scope?: string) =>
    assert.throws(fn, (error: unknown) => {
      assert.ok(error instanceof InsufficientScopeError);
      assert.equal(error.status, 403);
      if (scope) assert.match(error.headers()['WWW-Authenticate']!, new RegExp(`scope="${scope}"`));
      return true;
    });

  it('requiredScopes needs all of them', () => {
    requiredScopes('read:messages')(payload);
    insufficient(
      () => requiredScopes('read:messages', 'write:messages')(payload),
      'read:messages write:messages',
    );
    insufficient(() => requiredScopes('read')(payload), 'read');
  });

  it('scopeIncludesAny needs one of them', () => {
    scopeIncludesAny('write:messages', 'read:messages')(payload);
    insufficient(() => scopeIncludesAny('write:messages', 'admin')(payload));
  });

  it('requiredPermissions reads the permissions claim', () => {
    requiredPermissions('read:messages')(payload);
    insufficient(() => requiredPermissions('write:messages')(payload), 'write:messages');
  });

  it('claimEquals and claimIncludes check any claim', () => {
    claimEquals('org', 'acme')(payload);
    insufficient(() => claimEquals('org', 'evil')(payload));
    claimIncludes('roles', 'a', 'b')(payload);
    insufficient(() => claimIncludes('roles', 'c')(payload));
  });

  it('refuses to build a check with an unusable scope name', () => {
    for (const build of [
      () => requiredScopes(),
      () => requiredScopes(''),
      () => requiredScopes('a"'),
      () => requiredScopes([]),
      () => scopeIncludesAny(),
      () => requiredPermissions('a\\b'),
      () => requiredScopes(42 as unknown as string),
    ]) {
      assert.throws(build, BearerConfigError);
    }
  });

  it('takes scopes as one space-separated string, an array, or several arguments', () => {
    const both = { scope: 'foo bar' };
    for (const check of [
      requiredScopes('foo bar'),
      requiredScopes(['foo', 'bar']),
      requiredScopes('foo', 'bar'),
    ]) {
      check(both);
      insufficient(() => check({ scope: 'bar baz' }), 'foo bar');
    }
    scopeIncludesAny('foo bar')({ scope: 'bar' });
    scopeIncludesAny(['qux', 'bar'])({ scope: 'foo bar' });
    insufficient(() => scopeIncludesAny(['foo', 'bar'])({ scope: 'baz' }));
  });

  it('claimEquals and claimIncludes refuse, when built, a call that would let every token through', () => {
    const calls: [string, () => unknown][] = [
      ['claimEquals()', () => (claimEquals as (...a: unknown[]) => unknown)()],
      ['claimEquals(name)', () => (claimEquals as (...a: unknown[]) => unknown)('org')],
      ['claimEquals("", v)', () => claimEquals('', 'acme')],
      ['claimEquals(name, {})', () => claimEquals('org', {} as unknown as string)],
      ['claimIncludes()', () => (claimIncludes as (...a: unknown[]) => unknown)()],
      ['claimIncludes(name)', () => claimIncludes('roles')],
      ['claimIncludes(name, [])', () => claimIncludes('roles', [] as unknown as string)],
    ];
    for (const [call, build] of calls) assert.throws(build, BearerConfigError, call);
  });

  it('claimEquals tells a missing claim from another value, and compares JSON primitives', () => {
    insufficient(() => claimEquals('org', 'acme')({}));
    assert.throws(() => claimEquals('org', 'acme')({}), /no "org" claim/);
    assert.throws(() => claimEquals('org', 'acme')({ org: 'evil' }), /another value/);
    for (const value of ['x', 1, true, null]) claimEquals('c', value)({ c: value });
    insufficient(() => claimEquals('c', null)({}));
    insufficient(() => claimEquals('c', 1)({ c: '1' }));
  });

  it('claimIncludes reads an array or a space-separated string, and nothing else', () => {
    claimIncludes('roles', 'a', 'b')({ roles: 'a b c' });
    claimIncludes('flags', 1, false)({ flags: [false, 1] });
    insufficient(() => claimIncludes('roles', 'a', 'b')({ roles: ['a'] }));
    insufficient(() => claimIncludes('roles', 'a')({ roles: true }));
    insufficient(() => claimIncludes('roles', 'a')({}));
  });

  it('claimCheck needs a function, and passes a token only when it returns exactly true', () => {
    assert.throws(() => (claimCheck as (...a: unknown[]) => unknown)(), BearerConfigError);
    assert.throws(() => claimCheck('admin' as unknown as () => boolean), BearerConfigError);
    claimCheck(() => true)({});
    const refusals: [string, (p: Record<string, unknown>) => unknown][] = [
      ['false', () => false],
      ['a Promise of true', () => Promise.resolve(true)],
      ['a truthy value', () => 1],
      ['undefined', () => undefined],
      ['an exception', (p) => (p['roles'] as string[]).includes('admin')],
    ];
    for (const [what, test] of refusals) {
      assert.throws(() => claimCheck(test as () => boolean)({}), InsufficientScopeError, what);
    }
    assert.throws(() => claimCheck(() => false, 'admins only')({}), /admins only/);
  });
});

describe('errors', () => {
  it('carry status, challenge and body, and sensible defaults', () => {
    const cases: [
      Error & { status: number; statusCode: number; headers(): Record<string, string> },
      number,
      string,
    ][] = [
      [new MissingCredentialsError(), 401, 'Bearer realm="api"'],
      [
        new InvalidRequestError(),
        400,
        'Bearer realm="api", error="invalid_request", error_description="The request is malformed."',
      ],
      [
        new InvalidTokenError(),
        401,
        'Bearer realm="api", error="invalid_token", error_description="The access token is invalid."',
      ],
      [
        new InsufficientScopeError(['a', 'b']),
        403,
        'Bearer realm="api", error="insufficient_scope", error_description="The access token lacks the required scope: a b.", scope="a b"',
      ],
    ];
    for (const [error, status, challenge] of cases) {
      assert.equal(error.status, status);
      assert.equal(error.statusCode, status);
      assert.equal(error.headers()['WWW-Authenticate'], challenge);
    }
  });

  it('turn double quotes into single ones and drop what a header cannot carry', () => {
    const error = new InvalidRequestError('expected "foo" got "bar\\" é');
    assert.equal(
      error.headers('my "realm"')['WWW-Authenticate'],
      `Bearer realm="my 'realm'", error="invalid_request", error_description="expected 'foo' got 'bar?' ?"`,
    );
    assert.equal(
      error.body().error_description,
      'expected "foo" got "bar\\" é',
      'the JSON body keeps the text',
    );
  });

  it('capture no stack trace: a refusal is an answer, not a bug', () => {
    for (const error of [
      new InvalidTokenError(),
      new InsufficientScopeError(),
      new MissingCredentialsError(),
    ]) {
      assert.doesNotMatch(String(error.stack), /\n\s+at /);
    }
    assert.match(String(new Error('a bug').stack), /\n\s+at /, 'other errors keep theirs');
  });
});
