// Start-up, readiness, configuration errors and durability of the real API process.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { startTestIssuer } from '@calling-api/jwt-bearer/testing';
import { listeningSockets } from '@calling-api/listen/testing';
import { startApi } from '@calling-api/testkit/api';

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

  it('forgets a deleted message for good: gone after a restart, the others kept; data files private', async () => {
    const issuer = await startTestIssuer();
    const root = mkdtempSync(join(tmpdir(), 'api-delete-'));
    const dataDir = join(root, 'data'); // created by the API itself
    try {
      const env = { ISSUER_BASE_URL: issuer.issuer, AUDIENCE: issuer.audience };
      const token = await issuer.mint({ sub: 'auth0|alice', scope: 'read:messages write:messages' });
      const auth = { authorization: `Bearer ${token}` };
      const first = await startApi(env, { keepData: dataDir });
      await first.waitForLog(/signing keys loaded/);
      const ids: number[] = [];
      for (const text of ['keep me', 'delete me']) {
        const posted = await fetch(`${first.url}/api/messages`, {
          method: 'POST',
          headers: { ...auth, 'content-type': 'application/json' },
          body: JSON.stringify({ text }),
        });
        ids.push(((await posted.json()) as { id: number }).id);
      }
      const deleted = await fetch(`${first.url}/api/messages/${ids[1]}`, { method: 'DELETE', headers: auth });
      assert.equal(deleted.status, 204);
      const file = join(dataDir, 'messages.sqlite');
      for (const name of [file, `${file}-wal`, `${file}-shm`]) {
        if (existsSync(name)) assert.equal(statSync(name).mode & 0o777, 0o600, name);
      }
      assert.equal(statSync(dataDir).mode & 0o777, 0o700);
      assert.equal(await first.stop(), 0);

      const second = await startApi(env, { keepData: dataDir });
      try {
        await second.waitForLog(/signing keys loaded/);
        const listed = (await (await fetch(`${second.url}/api/messages`, { headers: auth })).json()) as {
          messages: { text: string }[];
        };
        assert.deepEqual(
          listed.messages.map((m) => m.text),
          ['keep me'],
        );
        assert.equal((await fetch(`${second.url}/api/messages/${ids[1]}`, { headers: auth })).status, 404);
      } finally {
        await second.stop();
      }
    } finally {
      rmSync(root, { recursive: true, force: true });
      await issuer.close();
    }
  });

  it('listens on loopback only by default, and where HOST says otherwise', async () => {
    const issuer = await startTestIssuer();
    try {
      const env = { ISSUER_BASE_URL: issuer.issuer, AUDIENCE: issuer.audience };
      for (const [host, expected] of [
        [undefined, /^(127\.0\.0\.1|\[::1\]):\d+$/],
        ['0.0.0.0', /^0\.0\.0\.0:\d+$/],
      ] as const) {
        const api = await startApi(host === undefined ? env : { ...env, HOST: host });
        try {
          const line = JSON.parse(await api.waitForLog(/"msg":"listening"/)) as { addresses: string[] };
          assert.ok(
            line.addresses.length >= 1 && line.addresses.every((a) => expected.test(a)),
            line.addresses.join(),
          );
          if (host === undefined) assert.ok(line.addresses.some((a) => a.startsWith('127.0.0.1:')));
          assert.deepEqual(
            listeningSockets(api.child.pid!),
            [...line.addresses].sort(),
            'what the kernel shows',
          );
          const port = line.addresses[0]!.split(':').at(-1);
          assert.equal((await fetch(`http://127.0.0.1:${port}/api/public`)).status, 200);
        } finally {
          await api.stop();
        }
      }
    } finally {
      await issuer.close();
    }
  });

  it('refuses production start-ups that would use a development default or an http issuer, in one line', () => {
    const cases: [Record<string, string>, RegExp][] = [
      [
        { ISSUER_BASE_URL: 'https://issuer.example/', AUDIENCE: 'https://api.example' },
        /^NODE_ENV=production needs CORS_ORIGINS/,
      ],
      [
        {
          ISSUER_BASE_URL: 'https://issuer.example/',
          AUDIENCE: 'https://api.example',
          CORS_ORIGINS: 'https://app.example',
        },
        /^NODE_ENV=production needs PUBLIC_ORIGIN \(or DPOP=off\)/,
      ],
      [
        {
          ISSUER_BASE_URL: 'http://issuer.example/',
          AUDIENCE: 'https://api.example',
          CORS_ORIGINS: 'https://app.example',
          PUBLIC_ORIGIN: 'https://api.example',
        },
        /^Invalid API configuration: issuerBaseURL must use https/,
      ],
    ];
    for (const [env, expected] of cases) {
      const run = spawnSync(process.execPath, [MAIN], {
        env: { PATH: process.env['PATH'] ?? '', NODE_ENV: 'production', PORT: '0', ...env },
        encoding: 'utf8',
        timeout: 10_000,
      });
      assert.equal(run.status, 1);
      assert.match(run.stderr, expected);
      assert.equal(run.stderr.trim().split('\n').length, 1, `one line, no stack: ${run.stderr}`);
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
