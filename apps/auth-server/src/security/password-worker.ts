// Runs on a hashing thread (password-hasher.ts): the synchronous hash keeps the work on this thread
// instead of sending it on to libuv's pool, where tokens are signed.
import { hashPasswordSync, verifyPasswordSync } from './passwords.ts';

export type HashTask = { op: 'verify'; password: string; stored?: string } | { op: 'hash'; password: string };

export default function run(task: HashTask): boolean | string {
  return task.op === 'verify'
    ? verifyPasswordSync(task.password, task.stored)
    : hashPasswordSync(task.password);
}
