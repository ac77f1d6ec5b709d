// Storage on one SQLite file, DATA_DIR/auth.sqlite (node:sqlite), and the key set in DATA_DIR/keys.json.
// The default: one instance per DATA_DIR, with the CLI as a second process on the same files.
import { chmodSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync, type SQLInputValue, type StatementSync } from 'node:sqlite';
import type { AdapterPayload } from 'oidc-provider';
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
  type Storage,
  StoreConflictError,
  type StoredModel,
  StoreUnavailableError,
  type TenantConfig,
  type TenantStore,
  type UserChanges,
  type UserQuery,
  type UserRecord,
  type UserSummary,
} from '../storage.ts';
import { keyFileVersion, readKeyFile, writeKeyFile } from './key-file.ts';
import { migrate } from './sqlite-migrations.ts';
import { SqliteThrottleStore } from './sqlite-throttle-store.ts';

/** A prepared-statement cache over one connection, with SQLite's errors turned into the store's. */
class Statements {
  private readonly cache = new Map<string, StatementSync>();
  readonly db: DatabaseSync;

  constructor(db: DatabaseSync) {
    this.db = db;
  }

  private prepared(sql: string): StatementSync {
    let s = this.cache.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.cache.set(sql, s);
    }
    return s;
  }

  get<T>(sql: string, ...params: SQLInputValue[]): T | undefined {
    return translate(() => this.prepared(sql).get(...params) as T | undefined);
  }

  all<T>(sql: string, ...params: SQLInputValue[]): T[] {
    return translate(() => this.prepared(sql).all(...params) as T[]);
  }

  run(sql: string, ...params: SQLInputValue[]): number {
    return translate(() => Number(this.prepared(sql).run(...params).changes));
  }
}

function translate<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    const { errcode, message } = err as { errcode?: number; message?: string };
    // SQLITE_CONSTRAINT_PRIMARYKEY and SQLITE_CONSTRAINT_UNIQUE.
    if (errcode === 1555 || errcode === 2067) throw new StoreConflictError(message ?? 'already exists');
    // SQLITE_BUSY (another process held the write lock past busy_timeout) and SQLITE_LOCKED.
    const primary = (errcode ?? 0) & 0xff;
    if (primary === 5 || primary === 6)
      throw new StoreUnavailableError('the database is busy', { cause: err });
    throw err;
  }
}

type ApiRow = {
  identifier: string;
  name: string;
  signing_alg: string;
  token_lifetime: number;
  rbac: number;
  permissions_in_token: number;
  allow_offline_access: number;
  token_dialect: string;
  dpop: string;
};
type ClientRow = { settings: string; secret_env: string | null; secret: string | null };
type UserRow = {
  id: string;
  email: string;
  name: string;
  password_hash: string;
  blocked: number;
  created_at: number;
  updated_at: number | null;
};

const user = (r: UserRow): UserRecord => ({
  id: r.id,
  email: r.email,
  name: r.name,
  passwordHash: r.password_hash,
  blocked: r.blocked === 1,
  createdAt: r.created_at,
  updatedAt: r.updated_at ?? r.created_at,
});

class SqliteTenantStore implements TenantStore {
  private readonly sql: Statements;
  private readonly changed: () => void;
  private inTransaction = false;

  constructor(sql: Statements, changed: () => void) {
    this.sql = sql;
    this.changed = changed;
  }

  private write(sql: string, ...params: SQLInputValue[]): number {
    const changes = this.sql.run(sql, ...params);
    this.changed();
    return changes;
  }

