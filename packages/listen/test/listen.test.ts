import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { describe, it } from 'node:test';
import { listen } from '../src/listen.ts';
import { listeningSockets } from './support/listening-sockets.ts';

const hello = () => createServer((_req, res) => res.end('hello'));

describe('listen()', () => {
  it('listens on loopback only by default, on one port for 127.0.0.1 and ::1', async () => {
    const listening = await listen(hello, { port: 0 });
    try {
      assert.ok(listening.addresses.includes(`127.0.0.1:${listening.port}`));
      assert.ok(
        listening.addresses.every((a) => /^(127\.0\.0\.1|\[::1\]):\d+$/.test(a)),
        String(listening.addresses),
      );
      assert.deepEqual(listeningSockets(process.pid), [...listening.addresses].sort());
      assert.equal(listening.url, `http://localhost:${listening.port}`);
      for (const address of listening.addresses) {
        assert.equal(await (await fetch(`http://${address}/`)).text(), 'hello', address);
      }
      assert.equal(await (await fetch(`${listening.url}/`)).text(), 'hello', 'localhost, whichever family');
    } finally {
      await listening.close();
    }
    assert.deepEqual(listeningSockets(process.pid), [], 'close() releases every address');
  });

  it('listens where HOST says instead (here every interface), without connecting off loopback', async () => {
    const listening = await listen(hello, { port: 0, host: '0.0.0.0' });
    try {
      assert.deepEqual(listening.addresses, [`0.0.0.0:${listening.port}`]);
      assert.deepEqual(listeningSockets(process.pid), [`0.0.0.0:${listening.port}`]);
      assert.equal(await (await fetch(`http://127.0.0.1:${listening.port}/`)).text(), 'hello');
    } finally {
      await listening.close();
    }
  });

  it('fails clearly when the port is taken', async () => {
    const first = await listen(hello, { port: 0 });
    try {
      await assert.rejects(listen(hello, { port: first.port }), { code: 'EADDRINUSE' });
    } finally {
      await first.close();
    }
  });
});
