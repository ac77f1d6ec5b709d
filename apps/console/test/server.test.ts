// The console's static server: the page and its headers (the same strictness as the SPA's), its
// configuration, and the start-up refusals.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type BuildResult, build } from '../scripts/build.ts';
import { createApp } from '../server/app.ts';
import { serverConfigFromEnv } from '../server/config-from-env.ts';
import { ConfigError } from '../src/app/config.ts';

const config = serverConfigFromEnv({ ISSUER_BASE_URL: 'http://localhost:4999' }).console;

let outDir: string;
let built: BuildResult;
let base: string;
let close: () => void;

before(async () => {
  outDir = mkdtempSync(path.join(os.tmpdir(), 'console-dist-'));
  built = await build({ outDir });
  const server = createApp(config, outDir, { sourceMaps: false }).listen(0, '127.0.0.1');
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

describe('the console server', () => {
  it('serves the page on every route with a strict CSP: the issuer (and its Management API) only, nothing inline', async () => {
    for (const route of ['/', '/apis', '/users/auth0%7Cabc', '/callback?code=x&state=y']) {
      const res = await fetch(`${base}${route}`);
      assert.equal(res.status, 200, route);
      assert.equal(res.headers.get('cache-control'), 'no-store');
      const html = await res.text();
      assert.ok(
        html.includes(`src="/${built.script.file}"`) && html.includes(`href="/${built.stylesheet.file}"`),
      );
      assert.match(html, /<app-navbar><header class="navbar">/, 'the navbar comes with the page');
      assert.doesNotMatch(
        html,
        /<script>|<style|\sstyle=|\son[a-z]+=/i,
        'no inline script, style or handler',
      );
      assert.equal(
        res.headers.get('content-security-policy'),
        "default-src 'none';script-src 'self';style-src 'self';img-src 'self' data:;" +
          "connect-src 'self' http://localhost:4999;form-action http://localhost:4999;" +
          "frame-src http://localhost:4999;base-uri 'none';frame-ancestors 'none'",
      );
      assert.equal(res.headers.get('referrer-policy'), 'no-referrer');
      assert.equal(res.headers.get('x-powered-by'), null);
    }
  });

  it("hands out its configuration with the issuer in Auth0's form, and assets with long caching", async () => {
    const res = await fetch(`${base}/config.json`);
    assert.deepEqual(await res.json(), {
      issuer: 'http://localhost:4999/',
      clientId: 'tenant-console',
      dpop: true,
    });
    const script = await fetch(`${base}/${built.script.file}`, { headers: { 'accept-encoding': 'gzip' } });
    assert.equal(script.status, 200);
    assert.equal(script.headers.get('content-encoding'), 'gzip');
    assert.match(script.headers.get('cache-control')!, /immutable/);
  });

  it('answers 404 for files it does not have, source maps in production included, and 405 for writes', async () => {
    for (const route of [
      '/assets/nope.js',
      '/assets/..%2Fpackage.json',
      `/${built.script.file}.map`,
      '/x.txt',
    ]) {
      assert.equal((await fetch(`${base}${route}`)).status, 404, route);
    }
    assert.equal((await fetch(`${base}/apis`, { method: 'POST' })).status, 405);
  });

  it('refuses to start with a bad or, in production, a plain-http issuer', () => {
    const refusal = (env: Record<string, string>) => {
      try {
        serverConfigFromEnv(env);
      } catch (error) {
        assert.ok(error instanceof ConfigError);
        return error.message;
      }
      return '';
    };
    assert.match(refusal({ NODE_ENV: 'production' }), /ISSUER_BASE_URL must use https/);
    assert.match(
      refusal({ ISSUER_BASE_URL: 'http://localhost:4000/some/path' }),
      /issuer must be an http\(s\) origin/,
    );
    assert.match(refusal({ PORT: 'eighty' }), /PORT must be an integer/);
    assert.equal(refusal({ NODE_ENV: 'production', ISSUER_BASE_URL: 'https://auth.example.com' }), '');
  });
});