  async loadConfig(): Promise<TenantConfig> {
    const scopes = this.sql.all<{ api: string; value: string; description: string }>(
      'SELECT api, value, description FROM api_scopes ORDER BY api, value',
    );
    const apis = this.sql.all<ApiRow>('SELECT * FROM apis ORDER BY name').map(
      (r): ApiDefinition => ({
        identifier: r.identifier,
        name: r.name,
        signingAlg: 'RS256',
        accessTokenLifetime: r.token_lifetime,
        rbac: r.rbac === 1,
        permissionsInToken: r.permissions_in_token === 1,
        allowOfflineAccess: r.allow_offline_access === 1,
        tokenDialect: r.token_dialect === 'auth0' ? 'auth0' : 'rfc9068',
        dpop: r.dpop === 'required' || r.dpop === 'off' ? r.dpop : 'allowed',
        scopes: scopes
          .filter((s) => s.api === r.identifier)
          .map(({ value, description }) => ({ value, description })),
      }),
    );
    const applications = this.sql
      .all<ClientRow>('SELECT settings, secret_env, secret FROM clients ORDER BY client_id')
      .map(
        (r): ApplicationRecord => ({
          // Parsed, so that a default added to the schema later applies to applications stored before.
          ...applicationSettingsSchema.parse(JSON.parse(r.settings)),
          secret: r.secret_env ? { env: r.secret_env } : r.secret ? { value: r.secret } : null,
        }),
      );
    const clientGrants = this.sql
      .all<{ client_id: string; api: string; scope: string }>(
        'SELECT client_id, api, scope FROM client_grants ORDER BY client_id, api, scope',
      )
      .map((r): ClientGrantRecord => ({ clientId: r.client_id, api: r.api, scope: r.scope }));
    const permissions = this.sql.all<{ role: string; api: string; scope: string }>(
      'SELECT role, api, scope FROM role_permissions ORDER BY role, api, scope',
    );
    const roles = this.sql
      .all<{ name: string; description: string }>('SELECT name, description FROM roles ORDER BY name')
      .map((r) => ({
        ...r,
        permissions: permissions.filter((p) => p.role === r.name).map(({ api, scope }) => ({ api, scope })),
      }));
    return { apis, applications, clientGrants, roles };
  }

  async transaction<T>(fn: (tx: TenantStore) => Promise<T>): Promise<T> {
    if (this.inTransaction) return fn(this);
    this.sql.run('BEGIN IMMEDIATE');
    this.inTransaction = true;
    try {
      const result = await fn(this);
      this.sql.run('COMMIT');
      return result;
    } catch (err) {
      this.sql.run('ROLLBACK');
      throw err;
    } finally {
      this.inTransaction = false;
      this.changed();
    }
  }

  private upsertApi(api: ApiDefinition, onConflict: string): void {
    this.write(
      `INSERT INTO apis (identifier, name, signing_alg, token_lifetime, rbac, permissions_in_token, allow_offline_access, token_dialect, dpop)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ${onConflict}`,
      api.identifier,
      api.name,
      api.signingAlg,
      api.accessTokenLifetime,
      Number(api.rbac),
      Number(api.permissionsInToken),
      Number(api.allowOfflineAccess),
      api.tokenDialect,
      api.dpop,
    );
    for (const s of api.scopes) this.upsertScope(api.identifier, s);
  }

  private upsertScope(api: string, scope: { value: string; description: string }): void {
    this.write(
      `INSERT INTO api_scopes (api, value, description) VALUES (?, ?, ?)
         ON CONFLICT (api, value) DO UPDATE SET description = excluded.description`,
      api,
      scope.value,
      scope.description,
    );
  }

  async putApi(api: ApiDefinition): Promise<void> {
    this.upsertApi(
      api,
      `ON CONFLICT (identifier) DO UPDATE SET name = excluded.name, signing_alg = excluded.signing_alg,
         token_lifetime = excluded.token_lifetime, rbac = excluded.rbac,
         permissions_in_token = excluded.permissions_in_token, allow_offline_access = excluded.allow_offline_access,
         token_dialect = excluded.token_dialect, dpop = excluded.dpop`,
    );
  }

  async createApi(api: ApiDefinition): Promise<void> {
    await this.transaction(async () => this.upsertApi(api, ''));
  }

  async putScope(api: string, scope: { value: string; description: string }): Promise<void> {
    this.upsertScope(api, scope);
  }

  private insertApplication(app: ApplicationRecord, onConflict: string): void {
    const { secret, ...settings } = app;
    this.write(
      `INSERT INTO clients (client_id, name, type, settings, secret_env, secret) VALUES (?, ?, ?, ?, ?, ?) ${onConflict}`,
      app.clientId,
      app.name,
      app.type,
      JSON.stringify(settings),
      secret && 'env' in secret ? secret.env : null,
      secret && 'value' in secret ? secret.value : null,
    );
  }

