// The key set in DATA_DIR/keys.json (mode 0600, written atomically by rename), as every version has kept it.
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KeySet } from '../storage.ts';

export class KeyFileError extends Error {
  override name = 'KeyFileError';
}

export const keyFilePath = (dataDir: string) => join(dataDir, 'keys.json');

export function readKeyFile(dataDir: string): KeySet | undefined {
  const file = keyFilePath(dataDir);
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as KeySet;
  } catch (err) {
    throw new KeyFileError(`cannot read ${file}: ${(err as Error).message}`);
  }
}

export function writeKeyFile(dataDir: string, keys: KeySet): void {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const file = keyFilePath(dataDir);
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(keys, null, 2)}\n`, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
}

/** Changes whenever the file is rewritten (each write is a rename, so a new inode and mtime). */
export function keyFileVersion(dataDir: string): number {
  try {
    const { mtimeMs, ino } = statSync(keyFilePath(dataDir));
    return mtimeMs + ino;
  } catch {
    return 0;
  }
}
