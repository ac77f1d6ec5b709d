// Password hashing on a few threads of its own (tinypool), apart from libuv's pool where node:crypto
// signs tokens: a flood of sign-in attempts then costs hashing capacity only, and a token request never
// waits behind a queue of argon2 runs. The queue in front of these threads is bounded; past it, callers
// get HashingBusy at once (answered 429), not a place in an ever longer line.
import Tinypool from 'tinypool';
import { HASHING_POLICY, type HashingPolicy } from './abuse-policy.ts';
import type { HashTask } from './password-worker.ts';

export class HashingBusy extends Error {
  override name = 'HashingBusy';
}

export class PasswordHasher {
  readonly #pool: Tinypool;
  readonly #maxQueue: number;

  constructor(policy: HashingPolicy = HASHING_POLICY) {
    this.#maxQueue = policy.maxQueue;
    this.#pool = new Tinypool({
      filename: new URL('./password-worker.ts', import.meta.url).href,
      // Started at once and kept: the first sign-in does not pay for a thread's start-up.
      minThreads: policy.threads,
      maxThreads: policy.threads,
      maxQueue: policy.maxQueue,
      idleTimeout: Number.POSITIVE_INFINITY,
    });
  }

  /** Whether `password` matches `stored`; an unknown user (undefined) costs the same and is false. */
  verify(password: string, stored: string | undefined): Promise<boolean> {
    return this.#run({
      op: 'verify',
      password,
      ...(stored === undefined ? {} : { stored }),
    }) as Promise<boolean>;
  }

  hash(password: string): Promise<string> {
    return this.#run({ op: 'hash', password }) as Promise<string>;
  }

  /** Whether a check asked for now would be refused: callers can refuse before doing any other work. */
  get full(): boolean {
    return this.#pool.queueSize >= this.#maxQueue;
  }

  close(): Promise<void> {
    return this.#pool.destroy();
  }

  async #run(task: HashTask): Promise<boolean | string> {
    if (this.full) throw new HashingBusy('the password hashing queue is full');
    return this.#pool.run(task);
  }
}
