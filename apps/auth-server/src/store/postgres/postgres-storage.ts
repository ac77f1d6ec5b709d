// Storage on PostgreSQL (DATABASE_URL): the same data as on SQLite, shared by any number of instances.
// A pool serves queries; one more connection LISTENs for changes to the tenant and the keys.
import { connectionOptions, createPool } from '@calling-api/postgres';
import pg from 'pg';
import type { Logger } from 'pino';
import type { ThrottleStore } from '../../security/throttle-store.ts';
import { type ApiDefinition, applicationSettingsSchema } from '../../tenant/tenant-schema.ts';
import {
  type ApplicationRecord,
  type ChangeTopic,
  type ClientGrantRecord,
  type KeySet,
  type KeyStore,
  likePrefix,
  type ModelIndex,
  type OidcStore,
  type Page,
  type SigningKey,
  type Storage,
  type StoredModel,
  StoreUnavailableError,
  type TenantConfig,
  type TenantStore,
  type UserChanges,
  type UserQuery,
  type UserRecord,
  type UserSummary,
} from '../storage.ts';
import { KEYS_CHANNEL, migrate, TENANT_CHANNEL } from './postgres-migrations.ts';
import { inTransaction, Sql, translate } from './postgres-sql.ts';
import { PostgresThrottleStore } from './postgres-throttle-store.ts';

export type PostgresConfig = { url: string; poolSize: number };

const RECONNECT_MAX_MS = 1000;

type ApiRow = {
  identifier: string;
  name: string;
  token_lifetime: number;
  rbac: boolean;
  permissions_in_token: boolean;
  allow_offline_access: boolean;
  token_dialect: 'rfc9068' | 'auth0';
  dpop: 'required' | 'allowed' | 'off';
};
type UserRow = {
  id: string;
  email: string;
  name: string;
  password_hash: string;
  blocked: boolean;
  created_at: number;
  updated_at: number | null;
};

const user = (r: UserRow): UserRecord => ({
  id: r.id,
  email: r.email,
  name: r.name,
  passwordHash: r.password_hash,
  blocked: r.blocked,
  createdAt: r.created_at,
  updatedAt: r.updated_at ?? r.created_at,
});

class PostgresTenantStore implements TenantStore {
  private readonly pool: pg.Pool;
  private readonly sql: Sql;
  private readonly changed: () => void;
  private readonly inTx: boolean;

  constructor(pool: pg.Pool, sql: Sql, changed: () => void, inTx = false) {
    this.pool = pool;
    this.sql = sql;
    this.changed = changed;
    this.inTx = inTx;
  }

  private async write(text: string, values: unknown[]): Promise<number> {
    const count = await this.sql.count(text, values);
    this.changed();
    return count;
  }

