// oidc-provider's persistence over node:sqlite: one table for every model.
import type { DatabaseSync } from 'node:sqlite';
import type { Adapter, AdapterPayload } from 'oidc-provider';
import { errors } from 'oidc-provider';

type Row = { payload: string; consumed_at: number | null };

export type AdapterHooks = {
  /** Client metadata comes from the tenant store, not from this table. */
  findClient(id: string): AdapterPayload | undefined;
  /** Seconds during which a consumed refresh token of this client may be used again (0 = never). */
  reuseInterval(clientId: string): number;
};

export function createAdapterFactory(db: DatabaseSync, hooks: AdapterHooks) {
  const upsert = db.prepare(
    `INSERT INTO oidc_model (model, id, payload, grant_id, user_code, uid, expires_at, consumed_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, NULL)
     ON CONFLICT (model, id) DO UPDATE SET payload = excluded.payload, grant_id = excluded.grant_id,
       user_code = excluded.user_code, uid = excluded.uid, expires_at = excluded.expires_at`,
  );
  const live = '(expires_at IS NULL OR expires_at > ?)';
  const byId = db.prepare(
    `SELECT payload, consumed_at FROM oidc_model WHERE model = ? AND id = ? AND ${live}`,
  );
  const byUid = db.prepare(
    `SELECT payload, consumed_at FROM oidc_model WHERE model = ? AND uid = ? AND ${live}`,
  );
  const byUserCode = db.prepare(
    `SELECT payload, consumed_at FROM oidc_model WHERE model = ? AND user_code = ? AND ${live}`,
  );
  const consume = db.prepare(
    'UPDATE oidc_model SET consumed_at = ? WHERE model = ? AND id = ? AND consumed_at IS NULL',
  );
  const destroy = db.prepare('DELETE FROM oidc_model WHERE model = ? AND id = ?');
  const revoke = db.prepare('DELETE FROM oidc_model WHERE model = ? AND grant_id = ?');

  const toPayload = (model: string, row: Row | undefined): AdapterPayload | undefined => {
    if (!row) return undefined;
    const payload = JSON.parse(row.payload) as AdapterPayload;
    if (row.consumed_at === null) return payload;
    // Auth0's refresh-token reuse interval: a rotated token stays usable for a few seconds (multi-tab SPAs).
    if (model === 'RefreshToken' && typeof payload.clientId === 'string') {
      const interval = hooks.reuseInterval(payload.clientId);
      if (interval > 0 && Date.now() - row.consumed_at < interval * 1000) return payload;
    }
    return { ...payload, consumed: Math.floor(row.consumed_at / 1000) };
  };

  return class SqliteAdapter implements Adapter {
    readonly model: string;

    constructor(model: string) {
      this.model = model;
    }

    async upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void> {
      const expiresAt = expiresIn ? Date.now() + expiresIn * 1000 : null;
      upsert.run(
        this.model,
        id,
        JSON.stringify(payload),
        payload.grantId ?? null,
        payload.userCode ?? null,
        payload.uid ?? null,
        expiresAt,
      );
    }

    async find(id: string): Promise<AdapterPayload | undefined> {
      if (this.model === 'Client') return hooks.findClient(id);
      return toPayload(this.model, byId.get(this.model, id, Date.now()) as Row | undefined);
    }

    async findByUid(uid: string): Promise<AdapterPayload | undefined> {
      return toPayload(this.model, byUid.get(this.model, uid, Date.now()) as Row | undefined);
    }

    async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
      return toPayload(this.model, byUserCode.get(this.model, userCode, Date.now()) as Row | undefined);
    }

    async consume(id: string): Promise<void> {
      // Atomic: of two parallel refreshes with one token, only the first consumes it (reuse detection).
      const { changes } = consume.run(Date.now(), this.model, id);
      if (Number(changes) === 0 && this.model === 'RefreshToken') {
        const row = byId.get(this.model, id, Date.now()) as Row | undefined;
        if (!row || toPayload(this.model, row)?.consumed)
          throw new errors.InvalidGrant('refresh token already used');
      }
    }

    async destroy(id: string): Promise<void> {
      destroy.run(this.model, id);
    }

    async revokeByGrantId(grantId: string): Promise<void> {
      revoke.run(this.model, grantId);
    }
  };
}

/** Deletes expired rows now and then (and runs `alsoSweep`, for other tables); find() already ignores them. */
export function startExpirySweeper(
  db: DatabaseSync,
  everyMs = 10 * 60 * 1000,
  alsoSweep?: () => unknown,
): NodeJS.Timeout {
  const sweep = db.prepare('DELETE FROM oidc_model WHERE expires_at IS NOT NULL AND expires_at <= ?');
  const timer = setInterval(() => {
    sweep.run(Date.now());
    alsoSweep?.();
  }, everyMs);
  timer.unref();
  return timer;
}
