// Signing keys and cookie/CSRF secrets: generated on first start, rotated in three steps. The store keeps them
// (keys.json on SQLite, tables on PostgreSQL); the states and their order are decided here.
import { randomBytes } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from 'jose';
import type { KeySet, KeyState, KeyStore, SigningKey } from '../store/storage.ts';

export class KeyStoreError extends Error {
  override name = 'KeyStoreError';
}

async function newSigningKey(state: KeyState): Promise<SigningKey> {
  const { privateKey } = await generateKeyPair('RS256', { extractable: true, modulusLength: 2048 });
  const jwk = await exportJWK(privateKey);
  jwk.kid = await calculateJwkThumbprint(jwk);
  jwk.alg = 'RS256';
  jwk.use = 'sig';
  return { jwk, state, createdAt: Date.now() };
}

function checked(keys: KeySet): KeySet {
  if (!Array.isArray(keys.signingKeys) || !keys.signingKeys.some((k) => k.state === 'current'))
    throw new KeyStoreError('the stored key set has no current signing key');
  return keys;
}

/** The stored key set, checked; undefined before the first start. */
export async function readKeys(store: KeyStore): Promise<KeySet | undefined> {
  const keys = await store.read();
  return keys && checked(keys);
}

/** The key set, made on first use: of instances starting at once, one makes it and the others read it. */
export async function loadOrCreateKeys(store: KeyStore): Promise<KeySet> {
  const existing = await readKeys(store);
  if (existing) return existing;
  return store.update(
    async (current) =>
      current ?? {
        signingKeys: [await newSigningKey('current')],
        cookieKeys: [randomBytes(32).toString('base64url')],
        csrfSecret: randomBytes(32).toString('base64url'),
      },
  );
}

/** The provider's private JWKS: the current key first (the first matching key signs), all published. */
export function providerJwks(keys: KeySet): { keys: JWK[] } {
  const order: Record<KeyState, number> = { current: 0, next: 1, previous: 2 };
  return { keys: [...keys.signingKeys].sort((a, b) => order[a.state] - order[b.state]).map((k) => k.jwk) };
}

async function change<T>(store: KeyStore, step: (keys: KeySet) => Promise<T> | T): Promise<T> {
  await loadOrCreateKeys(store);
  let result: T;
  await store.update(async (current) => {
    const keys = structuredClone(checked(current!));
    result = await step(keys);
    return keys;
  });
  return result!;
}

/** Step 1: publish a new key that does not sign yet, so resource servers can learn it first. */
export function stageKey(store: KeyStore): Promise<SigningKey> {
  return change(store, async (keys) => {
    if (keys.signingKeys.some((k) => k.state === 'next'))
      throw new KeyStoreError('a new key is already staged; activate it first');
    const key = await newSigningKey('next');
    keys.signingKeys.push(key);
    return key;
  });
}

/** Step 2: the staged key signs from now on; the old one stays published as "previous". */
export function activateKey(store: KeyStore): Promise<SigningKey> {
  return change(store, (keys) => {
    const next = keys.signingKeys.find((k) => k.state === 'next');
    if (!next) throw new KeyStoreError('no staged key; run rotate-keys first');
    for (const k of keys.signingKeys) {
      if (k.state === 'current') {
        k.state = 'previous';
        k.retiredAt = Date.now();
      }
    }
    next.state = 'current';
    return next;
  });
}

/** Step 3: drop previous keys retired longer ago than the longest token lifetime. */
export function pruneKeys(store: KeyStore, olderThanSeconds: number): Promise<string[]> {
  return change(store, (keys) => {
    const cutoff = Date.now() - olderThanSeconds * 1000;
    const removed = keys.signingKeys.filter((k) => k.state === 'previous' && (k.retiredAt ?? 0) <= cutoff);
    keys.signingKeys = keys.signingKeys.filter((k) => !removed.includes(k));
    return removed.map((k) => k.jwk.kid!);
  });
}
