// The kit's promises, against the real programs: a free port, spawn-and-wait, a PostgreSQL server.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { freePort, spawnAndWait } from '../src/index.ts';
import { startPostgres, type TestPostgres } from '../src/postgres.ts';

describe('freePort and spawnAndWait', () => {
  it('start a server on a free port and resolve only once it answers', async () => {
    const port = await freePort();
    const script = `setTimeout(() => require('node:http').createServer((q, s) => s.end('up')).listen(${port}, '127.0.0.1', () => console.log('listening')), 300)`;
    const server = await spawnAndWait(process.execPath, ['-e', script], {
      ready: async () => (await fetch(`http://127.0.0.1:${port}/`)).ok,
    });
    try {
      assert.equal(await (await fetch(`http://127.0.0.1:${port}/`)).text(), 'up');
      assert.match(server.output(), /listening/);
    } finally {
      await server.stop();
    }
    assert.equal(server.child.signalCode, 'SIGTERM');
  });

  it('report the output of a program that exits before it is ready', async () => {
    await assert.rejects(
      spawnAndWait(process.execPath, ['-e', 'console.error("no config"); process.exit(3)'], {
        ready: async () => false,
        label: 'broken',
      }),
      /broken exited \(3\) before it was ready:\nno config/,
    );
  });
});

describe('startPostgres', () => {
  let server: TestPostgres;
  before(async () => {
    server = await startPostgres({ own: true });
  });
  after(async () => {
    await server?.stop();
  });

  const query = async (url: string, sql: string) => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      return (await client.query(sql)).rows;
    } finally {
      await client.end();
    }
  };

  it('starts a server on loopback that asks for a password, one database per test', async () => {
    const url = new URL(server.url);
    assert.equal(url.hostname, '127.0.0.1');
    const a = await server.createDatabase();
    const b = await server.createDatabase();
    assert.notEqual(a, b);
    await query(a, 'CREATE TABLE t (v int); INSERT INTO t VALUES (1)');
    await assert.rejects(query(b, 'SELECT * FROM t'), /relation "t" does not exist/);
    url.password = 'wrong';
    await assert.rejects(query(url.href, 'SELECT 1'), /password authentication failed/);
    console.log(`PostgreSQL started in ${(server.startupMs / 1000).toFixed(2)} s`);
  });

  it('restarts on the same port with the data kept, cutting the connections that were open', async () => {
    const db = await server.createDatabase();
    await query(db, 'CREATE TABLE kept (v int); INSERT INTO kept VALUES (42)');
    const open = new pg.Client({ connectionString: db });
    await open.connect();
    const cut = new Promise<Error>((resolve) => open.on('error', resolve));
    await server.restart(200);
    assert.match((await cut).message, /terminat/);
    await open.end().catch(() => undefined);
    assert.deepEqual(await query(db, 'SELECT v FROM kept'), [{ v: 42 }]);
  });

  it('removes its folder and stops listening when stopped', async () => {
    const other = await startPostgres({ own: true });
    assert.ok(other.folder && existsSync(other.folder));
    await other.stop();
    assert.equal(existsSync(other.folder!), false);
    await assert.rejects(query(other.url, 'SELECT 1'), /ECONNREFUSED/);
  });
});
