// oidc-provider's adapter over the store's OidcStore (SQLite or PostgreSQL): clients come from the tenant, the
// rest from one table. The policy of one-time use lives here; the store only makes each step atomic.
import type { Adapter, AdapterPayload } from 'oidc-provider';
import { errors } from 'oidc-provider';
import type { OidcStore, StoredModel } from '../store/storage.ts';
import { guard } from './unavailable.ts';

export type AdapterHooks = {
  /** Client metadata comes from the tenant, not from the table. */
  findClient(id: string): Promise<AdapterPayload | undefined>;
  /** Seconds during which a consumed refresh token of this client may be used again (0 = never). */
  reuseInterval(clientId: string): number;
};

// A placeholder's lifetime until oidc-provider saves the real row (with its own expiry) right after.
const CLAIM_SECONDS = 3600;

export function createAdapterFactory(store: OidcStore, hooks: AdapterHooks) {
  const toPayload = (model: string, row: StoredModel | undefined): AdapterPayload | undefined => {
    if (!row) return undefined;
    if (row.consumedAt === null) return row.payload;
    // Auth0's refresh-token reuse interval: a rotated token stays usable for a few seconds (multi-tab SPAs).
    if (model === 'RefreshToken' && withinReuseInterval(row)) return row.payload;
    return { ...row.payload, consumed: Math.floor(row.consumedAt / 1000) };
  };
  const withinReuseInterval = ({ payload, consumedAt }: StoredModel) => {
    if (typeof payload.clientId !== 'string' || consumedAt === null) return false;
    const interval = hooks.reuseInterval(payload.clientId);
    return interval > 0 && Date.now() - consumedAt < interval * 1000;
  };

  return class StoreAdapter implements Adapter {
    readonly model: string;

    constructor(model: string) {
      this.model = model;
    }

    async upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void> {
      const expiresAt = expiresIn ? Date.now() + expiresIn * 1000 : null;
      const index = { grantId: payload.grantId, userCode: payload.userCode, uid: payload.uid };
      await guard(store.upsert(this.model, id, payload, index, expiresAt));
    }

    async find(id: string): Promise<AdapterPayload | undefined> {
      if (this.model === 'Client') return guard(hooks.findClient(id));
      // oidc-provider checks a DPoP proof's or client assertion's jti with find, then saves it: claiming the id
      // here makes that check one atomic step, so a proof replayed at two instances at once passes only once.
      if (this.model === 'ReplayDetection') {
        const claimed = await guard(store.claim(this.model, id, {}, Date.now() + CLAIM_SECONDS * 1000));
        return claimed ? undefined : {}; // any payload means: seen before
      }
      return toPayload(this.model, await guard(store.find(this.model, id)));
    }

    async findByUid(uid: string): Promise<AdapterPayload | undefined> {
      return toPayload(this.model, await guard(store.findByUid(this.model, uid)));
    }

    async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
      return toPayload(this.model, await guard(store.findByUserCode(this.model, userCode)));
    }

    async consume(id: string): Promise<void> {
      // Of two redemptions of one code or refresh token at once, at any instances, only the first consumes it.
      if (await guard(store.consume(this.model, id, Date.now()))) return;
      const row = await guard(store.find(this.model, id));
      if (row && this.model === 'RefreshToken' && withinReuseInterval(row)) return;
      throw new errors.InvalidGrant(
        `${this.model === 'RefreshToken' ? 'refresh token' : 'grant'} already used`,
      );
    }

    async destroy(id: string): Promise<void> {
      await guard(store.destroy(this.model, id));
    }

    async revokeByGrantId(grantId: string): Promise<void> {
      await guard(store.revokeByGrantId(this.model, grantId));
    }
  };
}

/** Deletes expired rows now and then (and runs `alsoSweep`, for other tables); find() already ignores them. */
export function startExpirySweeper(
  store: OidcStore,
  everyMs = 10 * 60 * 1000,
  alsoSweep?: () => Promise<unknown>,
): NodeJS.Timeout {
  const timer = setInterval(() => {
    // The next sweep tries again; a database outage is reported where requests meet it.
    store.deleteExpired().catch(() => undefined);
    alsoSweep?.().catch(() => undefined);
  }, everyMs);
  timer.unref();
  return timer;
}
