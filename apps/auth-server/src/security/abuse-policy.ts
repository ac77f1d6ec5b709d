// Every number that bounds what one person, one network or everyone together can make this server do:
// password guessing, sign-up, password hashing and the /authorize endpoint. SECURITY.md states these
// same rules; change them here and there together.
import { availableParallelism } from 'node:os';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const DAY = 24 * 60 * MINUTE;

/** A token bucket: starts full with `capacity` tokens and gains one every `refillMs`, never above capacity. */
export type Bucket = { capacity: number; refillMs: number };
/** A failure counter: `limit` failures within `windowMs` lock the key for `lockMs`, then it starts again. */
export type Counter = { limit: number; windowMs: number; lockMs: number };

export type LoginPolicy = {
  /** One account from one network (an IPv4 address or an IPv6 /64): the attacker's own door, not the victim's. */
  pair: Counter;
  /** One network, whatever the accounts: a sprayer is stopped, users elsewhere are not. */
  network: Counter;
  /**
   * One account, from all browsers without its device cookie together: the attempts that failed or are
   * still being checked (a right password gives its token back), so guessing from many networks gets at
   * most `capacity` attempts, then one per `refillMs`.
   */
  account: Bucket;
  /** One browser that has signed in to the account before (its device cookie): its own budget, so other people's guesses never hold it back. */
  device: Bucket;
  /** Password checks in flight for one account: more would only be more guesses at once. */
  checksPerAccount: number;
  /** Password checks in flight from one network: one network cannot take the whole hashing queue. */
  checksPerNetwork: number;
  /** A check's hold on those places ends by itself after this long (a crashed instance leaves nothing held). */
  checkLeaseMs: number;
  /** How long a browser keeps the device cookie of an account it signed in to (renewed at each sign-in). */
  deviceCookieMaxAgeMs: number;
};

export type SignupPolicy = {
  /** Sign-up attempts from one network, counted before any work whatever their outcome. */
  network: Counter;
};

export type HashingPolicy = {
  /** Threads that hash passwords, apart from the thread pool that signs tokens. */
  threads: number;
  /** Password checks waiting for a hashing thread; past this they are answered 429 at once. */
  maxQueue: number;
};

export type AuthorizePolicy = {
  /** Bytes (UTF-8) of one parameter of an authorization request; longer is `invalid_request`. */
  maxParameterBytes: number;
  /** Parameters that legitimately carry more: a whole signed ID token, a registered URL. */
  longerParameters: Record<string, number>;
  /** Bytes of all parameters together. */
  maxTotalBytes: number;
  /** How long a sign-in page stays usable: what a person needs, not an hour of stored state. */
  interactionTtlSeconds: number;
  /** New sign-in interactions per network. */
  newInteractions: Bucket;
  /** Interactions per network that may be stored at once (each held for its lifetime plus one sweep). */
  storedInteractionsPerNetwork: number;
  /** Expired interactions, tokens and throttle rows are deleted this often. */
  sweepEveryMs: number;
};

export const LOGIN_POLICY: LoginPolicy = {
  pair: { limit: 5, windowMs: 15 * MINUTE, lockMs: 15 * MINUTE },
  network: { limit: 50, windowMs: 15 * MINUTE, lockMs: 15 * MINUTE },
  account: { capacity: 5, refillMs: 10 * SECOND },
  device: { capacity: 5, refillMs: 10 * SECOND },
  checksPerAccount: 1,
  checksPerNetwork: 4,
  checkLeaseMs: 10 * SECOND,
  deviceCookieMaxAgeMs: 180 * DAY,
};

export const SIGNUP_POLICY: SignupPolicy = {
  network: { limit: 10, windowMs: 15 * MINUTE, lockMs: 15 * MINUTE },
};

export const HASHING_POLICY: HashingPolicy = {
  // A quarter of the cores: on 2 cores one thread, beside the event loop and the signing thread.
  threads: Math.max(1, Math.floor(availableParallelism() / 4)),
  maxQueue: 16,
};

export const AUTHORIZE_POLICY: AuthorizePolicy = {
  maxParameterBytes: 512,
  longerParameters: { id_token_hint: 4096, redirect_uri: 2048 },
  maxTotalBytes: 8192,
  interactionTtlSeconds: 10 * 60,
  // Generous enough for many people behind one NAT; what bounds storage is the cap below, times the row size.
  newInteractions: { capacity: 60, refillMs: SECOND },
  storedInteractionsPerNetwork: 600,
  sweepEveryMs: MINUTE,
};

/** Seconds a refused client is told to wait when the refusal is about load, not about its own failures. */
export const BUSY_RETRY_AFTER_SECONDS = 1;
