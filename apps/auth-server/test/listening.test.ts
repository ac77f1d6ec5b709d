// Where the authorization server can be reached: loopback only unless HOST says otherwise, read
// from its start-up line and from the kernel's socket table (the tests connect to loopback only).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { listeningSockets } from '@calling-api/listen/testing';
import {
  AUTH_SERVER_DIR,
  type AuthServerProcess,
  removeDir,
  startAuthServer,
  tempDir,
} from '@calling-api/testkit/auth-server';

const servers: AuthServerProcess[] = [];
after(async () => {
  for (const s of servers) {
    await s.stop();
    removeDir(s.dataDir);
  }
});

const readyLine = (server: AuthServerProcess) =>
  JSON.parse(
    server
      .output()
      .split('\n')
      .find((l) => l.includes('authorization server ready'))!,
  ) as {
    addresses: string[];
  };

describe('listening addresses', () => {
  it('are 127.0.0.1 and ::1 (where the machine has it) by default, nothing else', async () => {
    const server = await startAuthServer();
    servers.push(server);
    const { addresses } = readyLine(server);
    assert.ok(addresses.includes(`127.0.0.1:${server.port}`), addresses.join());
    assert.ok(
      addresses.every((a) => a === `127.0.0.1:${server.port}` || a === `[::1]:${server.port}`),
      addresses.join(),
    );
    assert.deepEqual(listeningSockets(server.child.pid!), [...addresses].sort());
  });

  it('follow HOST', async () => {
    const server = await startAuthServer({ env: { HOST: '0.0.0.0' } });
    servers.push(server);
    assert.deepEqual(readyLine(server).addresses, [`0.0.0.0:${server.port}`]);
    assert.deepEqual(listeningSockets(server.child.pid!), [`0.0.0.0:${server.port}`]);
  });

  it('never make the demo users reachable in production, whatever the host', () => {
    for (const host of ['127.0.0.1', '0.0.0.0']) {
      const dir = tempDir();
      try {
        const run = spawnSync(process.execPath, [join(AUTH_SERVER_DIR, 'src/main.ts')], {
          cwd: AUTH_SERVER_DIR,
          env: {
            PATH: process.env.PATH,
            NODE_ENV: 'production',
            HOST: host,
            PORT: '0',
            ISSUER: 'http://localhost:4999',
            M2M_CLIENT_SECRET: 'x'.repeat(40),
            DATA_DIR: dir,
          },
          encoding: 'utf8',
          timeout: 20_000,
        });
        assert.equal(run.status, 1, host);
        assert.match(
          run.stderr,
          /refusing plain passwords in the tenant file with NODE_ENV=production/,
          host,
        );
      } finally {
        removeDir(dir);
      }
    }
  });
});
