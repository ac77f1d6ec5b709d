// Start-up, readiness, configuration errors and durability of the real API process.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { startTestIssuer } from '@calling-api/jwt-bearer/testing';
import { startApi } from './support/api-process.ts';

const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url));

describe('API lifecycle', () => {
  it('answers 503 (never 500) until the issuer is reachable, then opens protected routes', async () => {
    const issuer = await startTestIssuer();
    issuer.setMode('error');
    const api = await startApi({ ISSUER_BASE_URL: issuer.issuer, AUDIENCE: issuer.audience });
    try {
      const token = await issuer.mint();
      const health = await fetch(`${api.url}/healthz`);
      assert.equal(health.status, 503);
      assert.deepEqual(await health.json(), { status: 'starting' });
      const early = await fetch(`${api.url}/api/private`, { headers: { authorization: `Bearer ${token}` } });
      assert.equal(early.status, 503);
      assert.ok(Number(early.headers.get('retry-after')) >= 1);
      assert.equal(((await early.json()) as { error: string }).error, 'temporarily_unavailable');
      const open = await fetch(`${api.url}/api/public`);
      assert.equal(open.status, 200, 'the public route does not wait for keys');

      await api.waitForLog(/keys not loaded yet/);
      issuer.setMode('up');
      await api.waitForLog(/signing keys loaded/, 15_000);
      assert.equal((await fetch(`${api.url}/healthz`)).status, 200);
      const later = await fetch(`${api.url}/api/private`, { headers: { authorization: `Bearer ${token}` } });
      assert.equal(later.status, 200);
    } finally {
      await api.stop();
      await issuer.close();
    }
  });

  it('stops on SIGTERM even when whoever read its logs has gone (stdout and stderr closed)', async () => {
    const issuer = await startTestIssuer();
    const api = await startApi({ ISSUER_BASE_URL: issuer.issuer, AUDIENCE: issuer.audience });
    try {
      await api.waitForLog(/signing keys loaded/);
      api.child.stdout!.destroy();
      api.child.stderr!.destroy();
      // No request in between: the first write to meet the closed pipe is the shutdown's own.
      const exited = new Promise<number | null>((resolve) => api.child.once('exit', resolve));
      api.child.kill('SIGTERM');
      const outcome = await Promise.race([exited, sleep(5_000).then(() => 'still running')]);
      assert.equal(outcome, 0, 'the API exits cleanly within 5 s');
    } finally {
      if (api.child.exitCode === null) api.child.kill('SIGKILL');
      await api.stop();
      await issuer.close();
    }
  });

  it('keeps an acknowledged message across a restart (same DATA_DIR)', async () => {
    const issuer = await startTestIssuer();
    const dataDir = mkdtempSync(join(tmpdir(), 'api-durable-'));
    try {
      const env = { ISSUER_BASE_URL: issuer.issuer, AUDIENCE: issuer.audience };
      const token = await issuer.mint({ sub: 'auth0|alice', scope: 'read:messages write:messages' });
      const auth = { authorization: `Bearer ${token}` };
      const first = await startApi(env, { keepData: dataDir });
      await first.waitForLog(/signing keys loaded/);
      const posted = await fetch(`${first.url}/api/messages`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify({ text: 'survives a restart' }),
      });
      assert.equal(posted.status, 201);
      assert.equal(await first.stop(), 0);

      const second = await startApi(env, { keepData: dataDir });
      try {
        await second.waitForLog(/signing keys loaded/);
        const listed = await fetch(`${second.url}/api/messages`, { headers: auth });
        const body = (await listed.json()) as { messages: { text: string }[] };
        assert.deepEqual(
          body.messages.map((m) => m.text),
          ['survives a restart'],
        );
      } finally {
        await second.stop();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
      await issuer.close();
    }
  });

  it('refuses to start in production without ISSUER_BASE_URL and AUDIENCE', () => {
    const run = spawnSync(process.execPath, [MAIN], {
      env: { PATH: process.env['PATH'] ?? '', NODE_ENV: 'production', PORT: '0' },
      encoding: 'utf8',
      timeout: 10_000,
    });
    assert.equal(run.status, 1);
    assert.match(run.stderr, /NODE_ENV=production needs ISSUER_BASE_URL and AUDIENCE/);
  });

  it('refuses a malformed configuration with a message naming the variable', () => {
    for (const [name, value] of [
      ['PORT', 'eighty'],
      ['CORS_ORIGINS', 'http://localhost:3000/app'],
      ['ISSUER_BASE_URL', 'not a url'],
      ['LOG_LEVEL', 'chatty'],
    ] as const) {
      const run = spawnSync(process.execPath, [MAIN], {
        env: { PATH: process.env['PATH'] ?? '', [name]: value },
        encoding: 'utf8',
        timeout: 10_000,
      });
      assert.equal(run.status, 1, name);
      assert.match(run.stderr, new RegExp(`Invalid API configuration: .*${name}`), name);
    }
  });
});