  async loadConfig(): Promise<TenantConfig> {
    // One snapshot of the database for all five reads, so the configuration is consistent.
    const read = async (sql: Sql): Promise<TenantConfig> => {
      const scopes = await sql.rows<{ api: string; value: string; description: string }>(
        'SELECT api, value, description FROM api_scopes ORDER BY api, value',
      );
      const apis = (await sql.rows<ApiRow>('SELECT * FROM apis ORDER BY name')).map(
        (r): ApiDefinition => ({
          identifier: r.identifier,
          name: r.name,
          signingAlg: 'RS256',
          accessTokenLifetime: r.token_lifetime,
          rbac: r.rbac,
          permissionsInToken: r.permissions_in_token,
          allowOfflineAccess: r.allow_offline_access,
          tokenDialect: r.token_dialect,
          dpop: r.dpop,
          scopes: scopes
            .filter((s) => s.api === r.identifier)
            .map(({ value, description }) => ({ value, description })),
        }),
      );
      const applications = (
        await sql.rows<{
          settings: Record<string, unknown>;
          secret_env: string | null;
          secret: string | null;
        }>('SELECT settings, secret_env, secret FROM clients ORDER BY client_id')
      ).map(
        (r): ApplicationRecord => ({
          // Parsed, so that a default added to the schema later applies to applications stored before.
          ...applicationSettingsSchema.parse(r.settings),
          secret: r.secret_env ? { env: r.secret_env } : r.secret ? { value: r.secret } : null,
        }),
      );
      const clientGrants = (
        await sql.rows<{ client_id: string; api: string; scope: string }>(
          'SELECT client_id, api, scope FROM client_grants ORDER BY client_id, api, scope',
        )
      ).map((r): ClientGrantRecord => ({ clientId: r.client_id, api: r.api, scope: r.scope }));
      const permissions = await sql.rows<{ role: string; api: string; scope: string }>(
        'SELECT role, api, scope FROM role_permissions ORDER BY role, api, scope',
      );
      const roles = (
        await sql.rows<{ name: string; description: string }>(
          'SELECT name, description FROM roles ORDER BY name',
        )
      ).map((r) => ({
        ...r,
        permissions: permissions.filter((p) => p.role === r.name).map(({ api, scope }) => ({ api, scope })),
      }));
      return { apis, applications, clientGrants, roles };
    };
    if (this.inTx) return read(this.sql);
    return inTransaction(this.pool, '', read, 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
  }

  async transaction<T>(fn: (tx: TenantStore) => Promise<T>): Promise<T> {
    if (this.inTx) return fn(this);
    try {
      return await inTransaction(this.pool, 'auth-server tenant', (sql) =>
        fn(new PostgresTenantStore(this.pool, sql, this.changed, true)),
      );
    } finally {
      this.changed();
    }
  }

  private async upsertApi(api: ApiDefinition, onConflict: string): Promise<void> {
    await this.write(
      `INSERT INTO apis (identifier, name, signing_alg, token_lifetime, rbac, permissions_in_token, allow_offline_access, token_dialect, dpop)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ${onConflict}`,
      [
        api.identifier,
        api.name,
        api.signingAlg,
        api.accessTokenLifetime,
        api.rbac,
        api.permissionsInToken,
        api.allowOfflineAccess,
        api.tokenDialect,
        api.dpop,
      ],
    );
    for (const s of api.scopes) await this.putScope(api.identifier, s);
  }

  putApi(api: ApiDefinition): Promise<void> {
    return this.transaction((tx) =>
      (tx as PostgresTenantStore).upsertApi(
        api,
        `ON CONFLICT (identifier) DO UPDATE SET name = excluded.name, signing_alg = excluded.signing_alg,
           token_lifetime = excluded.token_lifetime, rbac = excluded.rbac,
           permissions_in_token = excluded.permissions_in_token, allow_offline_access = excluded.allow_offline_access,
           token_dialect = excluded.token_dialect, dpop = excluded.dpop`,
      ),
    );
  }

  createApi(api: ApiDefinition): Promise<void> {
    return this.transaction((tx) => (tx as PostgresTenantStore).upsertApi(api, ''));
  }

  async putScope(api: string, scope: { value: string; description: string }): Promise<void> {
    await this.write(
      `INSERT INTO api_scopes (api, value, description) VALUES ($1, $2, $3)
         ON CONFLICT (api, value) DO UPDATE SET description = excluded.description`,
      [api, scope.value, scope.description],
    );
  }

  private async insertApplication(app: ApplicationRecord, onConflict: string): Promise<void> {
    const { secret, ...settings } = app;
    await this.write(
      `INSERT INTO clients (client_id, name, type, settings, secret_env, secret) VALUES ($1, $2, $3, $4, $5, $6) ${onConflict}`,
      [
        app.clientId,
        app.name,
        app.type,
        JSON.stringify(settings),
        secret && 'env' in secret ? secret.env : null,
        secret && 'value' in secret ? secret.value : null,
      ],
    );
  }

  putApplication(app: ApplicationRecord): Promise<void> {
    return this.insertApplication(
      app,
      `ON CONFLICT (client_id) DO UPDATE SET name = excluded.name, type = excluded.type,
         settings = excluded.settings, secret_env = excluded.secret_env, secret = excluded.secret`,
    );
  }

  createApplication(app: ApplicationRecord): Promise<void> {
    return this.insertApplication(app, '');
  }

  async addClientGrant(g: ClientGrantRecord): Promise<void> {
    await this.write(
      'INSERT INTO client_grants (client_id, api, scope) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING',
      [g.clientId, g.api, g.scope],
    );
  }

  async putRole(role: { name: string; description: string }): Promise<void> {
    await this.write(
      'INSERT INTO roles (name, description) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET description = excluded.description',
      [role.name, role.description],
    );
  }

  async createRole(role: { name: string; description: string }): Promise<void> {
    await this.write('INSERT INTO roles (name, description) VALUES ($1, $2)', [role.name, role.description]);
  }

  async addRolePermission(role: string, p: { api: string; scope: string }): Promise<void> {
    await this.write(
      'INSERT INTO role_permissions (role, api, scope) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING',
      [role, p.api, p.scope],
    );
  }

  async deleteApi(identifier: string): Promise<void> {
    await this.write('DELETE FROM apis WHERE identifier = $1', [identifier]);
  }

  removeScopesExcept(api: string, keep: readonly string[]): Promise<void> {
    return this.transaction(async (tx) => {
      for (const [table, column] of [
        ['api_scopes', 'value'],
        ['role_permissions', 'scope'],
        ['client_grants', 'scope'],
      ] as const)
        await (tx as PostgresTenantStore).write(
          `DELETE FROM ${table} WHERE api = $1 AND NOT (${column} = ANY($2::text[]))`,
          [api, keep],
        );
    });
  }

  async deleteApplication(clientId: string): Promise<void> {
    await this.write('DELETE FROM clients WHERE client_id = $1', [clientId]);
  }

  async removeClientGrant(clientId: string, api: string): Promise<void> {
    await this.write('DELETE FROM client_grants WHERE client_id = $1 AND api = $2', [clientId, api]);
  }

  async deleteRole(name: string): Promise<void> {
    await this.write('DELETE FROM roles WHERE name = $1', [name]);
  }

  async removeRolePermission(role: string, p: { api: string; scope: string }): Promise<void> {
    await this.write('DELETE FROM role_permissions WHERE role = $1 AND api = $2 AND scope = $3', [
      role,
      p.api,
      p.scope,
    ]);
  }

  async findUserByEmail(email: string): Promise<UserRecord | undefined> {
    const [row] = await this.sql.rows<UserRow>(
      'SELECT * FROM users WHERE lower(email) = lower($1)',
      [email],
      'user-by-email',
    );
    return row && user(row);
  }

  async findUserById(id: string): Promise<UserRecord | undefined> {
    const [row] = await this.sql.rows<UserRow>('SELECT * FROM users WHERE id = $1', [id], 'user-by-id');
    return row && user(row);
  }

  async insertUser(u: UserRecord): Promise<void> {
    await this.sql.count(
      `INSERT INTO users (id, email, name, password_hash, blocked, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [u.id, u.email, u.name, u.passwordHash, u.blocked, u.createdAt, u.updatedAt],
    );
  }

  async updatePasswordHash(userId: string, passwordHash: string): Promise<void> {
    await this.sql.count('UPDATE users SET password_hash = $1 WHERE id = $2', [passwordHash, userId]);
  }

  async userRoles(userId: string): Promise<string[]> {
    const rows = await this.sql.rows<{ role: string }>(
      'SELECT role FROM user_roles WHERE user_id = $1 ORDER BY role',
      [userId],
      'user-roles',
    );
    return rows.map((r) => r.role);
  }

  async assignRole(userId: string, role: string): Promise<void> {
    await this.sql.count('INSERT INTO user_roles (user_id, role) VALUES ($1, $2) ON CONFLICT DO NOTHING', [
      userId,
      role,
    ]);
  }

  async unassignRole(userId: string, role: string): Promise<void> {
    await this.sql.count('DELETE FROM user_roles WHERE user_id = $1 AND role = $2', [userId, role]);
  }

  async findUsers(query: UserQuery): Promise<{ users: UserRecord[]; total: number }> {
    const [where, params]: [string, unknown[]] =
      query.email !== undefined
        ? ['WHERE lower(email) = lower($1)', [query.email]]
        : query.emailPrefix !== undefined
          ? ['WHERE lower(email) LIKE lower($1)', [likePrefix(query.emailPrefix)]]
          : ['', []];
    const n = params.length;
    const [{ total } = { total: 0 }] = await this.sql.rows<{ total: number }>(
      `SELECT count(*) AS total FROM users ${where}`,
      params,
    );
    const rows = await this.sql.rows<UserRow>(
      `SELECT * FROM users ${where} ORDER BY email COLLATE "C" LIMIT $${n + 1} OFFSET $${n + 2}`,
      [...params, query.limit, query.offset],
    );
    return { users: rows.map(user), total: Number(total) };
  }

  async updateUser(id: string, changes: UserChanges): Promise<void> {
    await this.sql.count(
      `UPDATE users SET email = coalesce($1, email), name = coalesce($2, name),
         password_hash = coalesce($3, password_hash), blocked = coalesce($4, blocked), updated_at = $5
       WHERE id = $6`,
      [
        changes.email?.toLowerCase() ?? null,
        changes.name ?? null,
        changes.passwordHash ?? null,
        changes.blocked ?? null,
        Date.now(),
        id,
      ],
    );
  }

  async deleteUser(id: string): Promise<void> {
    await this.sql.count('DELETE FROM users WHERE id = $1', [id]);
  }

  async roleMembers(role: string, page: Page): Promise<{ users: UserRecord[]; total: number }> {
    const [{ total } = { total: 0 }] = await this.sql.rows<{ total: number }>(
      'SELECT count(*) AS total FROM user_roles WHERE role = $1',
      [role],
    );
    const rows = await this.sql.rows<UserRow>(
      `SELECT u.* FROM user_roles r JOIN users u ON u.id = r.user_id WHERE r.role = $1
         ORDER BY u.email COLLATE "C" LIMIT $2 OFFSET $3`,
      [role, page.limit, page.offset],
    );
    return { users: rows.map(user), total: Number(total) };
  }

  async listUsers(): Promise<UserSummary[]> {
    return this.sql.rows<UserSummary>(
      `SELECT u.id, u.email, u.name,
         coalesce(array_agg(r.role ORDER BY r.role) FILTER (WHERE r.role IS NOT NULL), '{}') AS roles
       FROM users u LEFT JOIN user_roles r ON r.user_id = u.id GROUP BY u.id ORDER BY u.email COLLATE "C"`,
    );
  }
}

type ModelRow = { payload: StoredModel['payload']; consumed_at: number | null };

class PostgresOidcStore implements OidcStore {
  private readonly sql: Sql;

  constructor(sql: Sql) {
    this.sql = sql;
  }

  private async row(by: 'id' | 'uid' | 'user_code', model: string, key: string) {
    const [row] = await this.sql.rows<ModelRow>(
      `SELECT payload, consumed_at FROM oidc_model
       WHERE model = $1 AND ${by} = $2 AND (expires_at IS NULL OR expires_at > $3)`,
      [model, key, Date.now()],
      `oidc-find-${by}`,
    );
    return row && { payload: row.payload, consumedAt: row.consumed_at };
  }

  async upsert(
    model: string,
    id: string,
    payload: StoredModel['payload'],
    index: ModelIndex,
    expiresAt: number | null,
  ): Promise<void> {
    await this.sql.count(
      `INSERT INTO oidc_model (model, id, payload, grant_id, user_code, uid, expires_at, consumed_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, NULL)
       ON CONFLICT (model, id) DO UPDATE SET payload = excluded.payload, grant_id = excluded.grant_id,
         user_code = excluded.user_code, uid = excluded.uid, expires_at = excluded.expires_at`,
      [model, id, payload, index.grantId ?? null, index.userCode ?? null, index.uid ?? null, expiresAt],
      'oidc-upsert',
    );
  }

  find(model: string, id: string): Promise<StoredModel | undefined> {
    return this.row('id', model, id);
  }

  findByUid(model: string, uid: string): Promise<StoredModel | undefined> {
    return this.row('uid', model, uid);
  }

  findByUserCode(model: string, userCode: string): Promise<StoredModel | undefined> {
    return this.row('user_code', model, userCode);
  }

  async consume(model: string, id: string, at: number): Promise<boolean> {
    // One statement: of concurrent consumers on any instances, exactly one sees a changed row.
    const changed = await this.sql.count(
      `UPDATE oidc_model SET consumed_at = $1
       WHERE model = $2 AND id = $3 AND consumed_at IS NULL AND (expires_at IS NULL OR expires_at > $4)`,
      [at, model, id, Date.now()],
      'oidc-consume',
    );
    return changed > 0;
  }

  async destroy(model: string, id: string): Promise<void> {
    await this.sql.count('DELETE FROM oidc_model WHERE model = $1 AND id = $2', [model, id], 'oidc-destroy');
  }

  async revokeByGrantId(model: string, grantId: string): Promise<void> {
    await this.sql.count(
      'DELETE FROM oidc_model WHERE model = $1 AND grant_id = $2',
      [model, grantId],
      'oidc-revoke',
    );
  }

  async claim(
    model: string,
    id: string,
    payload: StoredModel['payload'],
    expiresAt: number,
  ): Promise<boolean> {
    const claimed = await this.sql.count(
      `INSERT INTO oidc_model (model, id, payload, expires_at) VALUES ($1, $2, $3, $4)
       ON CONFLICT (model, id) DO UPDATE SET payload = excluded.payload, expires_at = excluded.expires_at,
         grant_id = NULL, user_code = NULL, uid = NULL, consumed_at = NULL
       WHERE oidc_model.expires_at IS NOT NULL AND oidc_model.expires_at <= $5`,
      [model, id, payload, expiresAt, Date.now()],
      'oidc-claim',
    );
    return claimed > 0;
  }

  deleteExpired(): Promise<number> {
    return this.sql.count('DELETE FROM oidc_model WHERE expires_at <= $1', [Date.now()]);
  }
}

class PostgresKeyStore implements KeyStore {
  private readonly pool: pg.Pool;

  constructor(pool: pg.Pool) {
    this.pool = pool;
  }

  private async readWith(sql: Sql): Promise<KeySet | undefined> {
    const secrets = new Map(
      (await sql.rows<{ name: string; value: unknown }>('SELECT name, value FROM key_secrets')).map((r) => [
        r.name,
        r.value,
      ]),
    );
    if (!secrets.has('cookie_keys') || !secrets.has('csrf_secret')) return undefined;
    const keys = await sql.rows<{
      jwk: SigningKey['jwk'];
      state: SigningKey['state'];
      created_at: number;
      retired_at: number | null;
    }>('SELECT jwk, state, created_at, retired_at FROM signing_keys ORDER BY created_at, kid');
    return {
      signingKeys: keys.map((k) => ({
        jwk: k.jwk,
        state: k.state,
        createdAt: k.created_at,
        ...(k.retired_at === null ? {} : { retiredAt: k.retired_at }),
      })),
      cookieKeys: secrets.get('cookie_keys') as string[],
      csrfSecret: secrets.get('csrf_secret') as string,
    };
  }

  read(): Promise<KeySet | undefined> {
    return inTransaction(
      this.pool,
      '',
      (sql) => this.readWith(sql),
      'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY',
    );
  }

  update(fn: (current: KeySet | undefined) => Promise<KeySet>): Promise<KeySet> {
    return inTransaction(this.pool, 'auth-server keys', async (sql) => {
      const current = await this.readWith(sql);
      const next = await fn(current);
      if (next === current) return next; // nothing to write, and nothing for the other instances to reload
      const kids = next.signingKeys.map((k) => k.jwk.kid!);
      await sql.query('DELETE FROM signing_keys WHERE NOT (kid = ANY($1))', [kids]);
      for (const k of next.signingKeys) {
        await sql.query(
          `INSERT INTO signing_keys (kid, jwk, state, created_at, retired_at) VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (kid) DO UPDATE SET state = excluded.state, retired_at = excluded.retired_at`,
          [k.jwk.kid, k.jwk, k.state, k.createdAt, k.retiredAt ?? null],
        );
      }
      for (const [name, value] of [
        ['cookie_keys', next.cookieKeys],
        ['csrf_secret', next.csrfSecret],
      ] as const) {
        await sql.query(
          `INSERT INTO key_secrets (name, value) VALUES ($1, $2)
           ON CONFLICT (name) DO UPDATE SET value = excluded.value`,
          [name, JSON.stringify(value)],
        );
      }
      return next;
    });
  }
}

/**
 * The LISTEN connection: counts notifications per topic, so that Storage.version moves when another instance
 * or the CLI commits a change. While it is disconnected nothing can be known to be current, so version()
 * throws (requests answer 503); it reconnects by itself, and a reconnect counts as a change (notices sent
 * meanwhile are lost).
 */
class ChangeListener {
  private readonly config: pg.ClientConfig;
  private readonly logger: Logger | undefined;
  private client: pg.Client | undefined;
  private readonly counts: Record<ChangeTopic, number> = { tenant: 0, keys: 0 };
  private retryMs = 100;
  private closed = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(config: pg.ClientConfig, logger: Logger | undefined) {
    this.config = config;
    this.logger = logger;
  }

  async connect(): Promise<void> {
    const client = new pg.Client(this.config);
    client.on('notification', (n) => {
      if (n.channel === TENANT_CHANNEL) this.counts.tenant++;
      else if (n.channel === KEYS_CHANNEL) this.counts.keys++;
    });
    client.on('error', () => this.lost(client));
    client.on('end', () => this.lost(client));
    try {
      await client.connect();
      await client.query(`LISTEN ${TENANT_CHANNEL}; LISTEN ${KEYS_CHANNEL}`);
    } catch (err) {
      client.removeAllListeners('end');
      await client.end().catch(() => undefined);
      throw translate(err);
    }
    if (this.closed) {
      await client.end();
      return;
    }
    this.client = client;
    this.counts.tenant++;
    this.counts.keys++;
    if (this.retryMs > 100) this.logger?.info('database change notifications resumed');
    this.retryMs = 100;
  }

  private lost(client: pg.Client): void {
    if (this.client !== client) return;
    this.client = undefined;
    client.end().catch(() => undefined);
    if (this.closed) return;
    this.logger?.warn('database change notifications lost; reconnecting');
    this.reconnect();
  }

  private reconnect(): void {
    this.timer = setTimeout(() => {
      this.connect().catch(() => {
        this.retryMs = Math.min(this.retryMs * 2, RECONNECT_MAX_MS);
        if (!this.closed) this.reconnect();
      });
    }, this.retryMs);
    this.timer.unref();
  }

  version(topic: ChangeTopic): number {
    if (!this.client)
      throw new StoreUnavailableError('the database is unreachable (no change notifications)');
    return this.counts[topic];
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }
}

export class PostgresStorage implements Storage {
  readonly kind = 'postgres';
  readonly tenant: TenantStore;
  readonly oidc: OidcStore;
  readonly keys: KeyStore;
  readonly throttle: ThrottleStore;
  private readonly pool: pg.Pool;
  private readonly listener: ChangeListener;
  // Own writes count at once; other processes' arrive as notifications a moment after their commit.
  private ownWrites = 0;

  private constructor(pool: pg.Pool, listener: ChangeListener) {
    this.pool = pool;
    this.listener = listener;
    const changed = () => {
      this.ownWrites++;
    };
    this.tenant = new PostgresTenantStore(pool, new Sql(pool), changed);
    this.oidc = new PostgresOidcStore(new Sql(pool));
    this.keys = new PostgresKeyStore(pool);
    this.throttle = new PostgresThrottleStore(pool);
  }

  /** Connects, applies the migrations and starts listening; StoreUnavailableError when the server cannot be reached. */
  static async open(config: PostgresConfig, logger?: Logger): Promise<PostgresStorage> {
    const connection = connectionOptions(config.url, 'auth-server');
    const pool = createPool(config.url, {
      name: 'auth-server',
      size: config.poolSize,
      onIdleError: (err) => logger?.warn({ err: err.message }, 'idle database connection lost'),
    });
    const listener = new ChangeListener(connection, logger);
    try {
      const client = await pool.connect().catch((err: unknown) => {
        throw translate(err);
      });
      try {
        await migrate(client);
      } finally {
        client.release();
      }
      await listener.connect();
    } catch (err) {
      await listener.close();
      await pool.end();
      throw err;
    }
    return new PostgresStorage(pool, listener);
  }

  version(topic: ChangeTopic): number {
    return this.listener.version(topic) + (topic === 'tenant' ? this.ownWrites : 0);
  }

  async close(): Promise<void> {
    await this.listener.close();
    await this.pool.end();
  }
}