  async putApplication(app: ApplicationRecord): Promise<void> {
    this.insertApplication(
      app,
      `ON CONFLICT (client_id) DO UPDATE SET name = excluded.name, type = excluded.type,
         settings = excluded.settings, secret_env = excluded.secret_env, secret = excluded.secret`,
    );
  }

  async createApplication(app: ApplicationRecord): Promise<void> {
    this.insertApplication(app, '');
  }

  async addClientGrant(g: ClientGrantRecord): Promise<void> {
    this.write(
      'INSERT OR IGNORE INTO client_grants (client_id, api, scope) VALUES (?, ?, ?)',
      g.clientId,
      g.api,
      g.scope,
    );
  }

  async putRole(role: { name: string; description: string }): Promise<void> {
    this.write(
      'INSERT INTO roles (name, description) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET description = excluded.description',
      role.name,
      role.description,
    );
  }

  async createRole(role: { name: string; description: string }): Promise<void> {
    this.write('INSERT INTO roles (name, description) VALUES (?, ?)', role.name, role.description);
  }

  async addRolePermission(role: string, p: { api: string; scope: string }): Promise<void> {
    this.write(
      'INSERT OR IGNORE INTO role_permissions (role, api, scope) VALUES (?, ?, ?)',
      role,
      p.api,
      p.scope,
    );
  }

  async deleteApi(identifier: string): Promise<void> {
    this.write('DELETE FROM apis WHERE identifier = ?', identifier);
  }

  async removeScopesExcept(api: string, keep: readonly string[]): Promise<void> {
    const kept = JSON.stringify(keep);
    await this.transaction(async () => {
      for (const [table, column] of [
        ['api_scopes', 'value'],
        ['role_permissions', 'scope'],
        ['client_grants', 'scope'],
      ] as const)
        this.write(
          `DELETE FROM ${table} WHERE api = ? AND ${column} NOT IN (SELECT value FROM json_each(?))`,
          api,
          kept,
        );
    });
  }

  async deleteApplication(clientId: string): Promise<void> {
    this.write('DELETE FROM clients WHERE client_id = ?', clientId);
  }

  async removeClientGrant(clientId: string, api: string): Promise<void> {
    this.write('DELETE FROM client_grants WHERE client_id = ? AND api = ?', clientId, api);
  }

  async deleteRole(name: string): Promise<void> {
    this.write('DELETE FROM roles WHERE name = ?', name);
  }

  async removeRolePermission(role: string, p: { api: string; scope: string }): Promise<void> {
    this.write('DELETE FROM role_permissions WHERE role = ? AND api = ? AND scope = ?', role, p.api, p.scope);
  }

  async findUserByEmail(email: string): Promise<UserRecord | undefined> {
    const row = this.sql.get<UserRow>('SELECT * FROM users WHERE email = ?', email);
    return row && user(row);
  }

  async findUserById(id: string): Promise<UserRecord | undefined> {
    const row = this.sql.get<UserRow>('SELECT * FROM users WHERE id = ?', id);
    return row && user(row);
  }

  async insertUser(u: UserRecord): Promise<void> {
    this.sql.run(
      'INSERT INTO users (id, email, name, password_hash, blocked, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
      u.id,
      u.email,
      u.name,
      u.passwordHash,
      Number(u.blocked),
      u.createdAt,
      u.updatedAt,
    );
  }

  async updatePasswordHash(userId: string, passwordHash: string): Promise<void> {
    this.sql.run('UPDATE users SET password_hash = ? WHERE id = ?', passwordHash, userId);
  }

  async userRoles(userId: string): Promise<string[]> {
    return this.sql
      .all<{ role: string }>('SELECT role FROM user_roles WHERE user_id = ? ORDER BY role', userId)
      .map((r) => r.role);
  }

  async assignRole(userId: string, role: string): Promise<void> {
    this.sql.run('INSERT OR IGNORE INTO user_roles (user_id, role) VALUES (?, ?)', userId, role);
  }

  async unassignRole(userId: string, role: string): Promise<void> {
    this.sql.run('DELETE FROM user_roles WHERE user_id = ? AND role = ?', userId, role);
  }

