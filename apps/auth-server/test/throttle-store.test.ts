// The throttles' storage contract (security/throttle-store.ts) on SQLite: what a PostgreSQL version must
// also pass. The clock is passed in, so windows, refills and expiries are tested without waiting.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { networkOf } from '../src/security/network.ts';
import { SqliteStorage } from '../src/store/sqlite/sqlite-storage.ts';
import { removeDir, tempDir } from './support/auth-server-process.ts';

const dir = tempDir('throttle-store-');
const storage = new SqliteStorage(dir);
const { db, throttle: store } = storage;
after(() => {
  db.close();
  removeDir(dir);
});

const T = 1_700_000_000_000;
const bucket = { capacity: 3, refillMs: 1000 };
const counter = { limit: 3, windowMs: 10_000, lockMs: 60_000 };

describe('throttle store: buckets', () => {
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

describe('throttle store: counters', () => {
  it('locks a key when its failures reach the limit within the window, for the lock time only', async () => {
    assert.deepEqual(await store.fail('c1', counter, T), { failures: 1, lockedUntil: 0 });
    assert.deepEqual(await store.fail('c1', counter, T + 1), { failures: 2, lockedUntil: 0 });
    assert.deepEqual(await store.fail('c1', counter, T + 2), { failures: 0, lockedUntil: T + 2 + 60_000 });
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

describe('throttle store: leases', () => {
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

describe('throttle store: sweep', () => {
  it('deletes only rows that no longer limit anything', async () => {
    const fresh = 'sweep-bucket';
    await store.take(fresh, bucket, T);
    await store.fail('sweep-counter', counter, T);
    await store.acquire('sweep-lease', 'h', 1, 1000, T);
    const rows = () =>
      ['throttle_buckets', 'throttle_counters', 'throttle_leases'].map(
        (t) =>
          (db.prepare(`SELECT count(*) AS n FROM ${t} WHERE key LIKE 'sweep-%'`).get() as { n: number }).n,
      );
    await store.sweep(T + 500);
    assert.deepEqual(rows(), [1, 1, 1], 'all still limit something');
    await store.sweep(T + 10_000);
    assert.deepEqual(rows(), [0, 0, 0], 'full bucket, ended window, expired place');
  });
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
