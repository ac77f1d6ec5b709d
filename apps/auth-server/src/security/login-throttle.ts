// Who may have a password checked now, and what each outcome costs. The numbers are in abuse-policy.ts:
// - account + network: 5 failures in 15 min lock that pair for 15 min (the user elsewhere is unaffected);
// - network: 50 failures in 15 min lock the network for 15 min (one attacker trying many accounts);
// - account: a budget of attempts that failed or are being checked, 5 then one per 10 s, shared by every
//   browser without the account's device cookie; a browser with it has a budget of its own, so guesses
//   from elsewhere never hold the owner back, and no rule locks anyone out for longer than 15 min;
// - one password check in flight per account and 4 per network: parallel guesses are refused, not queued;
// - sign-ups: 10 attempts (whatever their outcome) in 15 min lock the network's sign-ups for 15 min.
// The state lives behind ThrottleStore, so a restart does not reset it and instances can share it.
import { randomUUID } from 'node:crypto';
import {
  BUSY_RETRY_AFTER_SECONDS,
  type Bucket,
  LOGIN_POLICY,
  type LoginPolicy,
  SIGNUP_POLICY,
  type SignupPolicy,
} from './abuse-policy.ts';
import type { ThrottleStore } from './throttle-store.ts';

export type LoginAttempt = {
  email: string;
  /** networkOf() the client's address. */
  network: string;
  /** The id in the account's device cookie, when the browser sent a valid one for this account. */
  device?: string;
};

export type Refusal = {
  /** `locked`: too many failures; `rate`: the account's budget is spent; `busy`: too many checks at once. */
  reason: 'locked' | 'rate' | 'busy';
  retryAfterSeconds: number;
};

/** An admitted attempt's places and token, handed back to settle() whatever happens. */
export type Ticket = {
  readonly attempt: LoginAttempt;
  readonly budget: { key: string; bucket: Bucket };
  readonly holder: string;
};

export type Admission = { admitted: true; ticket: Ticket } | { admitted: false; refusal: Refusal };

/** `unchecked`: the password was never compared (the server was too busy): it costs nothing. */
export type Outcome = 'succeeded' | 'failed' | 'unchecked';

const keys = (a: LoginAttempt) => {
  const email = a.email.trim().toLowerCase();
  return {
    pair: `pair:${email}|${a.network}`,
    network: `net:${a.network}`,
    accountChecks: `checks:acct:${email}`,
    networkChecks: `checks:net:${a.network}`,
    budget: a.device ? `device:${a.device}` : `acct:${email}`,
  };
};

const seconds = (ms: number) => Math.max(1, Math.ceil(ms / 1000));

export class LoginThrottle {
  readonly #store: ThrottleStore;
  readonly #login: LoginPolicy;
  readonly #signup: SignupPolicy;
  readonly #now: () => number;

  constructor(
    store: ThrottleStore,
    policy: { login?: LoginPolicy; signup?: SignupPolicy; now?: () => number } = {},
  ) {
    this.#store = store;
    this.#login = policy.login ?? LOGIN_POLICY;
    this.#signup = policy.signup ?? SIGNUP_POLICY;
    this.#now = policy.now ?? Date.now;
  }

  /**
   * Decides before any password work. An admitted attempt holds its account's one place, one of its
   * network's places and a token of its budget until settle(), so parallel requests cannot all pass
   * while the first hash is being computed.
   */
  async admit(attempt: LoginAttempt): Promise<Admission> {
    const now = this.#now();
    const k = keys(attempt);
    const policy = this.#login;
    const locks = await Promise.all([
      this.#store.read(k.pair, policy.pair, now),
      this.#store.read(k.network, policy.network, now),
    ]);
    const lockedUntil = Math.max(...locks.map((s) => s.lockedUntil));
    if (lockedUntil > now) return refuse('locked', lockedUntil - now);

    const budget = { key: k.budget, bucket: attempt.device ? policy.device : policy.account };
    const token = await this.#store.take(budget.key, budget.bucket, now);
    if (!token.ok) return refuse('rate', token.retryAfterMs);

    const holder = randomUUID();
    const lease = policy.checkLeaseMs;
    if (await this.#store.acquire(k.accountChecks, holder, policy.checksPerAccount, lease, now)) {
      if (await this.#store.acquire(k.networkChecks, holder, policy.checksPerNetwork, lease, now)) {
        return { admitted: true, ticket: { attempt, budget, holder } };
      }
      await this.#store.release(k.accountChecks, holder);
    }
    await this.#store.giveBack(budget.key, budget.bucket, now);
    return refuse('busy', BUSY_RETRY_AFTER_SECONDS * 1000);
  }

  /** Ends an admitted attempt: a failure is counted, a success or an unchecked attempt gives its token back. */
  async settle(ticket: Ticket, outcome: Outcome): Promise<void> {
    const now = this.#now();
    const k = keys(ticket.attempt);
    await this.#store.release(k.accountChecks, ticket.holder);
    await this.#store.release(k.networkChecks, ticket.holder);
    if (outcome === 'failed') {
      await this.#store.fail(k.pair, this.#login.pair, now);
      await this.#store.fail(k.network, this.#login.network, now);
      return;
    }
    await this.#store.giveBack(ticket.budget.key, ticket.budget.bucket, now);
    // The owner proved who they are from this network: its earlier failures there were theirs.
    if (outcome === 'succeeded') await this.#store.forget([k.pair]);
  }

  /**
   * Counts a sign-up attempt from a network before it is processed, whatever it turns out to be, so
   * sign-up cannot be used to create accounts in bulk or to test many emails at once.
   */
  async admitSignup(network: string): Promise<{ admitted: true } | { admitted: false; refusal: Refusal }> {
    const now = this.#now();
    const key = `signup:${network}`;
    const state = await this.#store.read(key, this.#signup.network, now);
    if (state.lockedUntil > now) return refuse('locked', state.lockedUntil - now);
    await this.#store.fail(key, this.#signup.network, now);
    return { admitted: true };
  }
}

const refuse = (reason: Refusal['reason'], waitMs: number) =>
  ({ admitted: false, refusal: { reason, retryAfterSeconds: seconds(waitMs) } }) as const;
