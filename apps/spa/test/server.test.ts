import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type BuildResult, build } from '../scripts/build.ts';
import { createApp } from '../server/app.ts';
import { extraConnectSrcFromEnv, spaConfigFromEnv } from '../server/config-from-env.ts';

const spa = spaConfigFromEnv({
  ISSUER_BASE_URL: 'http://localhost:4999',
  API_URL: 'http://localhost:3999',
  ALLOWED_API_ORIGINS: 'http://localhost:3999, https://api.example.com/v1',
});

let outDir: string;
let built: BuildResult;
let base: string;
let close: () => void;

before(async () => {
  outDir = mkdtempSync(path.join(os.tmpdir(), 'spa-dist-'));
  built = await build({ outDir });
  const server = createApp(spa, outDir).listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  close = () => {
    server.closeAllConnections();
    server.close();
  };
});

after(() => {
  close?.();
  rmSync(outDir, { recursive: true, force: true });
});

describe('static server', () => {
  it('serves index.html with a strict CSP and no caching on app routes', async () => {
    for (const route of ['/', '/ping', '/profile', '/callback?code=x&state=y', '/no/such/page']) {
      const res = await fetch(`${base}${route}`);
      assert.equal(res.status, 200, route);
      assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
      assert.equal(res.headers.get('cache-control'), 'no-store');
      const html = await res.text();
      assert.match(html, /<html lang="en" ng-csp>/);
      assert.ok(html.includes(`src="/${built.script.file}"`));
      assert.ok(html.includes(`href="/${built.stylesheet.file}"`));
      assert.doesNotMatch(
        html,
        /<script>|<style|\sstyle=|\son[a-z]+=/i,
        'no inline script, style or handler',
      );
    }
    const res = await fetch(`${base}/ping`);
    const csp = res.headers.get('content-security-policy') ?? '';
    assert.equal(
      csp,
      "default-src 'none';script-src 'self';style-src 'self';img-src 'self' data:;font-src 'self';" +
        "connect-src 'self' http://localhost:4999 http://localhost:3999 https://api.example.com;" +
        "form-action http://localhost:4999;frame-src http://localhost:4999;base-uri 'none';frame-ancestors 'none';manifest-src 'self'",
    );
    assert.doesNotMatch(csp, /unsafe|upgrade-insecure/);
    assert.equal(res.headers.get('referrer-policy'), 'no-referrer');
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(res.headers.get('x-frame-options'), 'SAMEORIGIN');
    assert.equal(res.headers.get('x-powered-by'), null);
  });

  it('answers 404, not the app, for missing assets and files', async () => {
    for (const route of [
      '/assets/main-NOPE.js',
      '/assets/..%2Fpackage.json',
      '/favicon.ico',
      '/main.js',
      '/x.map',
    ]) {
      const res = await fetch(`${base}${route}`);
      assert.equal(res.status, 404, route);
      assert.doesNotMatch(await res.text(), /ng-csp/);
    }
    assert.equal((await fetch(`${base}/ping`, { method: 'POST' })).status, 405);
  });

  it('serves hashed assets as immutable, gzip-encoded when accepted', async () => {
    const gz = await fetch(`${base}/${built.script.file}`, { headers: { 'accept-encoding': 'gzip' } });
    assert.equal(gz.status, 200);
    assert.equal(gz.headers.get('cache-control'), 'public, max-age=31536000, immutable');
    assert.equal(gz.headers.get('content-encoding'), 'gzip');
    assert.equal(gz.headers.get('vary'), 'Accept-Encoding');
    assert.match(gz.headers.get('content-type') ?? '', /^text\/javascript/);
    const body = Buffer.from(await gz.arrayBuffer()); // fetch decodes gzip itself
    assert.ok(body.length > 100_000);
    assert.equal(body.length, built.script.bytes);
    const raw = await fetch(`${base}/${built.stylesheet.file}`, {
      headers: { 'accept-encoding': 'identity' },
    });
    assert.equal(raw.headers.get('content-encoding'), null);
    assert.match(raw.headers.get('content-type') ?? '', /^text\/css/);
    assert.match(await raw.text(), /ng-cloak/, 'angular-csp.css is in the stylesheet');
  });

  it('serves the source map in development and never in production', async () => {
    const map = `/${built.script.file}.map`;
    assert.equal((await fetch(`${base}${map}`)).status, 200, 'development: the map helps debugging');
    const production = createApp(spa, outDir, [], { sourceMaps: false }).listen(0, '127.0.0.1');
    await new Promise((resolve) => production.once('listening', resolve));
    try {
      const url = `http://127.0.0.1:${(production.address() as AddressInfo).port}`;
      const res = await fetch(`${url}${map}`);
      assert.equal(res.status, 404);
      assert.doesNotMatch(await res.text(), /sourcesContent|"mappings"/);
      assert.equal((await fetch(`${url}/${built.script.file}`)).status, 200, 'the bundle itself is served');
    } finally {
      production.closeAllConnections();
      production.close();
    }
  });

  it('serves /config.json from the environment, never cached', async () => {
    const res = await fetch(`${base}/config.json`);
    assert.equal(res.headers.get('cache-control'), 'no-store');
    assert.deepEqual(await res.json(), {
      issuer: 'http://localhost:4999',
      clientId: 'angularjs-spa',
      audience: 'http://localhost:3001/api',
      scope: 'openid profile email offline_access read:messages write:messages',
      apiUrl: 'http://localhost:3999',
      allowedApiOrigins: ['http://localhost:3999', 'https://api.example.com/v1'],
      dpop: true,
    });
  });
});

