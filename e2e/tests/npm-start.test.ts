// `npm start` as a developer uses it: all four programs come up, the banner names their URLs
// and the demo sign-ins, SIGTERM stops them all (nothing keeps listening), and a program that
// cannot start is named with its last log lines.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { freePort, isPortFree, nodeBinary, REPO_ROOT } from '../../scripts/system.ts';

interface Run {
  child: ChildProcess;
  dataDir: string;
  output: () => string;
  exited: Promise<number | null>;
}

/** A temporary data folder per run: the tests never touch the programs' default .data folders. */
function npmStart(env: Record<string, string>): Run {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'calling-api-npm-start-'));
  const child = spawn(nodeBinary(), [path.join(REPO_ROOT, 'scripts/start.ts')], {
    cwd: REPO_ROOT,
    env: { ...process.env, DATA_DIR: dataDir, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString('utf8');
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString('utf8');
  });
  const exited = once(child, 'exit').then(([code]) => {
    rmSync(dataDir, { recursive: true, force: true });
    return code as number | null;
  });
  return { child, output: () => output, exited, dataDir };
}

async function waitForOutput(run: Run, pattern: RegExp, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pattern.test(run.output())) {
    if (run.child.exitCode !== null) throw new Error(`npm start exited early:\n${run.output()}`);
    if (Date.now() > deadline) throw new Error(`no ${pattern} after ${timeoutMs} ms:\n${run.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function ports() {
  return { auth: await freePort(), api: await freePort(), spa: await freePort(), console: await freePort() };
}

const portEnv = (p: Awaited<ReturnType<typeof ports>>) => ({
  AUTH_PORT: String(p.auth),
  API_PORT: String(p.api),
  SPA_PORT: String(p.spa),
  CONSOLE_PORT: String(p.console),
});

test('npm start brings up all four, prints their URLs and the demo sign-ins, and SIGTERM stops them all', {
  timeout: 120_000,
}, async () => {
  const p = await ports();
  const run = npmStart(portEnv(p));
  try {
    await waitForOutput(run, /Ctrl-C stops all four/, 90_000);
    const out = run.output();
    assert.match(out, /authorization server ready in \d+\.\d s/);
    assert.match(out, /Messages API ready in \d+\.\d s/);
    assert.match(out, /AngularJS app ready in \d+\.\d s/);
    assert.match(out, /tenant console ready in \d+\.\d s/);
    for (const url of [
      `http://localhost:${p.console}`,
      `http://localhost:${p.spa}`,
      `http://localhost:${p.api}`,
      `http://localhost:${p.auth}`,
    ]) {
      assert.ok(out.includes(url), `the banner shows ${url}`);
    }
    assert.match(out, /alice@example\.com\s+Alice-password-1\s+editor/);
    assert.match(out, /bob@example\.com\s+Bob-password-1\s+viewer/);
    assert.match(out, /carol@example\.com\s+Carol-password-1/);
    assert.match(out, /admin@example\.com\s+Admin-password-1\s+tenant-admin\s+the Management API/);
    assert.match(out, /^auth +\| /m, 'log lines are prefixed with the program');
    // biome-ignore lint/suspicious/noControlCharactersInRegex: looking for colour codes is the point
    assert.doesNotMatch(out, /\u001b\[/, 'no colour codes');

    // They answer, and the SPA and the console were told where their issuer and API are.
    assert.equal((await fetch(`http://localhost:${p.auth}/.well-known/openid-configuration`)).status, 200);
    assert.equal((await fetch(`http://localhost:${p.api}/api/public`)).status, 200);
    assert.ok(existsSync(path.join(run.dataDir, 'auth')), 'DATA_DIR holds the authorization server data');
    assert.ok(existsSync(path.join(run.dataDir, 'api')), 'DATA_DIR holds the API data');
    const config = (await (await fetch(`http://localhost:${p.spa}/config.json`)).json()) as Record<
      string,
      unknown
    >;
    assert.ok(JSON.stringify(config).includes(`http://localhost:${p.auth}`), 'the SPA uses the moved issuer');
    const consoleConfig = (await (await fetch(`http://localhost:${p.console}/config.json`)).json()) as {
      issuer: string;
    };
    assert.equal(consoleConfig.issuer, `http://localhost:${p.auth}/`, 'so does the console');
    // The moved SPA port is registered with the authorization server: /authorize accepts its callback.
    for (const [clientId, origin] of [
      ['angularjs-spa', `http://localhost:${p.spa}`],
      ['tenant-console', `http://localhost:${p.console}`],
    ]) {
      const authorize = new URL(`http://localhost:${p.auth}/authorize`);
      for (const [k, v] of Object.entries({
        client_id: clientId!,
        redirect_uri: `${origin}/callback`,
        response_type: 'code',
        scope: 'openid',
        code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
        code_challenge_method: 'S256',
        state: 'some-state',
        nonce: 'some-nonce',
      })) {
        authorize.searchParams.set(k, v);
      }
      const answer = await fetch(authorize, { redirect: 'manual' });
      assert.ok(
        answer.status === 303 || answer.status === 302,
        `the callback of ${clientId} on the moved port is accepted (got ${answer.status})`,
      );
      assert.doesNotMatch(answer.headers.get('location') ?? '', /error=/);
    }
  } finally {
    run.child.kill('SIGTERM');
  }
  assert.equal(await run.exited, 0, run.output());
  assert.match(run.output(), /stopped\.\s*$/);
  for (const port of Object.values(p)) {
    assert.ok(await isPortFree(port), `nothing listens on ${port} any more`);
  }
});

test('npm start names a program that cannot start, with its last log lines, and stops the others', {
  timeout: 60_000,
}, async () => {
  const p = await ports();
  const run = npmStart({ ...portEnv(p), TENANT_FILE: path.join(REPO_ROOT, 'e2e/no-such-tenant.json') });
  assert.equal(await run.exited, 1);
  assert.match(run.output(), /npm start: authorization server \(apps\/auth-server\/src\/main\.ts\) exited/);
  assert.match(run.output(), /its last log lines:\nauth +\| /);
  for (const port of Object.values(p)) assert.ok(await isPortFree(port));
});

test('npm start refuses a port that is taken, or given twice, before starting anything', {
  timeout: 30_000,
}, async () => {
  const blocker = createServer();
  await new Promise<void>((resolve) => blocker.listen(0, resolve));
  const taken = (blocker.address() as { port: number }).port;
  try {
    const run = npmStart({ AUTH_PORT: String(await freePort()), API_PORT: String(taken), SPA_PORT: '0' });
    assert.equal(await run.exited, 2, 'SPA_PORT=0 is refused first');
    const again = npmStart({ AUTH_PORT: String(await freePort()), API_PORT: String(taken) });
    assert.equal(await again.exited, 1);
    assert.match(again.output(), new RegExp(`port ${taken} for the Messages API is already in use`));
    assert.match(again.output(), /AUTH_PORT, API_PORT, SPA_PORT and CONSOLE_PORT/);
    assert.doesNotMatch(again.output(), /starting /, 'nothing was started');
    const port = await freePort();
    const twice = npmStart({ AUTH_PORT: String(port), CONSOLE_PORT: String(port) });
    assert.equal(await twice.exited, 1);
    assert.match(
      twice.output(),
      new RegExp(`port ${port} is given to both the authorization server and the tenant console`),
    );
    assert.doesNotMatch(twice.output(), /starting /, 'nothing was started');
  } finally {
    blocker.close();
  }
});
