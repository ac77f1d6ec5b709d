// How many sign-in interactions one network may start and keep stored (AUTHORIZE_POLICY): a bucket for
// the rate, and one place per stored interaction, held for its lifetime plus one sweep, so the rows a
// network can leave in the database are bounded whatever the rate. A request that ends up creating no
// interaction (an error, a signed-in user's immediate redirect) gives both back.
import { randomUUID } from 'node:crypto';
import { AUTHORIZE_POLICY, type AuthorizePolicy } from './abuse-policy.ts';
import type { ThrottleStore } from './throttle-store.ts';

export type InteractionReservation =
  | { admitted: true; settle(created: boolean): Promise<void> }
  | { admitted: false; retryAfterSeconds: number };

export class InteractionThrottle {
  readonly #store: ThrottleStore;
  readonly #policy: AuthorizePolicy;
  readonly #now: () => number;

  constructor(store: ThrottleStore, options: { policy?: AuthorizePolicy; now?: () => number } = {}) {
    this.#store = store;
    this.#policy = options.policy ?? AUTHORIZE_POLICY;
    this.#now = options.now ?? Date.now;
  }

  async reserve(network: string): Promise<InteractionReservation> {
    const now = this.#now();
    const policy = this.#policy;
    const rateKey = `interactions:${network}`;
    const storedKey = `stored-interactions:${network}`;
    const token = await this.#store.take(rateKey, policy.newInteractions, now);
    if (!token.ok) return { admitted: false, retryAfterSeconds: Math.ceil(token.retryAfterMs / 1000) };
    const holder = randomUUID();
    const lifetime = policy.interactionTtlSeconds * 1000 + policy.sweepEveryMs;
    if (!(await this.#store.acquire(storedKey, holder, policy.storedInteractionsPerNetwork, lifetime, now))) {
      await this.#store.giveBack(rateKey, policy.newInteractions, now);
      // A place frees when the oldest stored interaction of the network has expired: at most a lifetime away.
      return { admitted: false, retryAfterSeconds: Math.ceil(lifetime / 1000) };
    }
    return {
      admitted: true,
      settle: async (created) => {
        if (created) return;
        await this.#store.release(storedKey, holder);
        await this.#store.giveBack(rateKey, policy.newInteractions, this.#now());
      },
    };
  }
}