describe('configuration from the environment', () => {
  it('defaults to the embedded tenant, the token going only to the API origin', () => {
    const config = spaConfigFromEnv({});
    assert.equal(config.issuer, 'http://localhost:4000/');
    assert.deepEqual(config.allowedApiOrigins, ['http://localhost:3001']);
    assert.equal(config.dpop, true, 'DPoP on by default');
    assert.equal(spaConfigFromEnv({ DPOP: 'false' }).dpop, false);
    assert.throws(() => spaConfigFromEnv({ DPOP: 'yes' }), /DPOP must be true or false/);
  });

  it('takes a hosted Auth0 tenant', () => {
    const config = spaConfigFromEnv({
      AUTH0_DOMAIN: 'tenant.eu.auth0.com',
      AUTH0_CLIENT_ID: 'abc',
      AUTH0_AUDIENCE: 'https://messages.example.com',
      API_URL: 'https://api.example.com',
    });
    assert.equal(config.issuer, 'https://tenant.eu.auth0.com/');
    assert.equal(config.auth0Domain, 'tenant.eu.auth0.com');
    assert.equal(config.clientId, 'abc');
    assert.deepEqual(config.allowedApiOrigins, ['https://api.example.com']);
  });

  it('refuses an allow-list that would send the token over plain http to a real host', () => {
    assert.throws(
      () => spaConfigFromEnv({ ALLOWED_API_ORIGINS: 'http://api.example.com' }),
      /plain http is allowed only for loopback/,
    );
    assert.throws(() => spaConfigFromEnv({ ALLOWED_API_ORIGINS: 'localhost' }), /not an absolute URL/);
  });

  it('takes extra connect-src origins only as plain origins', () => {
    assert.deepEqual(
      extraConnectSrcFromEnv({ EXTRA_CONNECT_SRC: 'http://evil.localhost:3001, https://x.example/' }),
      ['http://evil.localhost:3001', 'https://x.example'],
    );
    assert.throws(
      () => extraConnectSrcFromEnv({ EXTRA_CONNECT_SRC: "'unsafe-eval'" }),
      /not an http\(s\) origin/,
    );
    assert.throws(
      () => extraConnectSrcFromEnv({ EXTRA_CONNECT_SRC: 'https://x.example/path' }),
      /not an http/,
    );
    assert.throws(
      () => extraConnectSrcFromEnv({ EXTRA_CONNECT_SRC: 'http://a; script-src *' }),
      /not an http/,
    );
  });

  it('refuses bad URLs, a scope without openid, and http in production', () => {
    assert.throws(() => spaConfigFromEnv({ ISSUER_BASE_URL: 'not a url' }), /issuer is not an absolute URL/);
    assert.throws(() => spaConfigFromEnv({ SCOPE: 'read:messages' }), /scope must include "openid"/);
    assert.throws(() => spaConfigFromEnv({ NODE_ENV: 'production' }), /ISSUER_BASE_URL must use https/);
    assert.throws(
      () => spaConfigFromEnv({ AUTH0_DOMAIN: 'https://x.auth0.com/' }),
      /AUTH0_DOMAIN must be a host name/,
    );
  });
});
