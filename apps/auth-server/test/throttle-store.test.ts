// The throttles' storage contract (security/throttle-store.ts), one suite run on SQLite and on a real
// PostgreSQL (TEST_DATABASE_URL, or one started by @calling-api/testkit). The clock is passed in, so
// windows, refills and expiries are tested without waiting; two instances on the same data take turns.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { removeDir, tempDir } from '@calling-api/testkit/auth-server';
import { startPostgres, type TestPostgres } from '@calling-api/testkit/postgres';
import pg from 'pg';
import { networkOf } from '../src/security/network.ts';
import type { ThrottleStore } from '../src/security/throttle-store.ts';
import { PostgresStorage } from '../src/store/postgres/postgres-storage.ts';
import { SqliteStorage } from '../src/store/sqlite/sqlite-storage.ts';

type Opened = {
  /** Two instances' stores on the same data. */
  store: ThrottleStore;
  twin: ThrottleStore;
  /** Rows of each throttle table whose key starts with `sweep-`. */
  sweepRows(): Promise<number[]>;
  done(): Promise<void>;
};

const TABLES = ['throttle_buckets', 'throttle_counters', 'throttle_leases'];

function contract(name: string, open: () => Promise<Opened>): void {
  describe(`throttle store: ${name}`, () => {
    let opened: Opened;
    let store: ThrottleStore;
    let sweepRows: Opened['sweepRows'];
    before(async () => {
      opened = await open();
      ({ store, sweepRows } = opened);
    });
    after(() => opened?.done());

    describe('buckets', () => {
      it('gives a new bucket its capacity, then refuses with the wait for the next token', async () => {
        for (let i = 0; i < 3; i++)
          assert.deepEqual(await store.take('b1', bucket, T), { ok: true }, `token ${i}`);
        assert.deepEqual(await store.take('b1', bucket, T + 250), { ok: false, retryAfterMs: 750 });
        assert.deepEqual(await store.take('b1', bucket, T + 1000), { ok: true }, 'one token a second');
        assert.equal((await store.take('b1', bucket, T + 1000)).ok, false);
      });

      it('refills up to its capacity and no further, and a token given back can be taken again', async () => {
        for (let i = 0; i < 3; i++) await store.take('b2', bucket, T);
        assert.equal((await store.take('b2', bucket, T)).ok, false);
        await store.giveBack('b2', bucket, T);
        assert.equal((await store.take('b2', bucket, T)).ok, true, 'the token given back');
        const later = T + 60_000;
        let taken = 0;
        while ((await store.take('b2', bucket, later)).ok) taken++;
        assert.equal(taken, 3, 'a minute later: full, not 60 tokens');
        for (let i = 0; i < 10; i++) await store.giveBack('b2', bucket, later);
        taken = 0;
        while ((await store.take('b2', bucket, later)).ok) taken++;
        assert.equal(taken, 3, 'giving back never goes over capacity');
      });

      it('refills nothing when the clock goes back', async () => {
        for (let i = 0; i < 3; i++) await store.take('b3', bucket, T);
        assert.equal((await store.take('b3', bucket, T - 5000)).ok, false);
      });
    });

    describe('counters', () => {
      it('locks a key when its failures reach the limit within the window, for the lock time only', async () => {
        assert.deepEqual(await store.fail('c1', counter, T), { failures: 1, lockedUntil: 0 });
        assert.deepEqual(await store.fail('c1', counter, T + 1), { failures: 2, lockedUntil: 0 });
        assert.deepEqual(await store.fail('c1', counter, T + 2), {
          failures: 0,
          lockedUntil: T + 2 + 60_000,
        });
        assert.equal((await store.read('c1', counter, T + 59_000)).lockedUntil, T + 60_002);
        assert.deepEqual(await store.read('c1', counter, T + 60_003), { failures: 0, lockedUntil: 0 });
      });

      it('starts counting again once the window has passed, and forgets on request', async () => {
        await store.fail('c2', counter, T);
        await store.fail('c2', counter, T);
        assert.deepEqual(
          await store.fail('c2', counter, T + 10_000),
          { failures: 1, lockedUntil: 0 },
          'new window',
        );
        await store.forget(['c2']);
        assert.deepEqual(await store.read('c2', counter, T + 10_000), { failures: 0, lockedUntil: 0 });
      });
    });

    describe('leases', () => {
      it('gives out at most `slots` places on a key, again to the same holder, and frees them on release', async () => {
        assert.equal(await store.acquire('l1', 'a', 2, 1000, T), true);
        assert.equal(await store.acquire('l1', 'b', 2, 1000, T), true);
        assert.equal(await store.acquire('l1', 'c', 2, 1000, T), false);
        assert.equal(await store.acquire('l1', 'a', 2, 1000, T), true, 'a holder may renew its place');
        await store.release('l1', 'a');
        assert.equal(await store.acquire('l1', 'c', 2, 1000, T), true);
        assert.equal(await store.acquire('l2', 'x', 1, 1000, T), true, 'keys are independent');
      });

      it('frees a place that was never released once its time is up (a process that died mid-check)', async () => {
        assert.equal(await store.acquire('l3', 'dead', 1, 30_000, T), true);
        assert.equal(await store.acquire('l3', 'next', 1, 30_000, T + 29_999), false);
        assert.equal(await store.acquire('l3', 'next', 1, 30_000, T + 30_000), true);
      });
    });

    describe('sweep', () => {
      it('deletes only rows that no longer limit anything', async () => {
        const fresh = 'sweep-bucket';
        await store.take(fresh, bucket, T);
        await store.fail('sweep-counter', counter, T);
        await store.acquire('sweep-lease', 'h', 1, 1000, T);
        await store.sweep(T + 500);
        assert.deepEqual(await sweepRows(), [1, 1, 1], 'all still limit something');
        await store.sweep(T + 10_000);
        assert.deepEqual(await sweepRows(), [0, 0, 0], 'full bucket, ended window, expired place');
      });
    });

    describe('two instances at once', () => {
      it("give out a bucket's tokens once: 20 parallel takes of 5 tokens, 5 succeed", async () => {
        const both = [opened.store, opened.twin];
        const results = await Promise.all(
          Array.from({ length: 20 }, (_, i) =>
            both[i % 2]!.take('race-b', { capacity: 5, refillMs: 60_000 }, T),
          ),
        );
        assert.equal(results.filter((r) => r.ok).length, 5);
      });

      it('count every failure once: 10 parallel failures with a limit of 3 lock three times', async () => {
        const both = [opened.store, opened.twin];
        const results = await Promise.all(
          Array.from({ length: 10 }, (_, i) => both[i % 2]!.fail('race-c', counter, T)),
        );
        assert.deepEqual(results.map((r) => r.failures).sort(), [0, 0, 0, 1, 1, 1, 1, 2, 2, 2]);
      });

      it('give one place to one holder: 10 parallel acquires of a one-place key, 1 succeeds', async () => {
        const both = [opened.store, opened.twin];
        const results = await Promise.all(
          Array.from({ length: 10 }, (_, i) => both[i % 2]!.acquire('race-l', `h${i}`, 1, 10_000, T)),
        );
        assert.equal(results.filter(Boolean).length, 1);
      });
    });
  });
}

