import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  AllowListError,
  isAllowedUrl,
  parseAllowedOrigin,
  parseAllowList,
} from '../src/api-auth/allow-list.ts';

const app = 'http://localhost:3000/ping';

describe('allow-list configuration', () => {
  it('accepts https origins and loopback http origins', () => {
    assert.deepEqual(parseAllowedOrigin('https://API.example.com:443'), {
      origin: 'https://api.example.com',
      pathPrefix: '/',
    });
    assert.equal(parseAllowedOrigin('http://localhost:3001').origin, 'http://localhost:3001');
    assert.equal(parseAllowedOrigin('http://127.0.0.1:3001').origin, 'http://127.0.0.1:3001');
    assert.equal(parseAllowedOrigin('http://[::1]:3001').origin, 'http://[::1]:3001');
    assert.equal(parseAllowedOrigin('http://api.localhost:3001').origin, 'http://api.localhost:3001');
    assert.equal(parseAllowedOrigin('http://127.1.2.3').origin, 'http://127.1.2.3');
    assert.equal(parseAllowedOrigin('https://api.example.com/api/').pathPrefix, '/api');
  });

  it('refuses plain http to a host that is not loopback', () => {
    for (const entry of [
      'http://api.example.com',
      'http://localhost.evil.example',
      'http://localhost.',
      'http://10.0.0.1:3001',
      'http://128.0.0.1',
      'http://[::2]',
    ]) {
      assert.throws(() => parseAllowedOrigin(entry), AllowListError, entry);
    }
    assert.throws(
      () => parseAllowedOrigin('http://api.example.com'),
      /plain http is allowed only for loopback/,
    );
  });

  it('refuses host names without a scheme, other schemes, user-info, query and fragment', () => {
    for (const entry of [
      'localhost',
      'localhost:3001',
      '//localhost:3001',
      'ftp://localhost',
      'ws://localhost:3001',
      'javascript:alert(1)',
      'https://user:pw@api.example.com',
      'https://api.example.com@evil.example',
      'https://api.example.com/?x=1',
      'https://api.example.com/#x',
    ]) {
      assert.throws(() => parseAllowedOrigin(entry), AllowListError, entry);
    }
  });
});

describe('which requests get the token', () => {
  const list = parseAllowList(['http://api.localhost:3001', 'https://api.example.com/v1']);
  const allowed = (url: string) => isAllowedUrl(list, url, app);

  it('sends it to the listed origin', () => {
    assert.equal(allowed('http://api.localhost:3001/api/private'), true);
    assert.equal(allowed('http://API.LOCALHOST:3001/api/private'), true);
    assert.equal(allowed('https://api.example.com/v1'), true);
    assert.equal(allowed('https://api.example.com:443/v1/messages?x=1'), true);
  });

  it('withholds it from look-alike hosts', () => {
    assert.equal(allowed('http://api.localhost.evil.localhost:3001/api/private'), false);
    assert.equal(allowed('http://evil-api.localhost:3001/api/private'), false);
    assert.equal(allowed('http://xapi.localhost:3001/'), false);
    assert.equal(allowed('https://api.example.com.evil.example/v1'), false);
    assert.equal(allowed('http://localhost:3001/api/private'), false);
  });

  it('withholds it from other ports and schemes of the same host', () => {
    assert.equal(allowed('http://api.localhost:3002/api/private'), false);
    assert.equal(allowed('http://api.localhost/api/private'), false);
    assert.equal(allowed('https://api.localhost:3001/api/private'), false);
    assert.equal(allowed('ws://api.localhost:3001/'), false);
    assert.equal(allowed('http://api.example.com/v1'), false);
    assert.equal(allowed('https://api.example.com:8443/v1'), false);
  });

  it('withholds it when user-info hides the real host', () => {
    assert.equal(allowed('http://api.localhost:3001@evil.localhost/api/private'), false);
    assert.equal(allowed('http://api.localhost@evil.localhost:3001/api/private'), false);
    assert.equal(allowed('http://user@api.localhost:3001/api/private'), false);
    assert.equal(allowed('https://api.example.com%40evil.example/v1'), false);
  });

  it('withholds it outside the path prefix, whatever the path tricks', () => {
    assert.equal(allowed('https://api.example.com/'), false);
    assert.equal(allowed('https://api.example.com/v10'), false);
    assert.equal(allowed('https://api.example.com/v1x/messages'), false);
    assert.equal(allowed('https://api.example.com/v1/../admin'), false);
    assert.equal(allowed('https://api.example.com/v1/%2e%2e/admin'), false);
    assert.equal(allowed('https://evil.example/api.example.com/v1'), false);
    assert.equal(allowed('https://evil.example/?https://api.example.com/v1'), false);
  });

  it('withholds it from the app itself and from relative URLs unless its origin is listed', () => {
    assert.equal(allowed('/api/private'), false);
    assert.equal(allowed('config.json'), false);
    assert.equal(allowed('//evil.localhost/api'), false);
    const withSelf = parseAllowList(['http://localhost:3000/api']);
    assert.equal(isAllowedUrl(withSelf, '/api/private', app), true);
    assert.equal(isAllowedUrl(withSelf, '/config.json', app), false);
  });

  it('withholds it for URLs that do not parse', () => {
    assert.equal(allowed('http://[::1'), false);
    assert.equal(isAllowedUrl(list, 'http://api.localhost:3001/', 'not a base'), false);
    assert.equal(isAllowedUrl(list, '/relative', 'not a base'), false);
  });

  it('gives no token to anything when the list is empty', () => {
    assert.equal(isAllowedUrl([], 'http://api.localhost:3001/api/private', app), false);
  });
});