  async findUsers(query: UserQuery): Promise<{ users: UserRecord[]; total: number }> {
    // The email column compares without regard to case (COLLATE NOCASE), and so does LIKE.
    const [where, params]: [string, SQLInputValue[]] =
      query.email !== undefined
        ? ['WHERE email = ?', [query.email]]
        : query.emailPrefix !== undefined
          ? ["WHERE email LIKE ? ESCAPE '\\'", [likePrefix(query.emailPrefix)]]
          : ['', []];
    const { total } = this.sql.get<{ total: number }>(
      `SELECT count(*) AS total FROM users ${where}`,
      ...params,
    )!;
    const rows = this.sql.all<UserRow>(
      `SELECT * FROM users ${where} ORDER BY email LIMIT ? OFFSET ?`,
      ...params,
      query.limit,
      query.offset,
    );
    return { users: rows.map(user), total };
  }

  async updateUser(id: string, changes: UserChanges): Promise<void> {
    this.sql.run(
      `UPDATE users SET email = coalesce(?, email), name = coalesce(?, name),
         password_hash = coalesce(?, password_hash), blocked = coalesce(?, blocked), updated_at = ? WHERE id = ?`,
      changes.email?.toLowerCase() ?? null,
      changes.name ?? null,
      changes.passwordHash ?? null,
      changes.blocked === undefined ? null : Number(changes.blocked),
      Date.now(),
      id,
    );
  }

  async deleteUser(id: string): Promise<void> {
    this.sql.run('DELETE FROM users WHERE id = ?', id);
  }

  async roleMembers(role: string, page: Page): Promise<{ users: UserRecord[]; total: number }> {
    const { total } = this.sql.get<{ total: number }>(
      'SELECT count(*) AS total FROM user_roles WHERE role = ?',
      role,
    )!;
    const rows = this.sql.all<UserRow>(
      `SELECT u.* FROM user_roles r JOIN users u ON u.id = r.user_id WHERE r.role = ?
         ORDER BY u.email LIMIT ? OFFSET ?`,
      role,
      page.limit,
      page.offset,
    );
    return { users: rows.map(user), total };
  }

  async listUsers(): Promise<UserSummary[]> {
    const roles = this.sql.all<{ user_id: string; role: string }>(
      'SELECT user_id, role FROM user_roles ORDER BY role',
    );
    return this.sql
      .all<{ id: string; email: string; name: string }>('SELECT id, email, name FROM users ORDER BY email')
      .map((u) => ({ ...u, roles: roles.filter((r) => r.user_id === u.id).map((r) => r.role) }));
  }
}

type ModelRow = { payload: string; consumed_at: number | null };
const LIVE = '(expires_at IS NULL OR expires_at > ?)';

class SqliteOidcStore implements OidcStore {
  private readonly sql: Statements;

  constructor(sql: Statements) {
    this.sql = sql;
  }

  private row(where: string, model: string, key: string): StoredModel | undefined {
    const row = this.sql.get<ModelRow>(
      `SELECT payload, consumed_at FROM oidc_model WHERE model = ? AND ${where} = ? AND ${LIVE}`,
      model,
      key,
      Date.now(),
    );
    return row && { payload: JSON.parse(row.payload) as AdapterPayload, consumedAt: row.consumed_at };
  }

  async upsert(
    model: string,
    id: string,
    payload: AdapterPayload,
    index: ModelIndex,
    expiresAt: number | null,
  ): Promise<void> {
    this.sql.run(
      `INSERT INTO oidc_model (model, id, payload, grant_id, user_code, uid, expires_at, consumed_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, NULL)
       ON CONFLICT (model, id) DO UPDATE SET payload = excluded.payload, grant_id = excluded.grant_id,
         user_code = excluded.user_code, uid = excluded.uid, expires_at = excluded.expires_at`,
      model,
      id,
      JSON.stringify(payload),
      index.grantId ?? null,
      index.userCode ?? null,
      index.uid ?? null,
      expiresAt,
    );
  }

  async find(model: string, id: string) {
    return this.row('id', model, id);
  }

  async findByUid(model: string, uid: string) {
    return this.row('uid', model, uid);
  }

  async findByUserCode(model: string, userCode: string) {
    return this.row('user_code', model, userCode);
  }

  async consume(model: string, id: string, at: number): Promise<boolean> {
    return (
      this.sql.run(
        `UPDATE oidc_model SET consumed_at = ? WHERE model = ? AND id = ? AND consumed_at IS NULL AND ${LIVE}`,
        at,
        model,
        id,
        Date.now(),
      ) > 0
    );
  }

