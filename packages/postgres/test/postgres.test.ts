// The shared PostgreSQL helpers against a real server (TEST_DATABASE_URL, or one @calling-api/testkit starts).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { freePort } from '@calling-api/testkit';
import { startPostgres, type TestPostgres } from '@calling-api/testkit/postgres';
import pg from 'pg';
import {
  connectionOptions,
  createPool,
  describeDatabase,
  isDatabaseUrl,
  isUnavailable,
  isUniqueViolation,
  migrate,
  trafficProtected,
} from '../src/postgres.ts';

let server: TestPostgres;
before(async () => {
  server = await startPostgres();
});
after(() => server?.stop());

describe('postgres helpers', () => {
  it('apply each migration once, in order, when several programs start at once', async () => {
    const url = await server.createDatabase();
    const migrations = [
      { name: 'one', sql: 'CREATE TABLE t (id integer PRIMARY KEY)' },
      { name: 'two', sql: 'ALTER TABLE t ADD COLUMN v text' },
    ];
    const clients = await Promise.all(
      Array.from({ length: 4 }, async () => {
        const c = new pg.Client(connectionOptions(url, 'test'));
        await c.connect();
        return c;
      }),
    );
    await Promise.all(clients.map((c) => migrate(c, { lock: 'test', table: 'versions', migrations })));
    const { rows } = await clients[0]!.query('SELECT version, name FROM versions ORDER BY version');
    assert.deepEqual(rows, [
      { version: 1, name: 'one' },
      { version: 2, name: 'two' },
    ]);
    await assert.rejects(
      migrate(clients[0]!, { lock: 'test', table: 'versions', migrations: migrations.slice(0, 1) }),
      /newer than this program's 1/,
    );
    await Promise.all(clients.map((c) => c.end()));
  });

  it('tell an unreachable server and a duplicate key from other errors, quickly', async () => {
    const pool = createPool(`postgres://u:pw@127.0.0.1:${await freePort()}/db`, { name: 'test', size: 1 });
    const started = Date.now();
    const down = await pool.query('SELECT 1').catch((e: unknown) => e);
    assert.ok(isUnavailable(down), String(down));
    assert.ok(Date.now() - started < 3000);
    await pool.end();
    const url = await server.createDatabase();
    const live = createPool(url, { name: 'test', size: 1 });
    await live.query('CREATE TABLE u (k text PRIMARY KEY)');
    await live.query(`INSERT INTO u VALUES ('a')`);
    const dup = await live.query(`INSERT INTO u VALUES ('a')`).catch((e: unknown) => e);
    assert.ok(isUniqueViolation(dup) && !isUnavailable(dup));
    const bug = await live.query('SELECT nope FROM u').catch((e: unknown) => e);
    assert.ok(!isUnavailable(bug) && !isUniqueViolation(bug));
    assert.equal((await live.query('SELECT 9007199254740991::bigint AS n')).rows[0].n, 9007199254740991);
    await live.end();
  });

  it('check and describe a DATABASE_URL without its user or password', () => {
    assert.ok(isDatabaseUrl('postgres://u:p@h/db') && isDatabaseUrl('postgresql://h/db'));
    assert.ok(!isDatabaseUrl('mysql://h/db') && !isDatabaseUrl('postgres://[bad'));
    assert.equal(
      describeDatabase('postgres://auth:s3cret@db.example:5432/auth'),
      'PostgreSQL at db.example:5432/auth',
    );
    assert.ok(trafficProtected('postgres://u:p@127.0.0.1/db'));
    assert.ok(trafficProtected('postgres://u:p@db.example/db?sslmode=verify-full'));
    assert.ok(!trafficProtected('postgres://u:p@db.example/db'));
    assert.ok(!trafficProtected('postgres://u:p@db.example/db?sslmode=prefer'));
  });
});
