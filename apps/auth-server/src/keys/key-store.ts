// Signing keys and cookie/CSRF secrets, generated on first start and persisted in DATA_DIR (0600, atomic writes).
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from 'jose';

/** next: published, not signing yet; current: signs; previous: published until its tokens expire. */
export type KeyState = 'next' | 'current' | 'previous';
export type SigningKey = { jwk: JWK; state: KeyState; createdAt: number; retiredAt?: number };
export type KeyFile = { signingKeys: SigningKey[]; cookieKeys: string[]; csrfSecret: string };

export class KeyStoreError extends Error {
  override name = 'KeyStoreError';
}

export const keyFilePath = (dataDir: string) => join(dataDir, 'keys.json');

async function newSigningKey(state: KeyState): Promise<SigningKey> {
  const { privateKey } = await generateKeyPair('RS256', { extractable: true, modulusLength: 2048 });
  const jwk = await exportJWK(privateKey);
  jwk.kid = await calculateJwkThumbprint(jwk);
  jwk.alg = 'RS256';
  jwk.use = 'sig';
  return { jwk, state, createdAt: Date.now() };
}

function write(dataDir: string, keys: KeyFile): void {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const file = keyFilePath(dataDir);
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(keys, null, 2)}\n`, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
}

export function readKeys(dataDir: string): KeyFile | undefined {
  const file = keyFilePath(dataDir);
  if (!existsSync(file)) return undefined;
  let keys: KeyFile;
  try {
    keys = JSON.parse(readFileSync(file, 'utf8')) as KeyFile;
  } catch (err) {
    throw new KeyStoreError(`cannot read ${file}: ${(err as Error).message}`);
  }
  if (!Array.isArray(keys.signingKeys) || !keys.signingKeys.some((k) => k.state === 'current')) {
    throw new KeyStoreError(`${file} has no current signing key`);
  }
  return keys;
}

export async function loadOrCreateKeys(dataDir: string): Promise<KeyFile> {
  const existing = readKeys(dataDir);
  if (existing) return existing;
  const keys: KeyFile = {
    signingKeys: [await newSigningKey('current')],
    cookieKeys: [randomBytes(32).toString('base64url')],
    csrfSecret: randomBytes(32).toString('base64url'),
  };
  write(dataDir, keys);
  return keys;
}

/** The provider's private JWKS: the current key first (the first matching key signs), all published. */
export function providerJwks(keys: KeyFile): { keys: JWK[] } {
  const order: Record<KeyState, number> = { current: 0, next: 1, previous: 2 };
  return { keys: [...keys.signingKeys].sort((a, b) => order[a.state] - order[b.state]).map((k) => k.jwk) };
}

/** Step 1: publish a new key that does not sign yet, so resource servers can learn it first. */
export async function stageKey(dataDir: string): Promise<SigningKey> {
  const keys = await loadOrCreateKeys(dataDir);
  if (keys.signingKeys.some((k) => k.state === 'next'))
    throw new KeyStoreError('a new key is already staged; activate it first');
  const key = await newSigningKey('next');
  keys.signingKeys.push(key);
  write(dataDir, keys);
  return key;
}

/** Step 2: the staged key signs from now on; the old one stays published as "previous". */
export async function activateKey(dataDir: string): Promise<SigningKey> {
  const keys = await loadOrCreateKeys(dataDir);
  const next = keys.signingKeys.find((k) => k.state === 'next');
  if (!next) throw new KeyStoreError('no staged key; run rotate-keys first');
  for (const k of keys.signingKeys) {
    if (k.state === 'current') {
      k.state = 'previous';
      k.retiredAt = Date.now();
    }
  }
  next.state = 'current';
  write(dataDir, keys);
  return next;
}

/** Step 3: drop previous keys retired longer ago than the longest token lifetime. */
export async function pruneKeys(dataDir: string, olderThanSeconds: number): Promise<string[]> {
  const keys = await loadOrCreateKeys(dataDir);
  const cutoff = Date.now() - olderThanSeconds * 1000;
  const removed = keys.signingKeys.filter((k) => k.state === 'previous' && (k.retiredAt ?? 0) <= cutoff);
  keys.signingKeys = keys.signingKeys.filter((k) => !removed.includes(k));
  write(dataDir, keys);
  return removed.map((k) => k.jwk.kid!);
}
