// The static server as `npm run start:spa` runs it: where it listens (its start-up line and the
// kernel's socket table; the tests connect to loopback only) and what production withholds.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { listeningSockets } from '@calling-api/listen/testing';

const MAIN = fileURLToPath(new URL('../server/main.ts', import.meta.url));

async function startSpa(
  env: Record<string, string>,
): Promise<{ child: ChildProcess; line: string; stop(): Promise<void> }> {
  const child = spawn(process.execPath, [MAIN], {
    env: { PATH: process.env['PATH'] ?? '', PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const line = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no listening line:\n${output}`)), 30_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const found = output.split('\n').find((l) => l.startsWith('spa: listening on'));
      if (found) {
        clearTimeout(timer);
        resolve(found);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`exited ${code}:\n${output}`)));
  });
  return {
    child,
    line,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

const addressesOf = (line: string): string[] => / \[(.*)\] \(issuer/.exec(line)![1]!.split(', ');

describe('npm run start:spa', () => {
  it('listens on loopback only by default, and in production serves no source map', async () => {
    const spa = await startSpa({
      NODE_ENV: 'production',
      ISSUER_BASE_URL: 'https://issuer.example/',
      API_URL: 'https://api.example',
    });
    try {
      const addresses = addressesOf(spa.line);
      assert.ok(
        addresses.some((a) => /^127\.0\.0\.1:\d+$/.test(a)),
        spa.line,
      );
      assert.ok(
        addresses.every((a) => /^(127\.0\.0\.1|\[::1\]):\d+$/.test(a)),
        spa.line,
      );
      assert.deepEqual(listeningSockets(spa.child.pid!), [...addresses].sort());
      const base = `http://${addresses[0]}`;
      const script = /src="(\/assets\/[^"]+\.js)"/.exec(await (await fetch(`${base}/`)).text())![1]!;
      assert.equal((await fetch(`${base}${script}`)).status, 200);
      assert.equal((await fetch(`${base}${script}.map`)).status, 404);
    } finally {
      await spa.stop();
    }
  });

  it('listens where HOST says', async () => {
    const spa = await startSpa({ HOST: '0.0.0.0' });
    try {
      const addresses = addressesOf(spa.line);
      assert.equal(addresses.length, 1);
      assert.match(addresses[0]!, /^0\.0\.0\.0:\d+$/);
      assert.deepEqual(listeningSockets(spa.child.pid!), addresses);
    } finally {
      await spa.stop();
    }
  });
});
