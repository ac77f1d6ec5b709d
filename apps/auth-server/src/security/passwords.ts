// Password hashes: argon2id (RFC 9106) in the PHC string format other argon2 libraries read, with
// OWASP's parameters (19 MiB, 2 passes, 1 lane). Hashes made by earlier versions (scrypt) still verify
// and are replaced at the next successful sign-in (needsRehash). The async functions hash on libuv's
// thread pool (the CLI, start-up); the server uses the *Sync ones on threads of its own
// (password-hasher.ts), so that password checks never wait in front of token signing.
import { argon2, argon2Sync, randomBytes, scrypt, scryptSync, timingSafeEqual } from 'node:crypto';

const MEMORY_KIB = 19_456;
const PASSES = 2;
const LANES = 1;
const TAG_LENGTH = 32;
// Bounds on parameters read back from a stored hash, so a bad row cannot ask for gigabytes.
const MAX_MEMORY_KIB = 1 << 18; // 256 MiB
const MAX_PASSES = 16;

const PHC =
  /^\$argon2id\$v=19\$m=(\d{1,7}),t=(\d{1,2}),p=(\d{1,2})\$([A-Za-z0-9+/]{16,})\$([A-Za-z0-9+/]{16,})$/;
const SCRYPT = /^scrypt\$(\d{1,7})\$(\d{1,2})\$(\d{1,2})\$([A-Za-z0-9_-]{16,})\$([A-Za-z0-9_-]{16,})$/;

/** Unpadded standard base64, as the PHC string format writes it. */
const b64 = (buf: Buffer) => buf.toString('base64').replace(/=+$/, '');

const argon2Params = (password: string, salt: Buffer, memory: number, passes: number, lanes: number) => ({
  message: password.normalize('NFKC'),
  nonce: salt,
  memory,
  passes,
  parallelism: lanes,
  tagLength: TAG_LENGTH,
});
const scryptParams = (n: number, r: number, p: number) => ({ N: n, r, p, maxmem: 256 * n * r + 1024 * 1024 });

/** How to derive a key from a password with one stored hash's scheme, parameters and salt. */
type Deriver = { async(password: string): Promise<Buffer>; sync(password: string): Buffer };

function argon2id(salt: Buffer, memory: number, passes: number, lanes: number): Deriver {
  return {
    async: (password) =>
      new Promise<Buffer>((resolve, reject) =>
        argon2('argon2id', argon2Params(password, salt, memory, passes, lanes), (err, key) =>
          err ? reject(err) : resolve(key),
        ),
      ),
    sync: (password) => argon2Sync('argon2id', argon2Params(password, salt, memory, passes, lanes)),
  };
}

function legacyScrypt(salt: Buffer, n: number, r: number, p: number): Deriver {
  return {
    async: (password) =>
      new Promise<Buffer>((resolve, reject) =>
        scrypt(password.normalize('NFKC'), salt, TAG_LENGTH, scryptParams(n, r, p), (err, key) =>
          err ? reject(err) : resolve(key),
        ),
      ),
    sync: (password) => scryptSync(password.normalize('NFKC'), salt, TAG_LENGTH, scryptParams(n, r, p)),
  };
}

const phc = (salt: Buffer, key: Buffer) =>
  `$argon2id$v=19$m=${MEMORY_KIB},t=${PASSES},p=${LANES}$${b64(salt)}$${b64(key)}`;

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  return phc(salt, await argon2id(salt, MEMORY_KIB, PASSES, LANES).async(password));
}

export function hashPasswordSync(password: string): string {
  const salt = randomBytes(16);
  return phc(salt, argon2id(salt, MEMORY_KIB, PASSES, LANES).sync(password));
}

/** Whether a string has the shape of a hash this module can verify (for the tenant file's passwordHash). */
export const isPasswordHash = (value: string) => PHC.test(value) || SCRYPT.test(value);

/** Whether a verified hash should be replaced: an older scheme or weaker parameters than today's. */
export function needsRehash(stored: string): boolean {
  const m = PHC.exec(stored);
  return !m || Number(m[1]) < MEMORY_KIB || Number(m[2]) < PASSES;
}

// A hash of nothing in particular, verified for unknown users so they take as long as known ones.
const DECOY_PASSWORD = 'decoy password that matches nothing';
let decoy: Promise<string> | undefined;
let decoySync: string | undefined;

/** A stored hash, read: its key and how to derive a key from a password the same way; undefined if unusable. */
function readHash(hash: string): { key: Buffer; derive: Deriver } | undefined {
  const phc = PHC.exec(hash);
  if (phc) {
    const [m, t, p] = [Number(phc[1]), Number(phc[2]), Number(phc[3])];
    if (m > MAX_MEMORY_KIB || t > MAX_PASSES || t < 1 || p < 1) return undefined;
    return { key: Buffer.from(phc[5]!, 'base64'), derive: argon2id(Buffer.from(phc[4]!, 'base64'), m, t, p) };
  }
  const legacy = SCRYPT.exec(hash);
  if (legacy) {
    const [n, r, p] = [Number(legacy[1]), Number(legacy[2]), Number(legacy[3])];
    if (n * r > 2 ** 20 || p < 1) return undefined;
    const salt = Buffer.from(legacy[4]!, 'base64url');
    return { key: Buffer.from(legacy[5]!, 'base64url'), derive: legacyScrypt(salt, n, r, p) };
  }
  return undefined;
}

/** Compares in constant time; both schemes store 32-byte keys, and a shorter one (a cut row) must not match its prefix. */
const sameKey = (expected: Buffer, actual: Buffer) =>
  expected.length === TAG_LENGTH && actual.length === TAG_LENGTH && timingSafeEqual(expected, actual);

/** A malformed or unknown stored hash is a refusal, never an exception. */
export async function verifyPassword(password: string, stored: string | undefined): Promise<boolean> {
  decoy ??= hashPassword(DECOY_PASSWORD);
  const read = readHash(stored ?? (await decoy));
  if (!read) return false;
  const actual = await read.derive.async(password).catch(() => Buffer.alloc(0));
  return sameKey(read.key, actual) && stored !== undefined;
}

export function verifyPasswordSync(password: string, stored: string | undefined): boolean {
  decoySync ??= hashPasswordSync(DECOY_PASSWORD);
  const read = readHash(stored ?? decoySync);
  if (!read) return false;
  let actual: Buffer;
  try {
    actual = read.derive.sync(password);
  } catch {
    actual = Buffer.alloc(0);
  }
  return sameKey(read.key, actual) && stored !== undefined;
}
