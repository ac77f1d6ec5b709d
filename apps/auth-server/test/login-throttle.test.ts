import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LoginThrottle } from '../src/security/login-throttle.ts';
import { SqliteStorage } from '../src/store/sqlite/sqlite-storage.ts';
import { removeDir, tempDir } from './support/auth-server-process.ts';

const MIN = 60_000;

function throttle() {
  const dir = tempDir('throttle-');
  const { db } = new SqliteStorage(dir);
  const done = () => {
    db.close();
    removeDir(dir);
  };
  return { t: new LoginThrottle(db), done };
}

describe('login throttling', () => {
  it('holds a place for each admitted attempt, so parallel guesses cannot all pass before the first failure is written', () => {
    const { t, done } = throttle();
    const now = Date.now();
    // 20 guesses arriving together: each is admitted or refused before any password is checked.
    const verdicts = Array.from({ length: 20 }, () => t.admit('alice@example.com', '10.0.0.9', now));
    assert.equal(verdicts.filter((v) => !v.locked).length, 5, 'only the pair limit gets through');
    for (let i = 0; i < 5; i++) t.settle('alice@example.com', '10.0.0.9', false, now);
    assert.equal(t.check('alice@example.com', '10.0.0.9', now).locked, true, 'five failures lock the pair');
    done();
  });

  it('records nothing for attempts that succeed, even many at once', () => {
    const { t, done } = throttle();
    const now = Date.now();
    for (let round = 0; round < 12; round++) {
      for (let i = 0; i < 5; i++) assert.equal(t.admit('bob@example.com', '10.0.0.7', now).locked, false);
      for (let i = 0; i < 5; i++) t.settle('bob@example.com', '10.0.0.7', true, now);
    }
    assert.equal(
      t.check('bob@example.com', '10.0.0.7', now).locked,
      false,
      'sixty good sign-ins lock nothing',
    );
    done();
  });

  it('locks an account for one address after 5 failures, for 15 minutes only', () => {
    const { t, done } = throttle();
    const now = Date.now();
    for (let i = 0; i < 5; i++) t.recordFailure('bob@example.com', '10.0.0.1', now);
    assert.deepEqual(t.check('bob@example.com', '10.0.0.1', now + 1000), {
      locked: true,
      reason: 'locked',
      retryAfterSeconds: 899,
    });
    assert.equal(
      t.check('bob@example.com', '10.0.0.1', now + 15 * MIN + 1).locked,
      false,
      'never locked for good',
    );
    done();
  });

  it('does not lock the real user out from another address, but slows every attempt on that account', () => {
    const { t, done } = throttle();
    const now = Date.now();
    const delays: number[] = [];
    for (let i = 0; i < 12; i++) {
      const v = t.check('bob@example.com', `10.0.1.${i}`, now);
      assert.equal(v.locked, false, `attempt ${i + 1} from a fresh address is never locked`);
      delays.push(v.locked ? -1 : v.delayMs);
      t.recordFailure('bob@example.com', `10.0.1.${i}`, now);
    }
    // The first 5 attempts are not slowed; from the 6th on, 250 ms doubling, capped at 10 s.
    assert.deepEqual(delays, [0, 0, 0, 0, 0, 250, 500, 1000, 2000, 4000, 8000, 10_000]);
    done();
  });

  it('locks an address that tries many accounts', () => {
    const { t, done } = throttle();
    const now = Date.now();
    for (let i = 0; i < 50; i++) t.recordFailure(`user${i}@example.com`, '10.0.0.9', now);
    assert.equal(t.check('fresh@example.com', '10.0.0.9', now).locked, true);
    assert.equal(t.check('fresh@example.com', '10.0.0.8', now).locked, false);
    done();
  });

  it('forgets the failures of an account once its owner signs in', () => {
    const { t, done } = throttle();
    const now = Date.now();
    for (let i = 0; i < 4; i++) t.recordFailure('bob@example.com', '10.0.0.1', now);
    t.recordSuccess('bob@example.com', '10.0.0.1');
    t.recordFailure('bob@example.com', '10.0.0.1', now);
    assert.equal(t.check('bob@example.com', '10.0.0.1', now).locked, false);
    done();
  });

  it('counts every sign-up attempt from an address and stops the eleventh for 15 minutes', () => {
    const { t, done } = throttle();
    const now = Date.now();
    for (let i = 0; i < 10; i++)
      assert.equal(t.admitSignup('10.0.0.5', now).locked, false, `attempt ${i + 1}`);
    assert.deepEqual(t.admitSignup('10.0.0.5', now + 1000), {
      locked: true,
      reason: 'locked',
      retryAfterSeconds: 899,
    });
    assert.equal(t.admitSignup('10.0.0.6', now).locked, false, 'another address is unaffected');
    assert.equal(t.check('alice@example.com', '10.0.0.5', now).locked, false, 'sign-in is unaffected');
    assert.equal(t.admitSignup('10.0.0.5', now + 15 * MIN + 1).locked, false, 'never locked for good');
    done();
  });
});
