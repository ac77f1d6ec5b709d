// The sign-in and sign-up rules of SECURITY.md, on the real SQLite store with a clock the test moves.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { removeDir, tempDir } from '@calling-api/testkit/auth-server';
import { type Admission, LoginThrottle, type Ticket } from '../src/security/login-throttle.ts';
import { SqliteStorage } from '../src/store/sqlite/sqlite-storage.ts';

const SEC = 1000;
const MIN = 60 * SEC;

function throttle() {
  const dir = tempDir('throttle-');
  const { db, throttle: store } = new SqliteStorage(dir);
  const clock = { now: 1_700_000_000_000 };
  const t = new LoginThrottle(store, { now: () => clock.now });
  const done = () => {
    db.close();
    removeDir(dir);
  };
  return { t, clock, done };
}

const ticket = (a: Admission): Ticket => {
  assert.ok(a.admitted, `refused: ${JSON.stringify(a)}`);
  return a.ticket;
};
const reason = (a: Admission) => (a.admitted ? 'admitted' : a.refusal.reason);

/** One whole attempt: admitted and failed, or the refusal's reason. */
async function guess(t: LoginThrottle, email: string, network: string, device?: string) {
  const a = await t.admit({ email, network, ...(device ? { device } : {}) });
  if (a.admitted) await t.settle(a.ticket, 'failed');
  return reason(a);
}

