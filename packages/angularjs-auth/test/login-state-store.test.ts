import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  clearLoginState,
  type LoginState,
  safeReturnPath,
  saveLoginState,
  takeLoginState,
} from '../src/auth/login-state-store.ts';

class MemoryStorage implements Storage {
  private readonly map = new Map<string, string>();
  get length() {
    return this.map.size;
  }
  clear() {
    this.map.clear();
  }
  getItem(key: string) {
    return this.map.get(key) ?? null;
  }
  key(index: number) {
    return [...this.map.keys()][index] ?? null;
  }
  removeItem(key: string) {
    this.map.delete(key);
  }
  setItem(key: string, value: string) {
    this.map.set(key, value);
  }
}

const state: LoginState = {
  codeVerifier: 'v'.repeat(43),
  state: 's1',
  nonce: 'n1',
  returnTo: '/ping',
  createdAt: Date.now(),
};

describe('transient login state', () => {
  it('is read once, then gone (a replayed callback finds nothing)', () => {
    const storage = new MemoryStorage();
    saveLoginState(storage, state);
    assert.deepEqual(takeLoginState(storage), state);
    assert.equal(storage.length, 0);
    assert.equal(takeLoginState(storage), undefined);
  });

  it('is refused when stale, malformed or incomplete, and removed all the same', () => {
    const storage = new MemoryStorage();
    saveLoginState(storage, { ...state, createdAt: Date.now() - 16 * 60 * 1000 });
    assert.equal(takeLoginState(storage), undefined);
    storage.setItem('calling-api.login-state', '{not json');
    assert.equal(takeLoginState(storage), undefined);
    saveLoginState(storage, { ...state, nonce: '' });
    assert.equal(takeLoginState(storage), undefined);
    assert.equal(storage.length, 0);
  });

  it('is cleared on logout', () => {
    const storage = new MemoryStorage();
    saveLoginState(storage, state);
    clearLoginState(storage);
    assert.equal(storage.length, 0);
  });
});

describe('return path after sign-in', () => {
  it('keeps paths of this app, with query and fragment', () => {
    assert.equal(safeReturnPath('/ping'), '/ping');
    assert.equal(safeReturnPath('/profile?tab=1#x'), '/profile?tab=1#x');
  });

  it('refuses anything that leaves the app (open redirect)', () => {
    for (const candidate of [
      undefined,
      '',
      'https://evil.example/',
      '//evil.example/',
      '/\\evil.example/',
      '/\t/evil.example/',
      'javascript:alert(1)',
      'ping',
      '/callback?code=x',
    ]) {
      assert.equal(safeReturnPath(candidate), '/', String(candidate));
    }
  });
});