  async destroy(model: string, id: string): Promise<void> {
    this.sql.run('DELETE FROM oidc_model WHERE model = ? AND id = ?', model, id);
  }

  async revokeByGrantId(model: string, grantId: string): Promise<void> {
    this.sql.run('DELETE FROM oidc_model WHERE model = ? AND grant_id = ?', model, grantId);
  }

  async claim(model: string, id: string, payload: AdapterPayload, expiresAt: number): Promise<boolean> {
    const now = Date.now();
    return (
      this.sql.run(
        `INSERT INTO oidc_model (model, id, payload, expires_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (model, id) DO UPDATE SET payload = excluded.payload, expires_at = excluded.expires_at,
           grant_id = NULL, user_code = NULL, uid = NULL, consumed_at = NULL
         WHERE oidc_model.expires_at IS NOT NULL AND oidc_model.expires_at <= ?`,
        model,
        id,
        JSON.stringify(payload),
        expiresAt,
        now,
      ) > 0
    );
  }

  async deleteExpired(): Promise<number> {
    return this.sql.run(
      'DELETE FROM oidc_model WHERE expires_at IS NOT NULL AND expires_at <= ?',
      Date.now(),
    );
  }
}

class KeyFileStore implements KeyStore {
  private readonly dataDir: string;
  private readonly sql: Statements;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(dataDir: string, sql: Statements) {
    this.dataDir = dataDir;
    this.sql = sql;
  }

  async read(): Promise<KeySet | undefined> {
    return readKeyFile(this.dataDir);
  }

  update(fn: (current: KeySet | undefined) => Promise<KeySet>): Promise<KeySet> {
    const run = this.queue.then(() => this.updateOnce(fn));
    this.queue = run.catch(() => undefined);
    return run;
  }

  /**
   * Optimistic: `fn` works on the file as read, then the write happens under the database's write lock
   * (which orders the server and CLI processes sharing this DATA_DIR) only if nobody rewrote the file
   * meanwhile; otherwise `fn` runs again on the newer keys. No lock is held while `fn` awaits.
   */
  private async updateOnce(fn: (current: KeySet | undefined) => Promise<KeySet>): Promise<KeySet> {
    for (;;) {
      const version = keyFileVersion(this.dataDir);
      const current = readKeyFile(this.dataDir);
      const next = await fn(current);
      if (next === current) return next;
      this.sql.run('BEGIN IMMEDIATE');
      try {
        const unchanged = keyFileVersion(this.dataDir) === version;
        if (unchanged) writeKeyFile(this.dataDir, next);
        this.sql.run('COMMIT');
        if (unchanged) return next;
      } catch (err) {
        this.sql.run('ROLLBACK');
        throw err;
      }
    }
  }
}

export class SqliteStorage implements Storage {
  readonly kind = 'sqlite';
  readonly db: DatabaseSync;
  readonly tenant: TenantStore;
  readonly oidc: OidcStore;
  readonly keys: KeyStore;
  readonly throttle: ThrottleStore;
  private readonly dataDir: string;
  private readonly dataVersion: StatementSync;
  // Commits of other connections change PRAGMA data_version; this connection's own writes are counted here.
  private ownWrites = 0;

  constructor(dataDir: string) {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    const file = join(dataDir, 'auth.sqlite');
    this.db = new DatabaseSync(file);
    chmodSync(file, 0o600);
    this.db.exec(
      'PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;',
    );
    migrate(this.db);
    this.dataDir = dataDir;
    this.dataVersion = this.db.prepare('PRAGMA data_version');
    const sql = new Statements(this.db);
    this.tenant = new SqliteTenantStore(sql, () => {
      this.ownWrites++;
    });
    this.oidc = new SqliteOidcStore(sql);
    this.keys = new KeyFileStore(dataDir, sql);
    this.throttle = new SqliteThrottleStore(this.db);
  }

  version(topic: ChangeTopic): number {
    if (topic === 'keys') return keyFileVersion(this.dataDir);
    const { data_version } = this.dataVersion.get() as { data_version: number };
    return data_version + this.ownWrites;
  }

  async close(): Promise<void> {
    this.db.close();
  }
}