describe('login throttling', () => {
  it('lets one password check per account run at a time: of 20 parallel guesses one is admitted', async () => {
    const { t, done } = throttle();
    const verdicts = await Promise.all(
      Array.from({ length: 20 }, (_, i) => t.admit({ email: 'alice@example.com', network: `10.0.0.${i}` })),
    );
    const reasons = verdicts.map(reason);
    assert.equal(reasons.filter((r) => r === 'admitted').length, 1, reasons.join(' '));
    // The others are refused at once, not queued: busy (the one place is taken) or rate (the tokens they
    // held for a moment were all out); either way nothing was hashed for them and the budget is intact.
    assert.ok(
      reasons.every((r) => ['admitted', 'busy', 'rate'].includes(r)),
      reasons.join(' '),
    );
    const refused = verdicts.find((v) => !v.admitted && v.refusal.reason === 'busy');
    assert.deepEqual(!refused?.admitted && refused?.refusal, { reason: 'busy', retryAfterSeconds: 1 });
    await t.settle(ticket(verdicts.find((v) => v.admitted)!), 'failed');
    for (let i = 0; i < 4; i++) assert.equal(await guess(t, 'alice@example.com', `10.0.0.${i}`), 'admitted');
    assert.equal(await guess(t, 'alice@example.com', '10.0.0.4'), 'rate', 'five failures spent the budget');
    done();
  });

  it('lets 4 checks from one network run at a time, whatever the accounts', async () => {
    const { t, done } = throttle();
    const verdicts = await Promise.all(
      Array.from({ length: 6 }, (_, i) => t.admit({ email: `user${i}@example.com`, network: '10.0.0.9' })),
    );
    assert.deepEqual(verdicts.map(reason), ['admitted', 'admitted', 'admitted', 'admitted', 'busy', 'busy']);
    assert.equal(reason(await t.admit({ email: 'user9@example.com', network: '10.0.0.8' })), 'admitted');
    done();
  });

  it('records nothing for attempts that succeed, even many in a row', async () => {
    const { t, done } = throttle();
    for (let i = 0; i < 60; i++) {
      await t.settle(ticket(await t.admit({ email: 'bob@example.com', network: '10.0.0.7' })), 'succeeded');
    }
    assert.equal(
      await guess(t, 'bob@example.com', '10.0.0.7'),
      'admitted',
      'sixty good sign-ins lock nothing',
    );
    done();
  });

  it('locks an account for one network after 5 failures, even for the right password, for 15 minutes only', async () => {
    const { t, clock, done } = throttle();
    for (let i = 0; i < 5; i++) {
      assert.equal(await guess(t, 'bob@example.com', '10.0.0.1'), 'admitted');
      clock.now += 20 * SEC; // within the account's budget
    }
    clock.now += SEC;
    const locked = await t.admit({ email: 'bob@example.com', network: '10.0.0.1' });
    assert.equal(locked.admitted, false);
    assert.equal(!locked.admitted && locked.refusal.reason, 'locked');
    assert.ok(!locked.admitted && locked.refusal.retryAfterSeconds > 14 * 60, 'told to wait the lock out');
    assert.equal(await guess(t, 'bob@example.com', '10.0.0.2'), 'admitted', 'another network is not locked');
    clock.now += 15 * MIN;
    assert.equal(await guess(t, 'bob@example.com', '10.0.0.1'), 'admitted', 'never locked for good');
    done();
  });

  it('gives guesses on one account from many networks 5 attempts, then one per 10 s', async () => {
    const { t, clock, done } = throttle();
    const outcomes: string[] = [];
    for (let i = 0; i < 8; i++) outcomes.push(await guess(t, 'carol@example.com', `10.0.1.${i}`));
    assert.deepEqual(outcomes, [...Array(5).fill('admitted'), 'rate', 'rate', 'rate']);
    const refused = await t.admit({ email: 'carol@example.com', network: '10.0.1.99' });
    assert.deepEqual(!refused.admitted && refused.refusal, { reason: 'rate', retryAfterSeconds: 10 });
    // Over the next minute: one more attempt every 10 s, whatever the number of networks.
    let admitted = 0;
    for (let s = 0; s < 60; s++) {
      clock.now += SEC;
      for (let n = 0; n < 5; n++)
        if ((await guess(t, 'carol@example.com', `10.2.${s}.${n}`)) === 'admitted') admitted++;
    }
    assert.equal(admitted, 6);
    clock.now += MIN;
    assert.equal(await guess(t, 'carol@example.com', '10.0.1.200'), 'admitted', 'a budget, never a lock');
    done();
  });

  it("keeps the owner's browser out of it: the account's device cookie has a budget of its own", async () => {
    const { t, done } = throttle();
    for (let i = 0; i < 6; i++) await guess(t, 'carol@example.com', `10.0.3.${i}`);
    assert.equal(reason(await t.admit({ email: 'carol@example.com', network: '192.0.2.30' })), 'rate');
    const mine = ticket(
      await t.admit({ email: 'carol@example.com', network: '192.0.2.30', device: 'dev-1' }),
    );
    await t.settle(mine, 'succeeded');
    done();
  });

  it('gives a right password its token back, so the owner never spends the budget', async () => {
    const { t, done } = throttle();
    for (let i = 0; i < 4; i++) await guess(t, 'dave@example.com', `10.0.4.${i}`);
    for (let i = 0; i < 10; i++) {
      await t.settle(ticket(await t.admit({ email: 'dave@example.com', network: '10.0.4.50' })), 'succeeded');
    }
    await t.settle(ticket(await t.admit({ email: 'dave@example.com', network: '10.0.4.60' })), 'unchecked');
    assert.equal(
      await guess(t, 'dave@example.com', '10.0.4.70'),
      'admitted',
      'the fifth token is still there',
    );
    assert.equal(await guess(t, 'dave@example.com', '10.0.4.71'), 'rate');
    done();
  });

  it('locks a network that tries many accounts after 50 failures', async () => {
    const { t, done } = throttle();
    for (let i = 0; i < 50; i++) assert.equal(await guess(t, `user${i}@example.com`, '10.0.0.9'), 'admitted');
    assert.equal(await guess(t, 'fresh@example.com', '10.0.0.9'), 'locked');
    assert.equal(await guess(t, 'fresh@example.com', '10.0.0.8'), 'admitted');
    done();
  });

  it('forgets the failures of an account on a network once its owner signs in there', async () => {
    const { t, clock, done } = throttle();
    for (let i = 0; i < 4; i++) {
      await guess(t, 'bob@example.com', '10.0.0.1');
      clock.now += 10 * SEC;
    }
    await t.settle(ticket(await t.admit({ email: 'bob@example.com', network: '10.0.0.1' })), 'succeeded');
    await guess(t, 'bob@example.com', '10.0.0.1');
    assert.equal(reason(await t.admit({ email: 'bob@example.com', network: '10.0.0.1' })), 'admitted');
    done();
  });

  it('counts every sign-up attempt from a network and stops the eleventh for 15 minutes', async () => {
    const { t, clock, done } = throttle();
    for (let i = 0; i < 10; i++)
      assert.equal((await t.admitSignup('10.0.0.5')).admitted, true, `attempt ${i + 1}`);
    clock.now += SEC;
    assert.deepEqual(await t.admitSignup('10.0.0.5'), {
      admitted: false,
      refusal: { reason: 'locked', retryAfterSeconds: 899 },
    });
    assert.equal((await t.admitSignup('10.0.0.6')).admitted, true, 'another network is unaffected');
    assert.equal(await guess(t, 'alice@example.com', '10.0.0.5'), 'admitted', 'sign-in is unaffected');
    clock.now += 15 * MIN;
    assert.equal((await t.admitSignup('10.0.0.5')).admitted, true, 'never locked for good');
    done();
  });
});
