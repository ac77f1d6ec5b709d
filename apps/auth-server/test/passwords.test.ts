// Password hashes: what a stolen database row gives an attacker, and what a bad row does to sign-in.
import assert from 'node:assert/strict';
import { randomBytes, scryptSync } from 'node:crypto';
import { describe, it } from 'node:test';
import { HashingBusy, PasswordHasher } from '../src/security/password-hasher.ts';
import {
  hashPassword,
  isPasswordHash,
  needsRehash,
  verifyPassword,
  verifyPasswordSync,
} from '../src/security/passwords.ts';

/** A hash as the first version of this server wrote it (scrypt, N=2^15, r=8, p=1). */
function legacyScryptHash(password: string): string {
  const salt = randomBytes(16);
  const key = scryptSync(password, salt, 32, { N: 2 ** 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 });
  return `scrypt$32768$8$1$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

describe('password hashes', () => {
  it('are argon2id in PHC format with OWASP parameters and a fresh salt each time', async () => {
    const a = await hashPassword('Correct-Horse-9');
    const b = await hashPassword('Correct-Horse-9');
    assert.match(a, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
    assert.notEqual(a, b, 'salted');
    assert.equal(a.includes('Correct-Horse-9'), false);
    assert.equal(await verifyPassword('Correct-Horse-9', a), true);
    assert.equal(await verifyPassword('correct-horse-9', a), false);
    assert.equal(needsRehash(a), false);
  });

  it('still verify hashes of the earlier scheme (scrypt), and mark them for an upgrade', async () => {
    const old = legacyScryptHash('Alice-password-1');
    assert.equal(isPasswordHash(old), true);
    assert.equal(await verifyPassword('Alice-password-1', old), true);
    assert.equal(await verifyPassword('Alice-password-2', old), false);
    assert.equal(needsRehash(old), true);
    assert.equal(
      needsRehash('$argon2id$v=19$m=4096,t=1,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaA'),
      true,
    );
  });

  it('refuse, without an exception, a stored hash that is cut short, altered or absurd', async () => {
    const good = await hashPassword('Correct-Horse-9');
    const cut = good.slice(0, -8);
    const [, , , params, salt] = good.split('$');
    const huge = `$argon2id$v=19$m=9999999,t=2,p=1$${salt}$${good.split('$')[5]}`;
    const legacy = legacyScryptHash('Correct-Horse-9');
    const cases = [
      cut,
      huge,
      `$argon2id$v=19$${params}$${salt}$AAAA`,
      `$argon2i$v=19$${params}$${salt}$${good.split('$')[5]}`,
      legacy.slice(0, -10),
      legacy.replace('$32768$', '$1048576$'),
      legacy.replace('$32768$', '$1000$'),
      '',
      'plain-text-password',
    ];
    for (const stored of cases) {
      assert.equal(await verifyPassword('Correct-Horse-9', stored), false, stored);
      assert.equal(verifyPasswordSync('Correct-Horse-9', stored), false, `sync: ${stored}`);
    }
  });
});

describe('the password hashing threads', () => {
  it('make and check the same hashes as the rest of the server', async () => {
    const hasher = new PasswordHasher({ threads: 1, maxQueue: 4 });
    try {
      const made = await hasher.hash('Correct-Horse-9');
      assert.equal(await verifyPassword('Correct-Horse-9', made), true);
      assert.equal(await hasher.verify('Correct-Horse-9', await hashPassword('Correct-Horse-9')), true);
      assert.equal(await hasher.verify('Correct-Horse-9', legacyScryptHash('Correct-Horse-9')), true);
      assert.equal(await hasher.verify('wrong', made), false);
      assert.equal(await hasher.verify('Correct-Horse-9', undefined), false, 'an unknown user');
    } finally {
      await hasher.close();
    }
  });

  it('refuse at once, not later, the checks that find the queue full', async () => {
    const hasher = new PasswordHasher({ threads: 1, maxQueue: 3 });
    try {
      const stored = await hashPassword('Correct-Horse-9');
      const results = await Promise.allSettled(Array.from({ length: 12 }, () => hasher.verify('x', stored)));
      const busy = results.filter((r) => r.status === 'rejected' && r.reason instanceof HashingBusy).length;
      const done = results.filter((r) => r.status === 'fulfilled').length;
      assert.equal(busy + done, 12, 'no other error');
      assert.ok(done >= 4 && done <= 5, `one running and three waiting get through (${done})`);
      assert.equal(await hasher.verify('Correct-Horse-9', stored), true, 'and the queue drains');
    } finally {
      await hasher.close();
    }
  });
});