const T = 1_700_000_000_000;
const bucket = { capacity: 3, refillMs: 1000 };
const counter = { limit: 3, windowMs: 10_000, lockMs: 60_000 };

contract('SQLite', async () => {
  const dir = tempDir('throttle-store-');
  const storage = new SqliteStorage(dir);
  const twin = new SqliteStorage(dir);
  return {
    store: storage.throttle,
    twin: twin.throttle,
    sweepRows: async () =>
      TABLES.map(
        (t) =>
          (
            storage.db.prepare(`SELECT count(*) AS n FROM ${t} WHERE key LIKE 'sweep-%'`).get() as {
              n: number;
            }
          ).n,
      ),
    async done() {
      await twin.close();
      await storage.close();
      removeDir(dir);
    },
  };
});

let server: TestPostgres;
before(async () => {
  server = await startPostgres();
});
after(() => server?.stop());

contract('PostgreSQL', async () => {
  const url = await server.createDatabase();
  const storage = await PostgresStorage.open({ url, poolSize: 6 });
  const twin = await PostgresStorage.open({ url, poolSize: 6 });
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  return {
    store: storage.throttle,
    twin: twin.throttle,
    sweepRows: () =>
      Promise.all(
        TABLES.map(async (t) => {
          const { rows } = await client.query(`SELECT count(*)::int AS n FROM ${t} WHERE key LIKE 'sweep-%'`);
          return rows[0].n as number;
        }),
      ),
    async done() {
      await client.end();
      await twin.close();
      await storage.close();
    },
  };
});

describe('networks', () => {
  it('are an IPv4 address, the /64 of an IPv6 address, and an IPv4-mapped address is its IPv4 address', () => {
    assert.equal(networkOf('203.0.113.7'), '203.0.113.7');
    assert.equal(networkOf('::ffff:203.0.113.7'), '203.0.113.7');
    assert.equal(networkOf('::FFFF:cb00:7107'), '203.0.113.7');
    assert.equal(networkOf('2001:db8:1:2:3:4:5:6'), '2001:db8:1:2::/64');
    assert.equal(networkOf('2001:DB8:1:2::ffff'), '2001:db8:1:2::/64', 'any spelling of the same /64');
    assert.notEqual(networkOf('2001:db8:1:3::1'), networkOf('2001:db8:1:2::1'));
    assert.equal(networkOf('not an address'), 'unknown');
    assert.equal(networkOf(undefined), 'unknown');
  });
});
