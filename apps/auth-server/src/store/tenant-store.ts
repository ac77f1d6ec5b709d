// The run-time tenant in SQLite: what the tenant file seeds and the admin CLI changes; the server reads it per request.
import { randomBytes } from 'node:crypto';
import type { DatabaseSync, SQLInputValue, StatementSync } from 'node:sqlite';
import { hashPassword } from '../security/passwords.ts';
import type {
  ApiDefinition,
  ApplicationDefinition,
  ApplicationSettings,
  Tenant,
} from '../tenant/tenant-schema.ts';

export type Api = {
  identifier: string;
  name: string;
  signingAlg: string;
  tokenLifetime: number;
  rbac: boolean;
  permissionsInToken: boolean;
  allowOfflineAccess: boolean;
  tokenDialect: 'rfc9068' | 'auth0';
  dpop: 'required' | 'allowed' | 'off';
  scopes: { value: string; description: string }[];
};

export type User = {
  id: string;
  email: string;
  name: string;
  passwordHash: string;
  /** A blocked user cannot sign in, and their refresh tokens stop working. */
  blocked: boolean;
  createdAt: number;
  updatedAt: number;
};

type UserRow = {
  id: string;
  email: string;
  name: string;
  password_hash: string;
  blocked: number;
  created_at: number;
  updated_at: number | null;
};

const USER_COLUMNS = 'id, email, name, password_hash, blocked, created_at, updated_at';

const toUser = (row: UserRow): User => ({
  id: row.id,
  email: row.email,
  name: row.name,
  passwordHash: row.password_hash,
  blocked: row.blocked === 1,
  createdAt: row.created_at,
  updatedAt: row.updated_at ?? row.created_at,
});

export type ClientRecord = {
  clientId: string;
  name: string;
  type: string;
  metadata: Record<string, unknown>;
  secretEnv: string | null;
  secret: string | null;
};

export class TenantStoreError extends Error {
  override name = 'TenantStoreError';
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

export function clientMetadataFor(app: ApplicationSettings): Record<string, unknown> {
  const base = {
    client_id: app.clientId,
    client_name: app.name,
    first_party: app.firstParty,
    app_type: app.type,
  };
  if (app.type === 'm2m') {
    return {
      ...base,
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      token_endpoint_auth_method: app.tokenEndpointAuthMethod,
    };
  }
  const rt = app.refreshToken;
  return {
    ...base,
    application_type: 'web',
    token_endpoint_auth_method: app.type === 'spa' ? 'none' : app.tokenEndpointAuthMethod,
    grant_types: rt ? ['authorization_code', 'refresh_token'] : ['authorization_code'],
    response_types: ['code'],
    redirect_uris: app.callbackUrls,
    post_logout_redirect_uris: app.logoutUrls,
    web_origins: app.type === 'spa' ? app.webOrigins : [],
    refresh_token_rotation: rt?.rotation ?? true,
    refresh_token_reuse_interval: rt?.reuseIntervalSeconds ?? 0,
    refresh_token_absolute_lifetime: rt?.absoluteLifetime ?? 2592000,
    refresh_token_idle_lifetime: rt?.idleLifetime ?? 1296000,
  };
}

export class TenantStore {
  readonly db: DatabaseSync;

  private readonly statements = new Map<string, StatementSync>();
  // Reads on the token path are memoised; another process's commit (the CLI) bumps SQLite's data_version,
  // which is read (about a microsecond) before each memoised read, so CLI changes apply at the next request.
  private readonly memo = new Map<string, unknown>();
  private dataVersion = -1;

  constructor(db: DatabaseSync) {
    this.db = db;
  }

  private stmt(sql: string): StatementSync {
    let s = this.statements.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.statements.set(sql, s);
    }
    return s;
  }

  private cached<T>(key: string, load: () => T): T {
    const { data_version } = this.stmt('PRAGMA data_version').get() as { data_version: number };
    if (data_version !== this.dataVersion) {
      this.dataVersion = data_version;
      this.memo.clear();
    }
    if (this.memo.has(key)) return this.memo.get(key) as T;
    const value = load();
    this.memo.set(key, value);
    return value;
  }

  /** Our own writes do not change data_version for this connection. */
  private invalidate(): void {
    this.memo.clear();
  }

  private write(sql: string, ...params: SQLInputValue[]): void {
    this.stmt(sql).run(...params);
    this.invalidate();
  }

  /** Inside another transaction, `fn` simply joins it. */
  transaction<T>(fn: () => T): T {
    if (this.db.isTransaction) return fn();
    this.db.exec('BEGIN IMMEDIATE');
    try {
      const result = fn();
      this.db.exec('COMMIT');
      return result;
    } catch (err) {
      this.db.exec('ROLLBACK');
      throw err;
    }
  }

  /** Applies the tenant file additively: declared entities are created or updated, nothing else is removed. */
  async seed(tenant: Tenant): Promise<void> {
    const hashes = new Map<string, string>();
    for (const u of tenant.users) {
      if (!this.findUserByEmail(u.email))
        hashes.set(u.email, u.passwordHash ?? (await hashPassword(u.password!)));
    }
    this.transaction(() => {
      for (const api of tenant.apis) this.upsertApi(api);
      for (const app of tenant.applications) {
        const secretEnv = app.type === 'spa' ? null : app.clientSecret.env;
        this.write(
          `INSERT INTO clients (client_id, name, type, metadata, secret_env, secret) VALUES (?, ?, ?, ?, ?, NULL)
             ON CONFLICT (client_id) DO UPDATE SET name = excluded.name, type = excluded.type,
               metadata = excluded.metadata, secret_env = excluded.secret_env, secret = NULL`,
          app.clientId,
          app.name,
          app.type,
          JSON.stringify(clientMetadataFor(app)),
          secretEnv,
        );
      }
      for (const g of tenant.clientGrants)
        for (const s of g.scopes) this.addClientGrant(g.clientId, g.audience, s);
      for (const r of tenant.roles) {
        this.write(
          'INSERT INTO roles (name, description) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET description = excluded.description',
          r.name,
          r.description,
        );
        for (const p of r.permissions) this.addRolePermission(r.name, p.audience, p.scope);
      }
      for (const u of tenant.users) {
        const hash = hashes.get(u.email);
        const user = hash
          ? this.insertUser(u.email, u.name ?? u.email.split('@')[0]!, hash)
          : this.findUserByEmail(u.email)!;
        for (const role of u.roles) this.assignRole(user.email, role);
      }
    });
  }

  upsertApi(api: ApiDefinition): void {
    this.write(
      `INSERT INTO apis (identifier, name, signing_alg, token_lifetime, rbac, permissions_in_token, allow_offline_access, token_dialect, dpop)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (identifier) DO UPDATE SET name = excluded.name, signing_alg = excluded.signing_alg,
           token_lifetime = excluded.token_lifetime, rbac = excluded.rbac,
           permissions_in_token = excluded.permissions_in_token, allow_offline_access = excluded.allow_offline_access,
           token_dialect = excluded.token_dialect, dpop = excluded.dpop`,
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
    for (const s of api.scopes) this.addScope(api.identifier, s.value, s.description);
  }

  createApi(api: ApiDefinition): void {
    if (this.getApi(api.identifier))
      throw new TenantStoreError(`an API with identifier ${api.identifier} already exists`);
    this.upsertApi(api);
  }

  addScope(apiIdentifier: string, value: string, description: string): void {
    if (!this.getApi(apiIdentifier)) throw new TenantStoreError(`no API with identifier ${apiIdentifier}`);
    this.write(
      'INSERT INTO api_scopes (api, value, description) VALUES (?, ?, ?) ON CONFLICT (api, value) DO UPDATE SET description = excluded.description',
      apiIdentifier,
      value,
      description,
    );
  }

  getApi(identifier: string): Api | undefined {
    return this.cached(`api ${identifier}`, () => {
      const row = this.stmt('SELECT * FROM apis WHERE identifier = ?').get(identifier) as ApiRow | undefined;
      if (!row) return undefined;
      const scopes = this.stmt('SELECT value, description FROM api_scopes WHERE api = ? ORDER BY value').all(
        identifier,
      ) as { value: string; description: string }[];
      return {
        identifier: row.identifier,
        name: row.name,
        signingAlg: row.signing_alg,
        tokenLifetime: row.token_lifetime,
        rbac: row.rbac === 1,
        permissionsInToken: row.permissions_in_token === 1,
        allowOfflineAccess: row.allow_offline_access === 1,
        tokenDialect: row.token_dialect === 'auth0' ? 'auth0' : 'rfc9068',
        dpop: row.dpop === 'required' || row.dpop === 'off' ? row.dpop : 'allowed',
        scopes: scopes.map((s) => ({ value: s.value, description: s.description })),
      };
    });
  }

  listApis(): Api[] {
    const ids = this.stmt('SELECT identifier FROM apis ORDER BY name').all() as {
      identifier: string;
    }[];
    return ids.map((r) => this.getApi(r.identifier)!);
  }

  createApplication(app: ApplicationDefinition, secret: string | null): void {
    if (this.getClient(app.clientId))
      throw new TenantStoreError(`an application with client id ${app.clientId} already exists`);
    this.write(
      'INSERT INTO clients (client_id, name, type, metadata, secret_env, secret) VALUES (?, ?, ?, ?, NULL, ?)',
      app.clientId,
      app.name,
      app.type,
      JSON.stringify(clientMetadataFor(app)),
      secret,
    );
  }

  getClient(clientId: string): ClientRecord | undefined {
    return this.cached(`client ${clientId}`, () => {
      const row = this.stmt('SELECT * FROM clients WHERE client_id = ?').get(clientId) as
        | {
            client_id: string;
            name: string;
            type: string;
            metadata: string;
            secret_env: string | null;
            secret: string | null;
          }
        | undefined;
      if (!row) return undefined;
      return {
        clientId: row.client_id,
        name: row.name,
        type: row.type,
        metadata: JSON.parse(row.metadata) as Record<string, unknown>,
        secretEnv: row.secret_env,
        secret: row.secret,
      };
    });
  }

  listClients(): ClientRecord[] {
    const ids = this.stmt('SELECT client_id FROM clients ORDER BY client_id').all() as {
      client_id: string;
    }[];
    return ids.map((r) => this.getClient(r.client_id)!);
  }

  /** Origins of every registered callback and logout URL: the hosted forms may redirect only there (CSP form-action). */
  redirectOrigins(): string[] {
    return this.cached('redirectOrigins', () => {
      const origins = new Set<string>();
      for (const c of this.listClients()) {
        for (const key of ['redirect_uris', 'post_logout_redirect_uris']) {
          for (const url of (c.metadata[key] as string[] | undefined) ?? []) origins.add(new URL(url).origin);
        }
      }
      return [...origins];
    });
  }

  /** Every SPA's allowed web origin: CORS for the routes we serve ourselves (/userinfo). */
  webOrigins(): Set<string> {
    return this.cached('webOrigins', () => {
      const origins = new Set<string>();
      for (const c of this.listClients())
        for (const o of (c.metadata.web_origins as string[] | undefined) ?? []) origins.add(o);
      return origins;
    });
  }

  addClientGrant(clientId: string, api: string, scope: string): void {
    const client = this.getClient(clientId);
    if (!client) throw new TenantStoreError(`no application with client id ${clientId}`);
    if (client.type === 'spa')
      throw new TenantStoreError(`${clientId} is a SPA; client grants are for confidential applications`);
    this.requireScope(api, scope);
    this.write(
      'INSERT OR IGNORE INTO client_grants (client_id, api, scope) VALUES (?, ?, ?)',
      clientId,
      api,
      scope,
    );
  }

  /** Scopes of a client grant, or undefined when the client has no grant for that API. */
  clientGrantScopes(clientId: string, api: string): string[] | undefined {
    return this.cached(`grant ${clientId} ${api}`, () => {
      const rows = this.stmt('SELECT scope FROM client_grants WHERE client_id = ? AND api = ?').all(
        clientId,
        api,
      ) as {
        scope: string;
      }[];
      return rows.length === 0 ? undefined : rows.map((r) => r.scope);
    });
  }

  listClientGrants(): { clientId: string; api: string; scopes: string[] }[] {
    const rows = this.stmt(
      'SELECT client_id, api, scope FROM client_grants ORDER BY client_id, api, scope',
    ).all() as {
      client_id: string;
      api: string;
      scope: string;
    }[];
    const out = new Map<string, { clientId: string; api: string; scopes: string[] }>();
    for (const r of rows) {
      const key = `${r.client_id} ${r.api}`;
      if (!out.has(key)) out.set(key, { clientId: r.client_id, api: r.api, scopes: [] });
      out.get(key)!.scopes.push(r.scope);
    }
    return [...out.values()];
  }

  private requireScope(api: string, scope: string): void {
    const found = this.getApi(api);
    if (!found) throw new TenantStoreError(`no API with identifier ${api}`);
    if (!found.scopes.some((s) => s.value === scope))
      throw new TenantStoreError(`API ${api} has no scope ${scope}`);
  }

  createRole(name: string, description: string): void {
    if (this.stmt('SELECT 1 FROM roles WHERE name = ?').get(name))
      throw new TenantStoreError(`role ${name} already exists`);
    this.write('INSERT INTO roles (name, description) VALUES (?, ?)', name, description);
  }

  addRolePermission(role: string, api: string, scope: string): void {
    if (!this.stmt('SELECT 1 FROM roles WHERE name = ?').get(role))
      throw new TenantStoreError(`no role ${role}`);
    this.requireScope(api, scope);
    this.write(
      'INSERT OR IGNORE INTO role_permissions (role, api, scope) VALUES (?, ?, ?)',
      role,
      api,
      scope,
    );
  }

  listRoles(): { name: string; description: string; permissions: { api: string; scope: string }[] }[] {
    const roles = this.stmt('SELECT name, description FROM roles ORDER BY name').all() as {
      name: string;
      description: string;
    }[];
    return roles.map((r) => ({
      name: r.name,
      description: r.description,
      permissions: this.stmt(
        'SELECT api, scope FROM role_permissions WHERE role = ? ORDER BY api, scope',
      ).all(r.name) as { api: string; scope: string }[],
    }));
  }

  private insertUser(email: string, name: string, passwordHash: string): User {
    const id = `auth0|${randomBytes(12).toString('hex')}`;
    const now = Date.now();
    this.write(
      'INSERT INTO users (id, email, name, password_hash, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)',
      id,
      email.toLowerCase(),
      name,
      passwordHash,
      now,
      now,
    );
    return {
      id,
      email: email.toLowerCase(),
      name,
      passwordHash,
      blocked: false,
      createdAt: now,
      updatedAt: now,
    };
  }

  /** `hash` makes the password's hash: the server's password threads, or by default libuv's pool (the CLI). */
  async createUser(
    email: string,
    name: string,
    password: string,
    hash: (password: string) => Promise<string> = hashPassword,
  ): Promise<User> {
    if (this.findUserByEmail(email)) throw new TenantStoreError(`a user with email ${email} already exists`);
    const passwordHash = await hash(password);
    // Re-checked after the (slow) hash: two sign-ups of one email race otherwise.
    if (this.findUserByEmail(email)) throw new TenantStoreError(`a user with email ${email} already exists`);
    return this.insertUser(email, name, passwordHash);
  }

  /** Replaces a user's password hash (a stronger hash of the same password, after a sign-in). */
  updatePasswordHash(userId: string, passwordHash: string): void {
    this.write('UPDATE users SET password_hash = ? WHERE id = ?', passwordHash, userId);
  }

  findUserByEmail(email: string): User | undefined {
    const row = this.stmt(`SELECT ${USER_COLUMNS} FROM users WHERE email = ?`).get(email.toLowerCase()) as
      | UserRow
      | undefined;
    return row && toUser(row);
  }

  findUserById(id: string): User | undefined {
    const row = this.stmt(`SELECT ${USER_COLUMNS} FROM users WHERE id = ?`).get(id) as UserRow | undefined;
    return row && toUser(row);
  }

  listUsers(): { id: string; email: string; name: string; roles: string[] }[] {
    const users = this.stmt('SELECT id, email, name FROM users ORDER BY email').all() as {
      id: string;
      email: string;
      name: string;
    }[];
    return users.map((u) => ({
      ...u,
      roles: (
        this.stmt('SELECT role FROM user_roles WHERE user_id = ? ORDER BY role').all(u.id) as {
          role: string;
        }[]
      ).map((r) => r.role),
    }));
  }

  assignRole(email: string, role: string): void {
    const user = this.findUserByEmail(email);
    if (!user) throw new TenantStoreError(`no user with email ${email}`);
    if (!this.stmt('SELECT 1 FROM roles WHERE name = ?').get(role))
      throw new TenantStoreError(`no role ${role}`);
    this.write('INSERT OR IGNORE INTO user_roles (user_id, role) VALUES (?, ?)', user.id, role);
  }

  /** The user's permissions on one API, through their roles (Auth0's RBAC). */
  userPermissions(userId: string, api: string): string[] {
    return this.cached(`perm ${userId} ${api}`, () => {
      const rows = this.stmt(
        `SELECT DISTINCT rp.scope FROM user_roles ur JOIN role_permissions rp ON rp.role = ur.role
           WHERE ur.user_id = ? AND rp.api = ? ORDER BY rp.scope`,
      ).all(userId, api) as { scope: string }[];
      return rows.map((r) => r.scope);
    });
  }

  // Changes and reads for the Management API (management/sqlite-tenant-operations.ts): each is one small
  // statement or transaction; which references are valid is checked by the caller.

  /** Replaces an API's settings (not its identifier or scopes). */
  updateApi(api: Omit<Api, 'scopes'>): void {
    this.write(
      `UPDATE apis SET name = ?, signing_alg = ?, token_lifetime = ?, rbac = ?, permissions_in_token = ?,
         allow_offline_access = ?, token_dialect = ?, dpop = ? WHERE identifier = ?`,
      api.name,
      api.signingAlg,
      api.tokenLifetime,
      Number(api.rbac),
      Number(api.permissionsInToken),
      Number(api.allowOfflineAccess),
      api.tokenDialect,
      api.dpop,
      api.identifier,
    );
  }

  /** An API's scopes become exactly `scopes`; a scope removed is also removed from every role and client grant. */
  replaceScopes(api: string, scopes: { value: string; description: string }[]): void {
    const kept = new Set(scopes.map((s) => s.value));
    this.transaction(() => {
      for (const old of this.getApi(api)?.scopes ?? []) {
        if (kept.has(old.value)) continue;
        for (const table of ['api_scopes', 'role_permissions', 'client_grants']) {
          const column = table === 'api_scopes' ? 'value' : 'scope';
          this.write(`DELETE FROM ${table} WHERE api = ? AND ${column} = ?`, api, old.value);
        }
      }
      for (const s of scopes) this.addScope(api, s.value, s.description);
    });
  }

  /** Its scopes, client grants and role permissions go with it (foreign keys). */
  deleteApi(identifier: string): void {
    this.write('DELETE FROM apis WHERE identifier = ?', identifier);
  }

  /** New settings for an existing application; its secret stays as it is. */
  updateApplication(app: ApplicationSettings): void {
    this.write(
      'UPDATE clients SET name = ?, type = ?, metadata = ? WHERE client_id = ?',
      app.name,
      app.type,
      JSON.stringify(clientMetadataFor(app)),
      app.clientId,
    );
  }

  /** A stored secret (or none) replaces the secret, wherever it came from. */
  setClientSecret(clientId: string, secret: string | null): void {
    this.write('UPDATE clients SET secret_env = NULL, secret = ? WHERE client_id = ?', secret, clientId);
  }

  deleteApplication(clientId: string): void {
    this.write('DELETE FROM clients WHERE client_id = ?', clientId);
  }

  setClientGrantScopes(clientId: string, api: string, scopes: string[]): void {
    this.transaction(() => {
      this.write('DELETE FROM client_grants WHERE client_id = ? AND api = ?', clientId, api);
      for (const s of scopes) this.addClientGrant(clientId, api, s);
    });
  }

  deleteClientGrant(clientId: string, api: string): void {
    this.write('DELETE FROM client_grants WHERE client_id = ? AND api = ?', clientId, api);
  }

  updateUser(
    id: string,
    changes: { email?: string; name?: string; passwordHash?: string; blocked?: boolean },
  ): void {
    const user = this.findUserById(id);
    if (!user) return;
    this.write(
      'UPDATE users SET email = ?, name = ?, password_hash = ?, blocked = ?, updated_at = ? WHERE id = ?',
      (changes.email ?? user.email).toLowerCase(),
      changes.name ?? user.name,
      changes.passwordHash ?? user.passwordHash,
      Number(changes.blocked ?? user.blocked),
      Date.now(),
      id,
    );
  }

  /** Their role assignments go with them; their tokens stop working at the next refresh. */
  deleteUser(id: string): void {
    this.write('DELETE FROM users WHERE id = ?', id);
  }

  /** A page of users by email, optionally only those whose email is `email` or starts with `emailPrefix`. */
  findUsers(filter: { email?: string; emailPrefix?: string; offset: number; limit: number }): {
    users: User[];
    total: number;
  } {
    const where =
      filter.email !== undefined
        ? { sql: 'WHERE email = ?', params: [filter.email.toLowerCase()] }
        : filter.emailPrefix !== undefined
          ? {
              sql: "WHERE email LIKE ? ESCAPE '\\'",
              params: [`${filter.emailPrefix.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`],
            }
          : { sql: '', params: [] };
    const { total } = this.stmt(`SELECT count(*) AS total FROM users ${where.sql}`).get(...where.params) as {
      total: number;
    };
    const rows = this.stmt(
      `SELECT ${USER_COLUMNS} FROM users ${where.sql} ORDER BY email LIMIT ? OFFSET ?`,
    ).all(...where.params, filter.limit, filter.offset) as UserRow[];
    return { users: rows.map(toUser), total };
  }

  userRoles(userId: string): string[] {
    const rows = this.stmt('SELECT role FROM user_roles WHERE user_id = ? ORDER BY role').all(userId) as {
      role: string;
    }[];
    return rows.map((r) => r.role);
  }

  assignRoleToUser(userId: string, role: string): void {
    this.write('INSERT OR IGNORE INTO user_roles (user_id, role) VALUES (?, ?)', userId, role);
  }

  removeRoleFromUser(userId: string, role: string): void {
    this.write('DELETE FROM user_roles WHERE user_id = ? AND role = ?', userId, role);
  }

  /** Every permission a user has through a role, on every API, with the role it comes from. */
  userPermissionSources(userId: string): { api: string; scope: string; role: string }[] {
    return this.stmt(
      `SELECT rp.api AS api, rp.scope AS scope, rp.role AS role FROM user_roles ur
         JOIN role_permissions rp ON rp.role = ur.role WHERE ur.user_id = ? ORDER BY rp.api, rp.scope, rp.role`,
    ).all(userId) as { api: string; scope: string; role: string }[];
  }

  updateRoleDescription(name: string, description: string): void {
    this.write('UPDATE roles SET description = ? WHERE name = ?', description, name);
  }

  /** Its permissions and assignments go with it (foreign keys). */
  deleteRole(name: string): void {
    this.write('DELETE FROM roles WHERE name = ?', name);
  }

  removeRolePermission(role: string, api: string, scope: string): void {
    this.write('DELETE FROM role_permissions WHERE role = ? AND api = ? AND scope = ?', role, api, scope);
  }

  roleMembers(role: string, page: { offset: number; limit: number }): { users: User[]; total: number } {
    const { total } = this.stmt('SELECT count(*) AS total FROM user_roles WHERE role = ?').get(role) as {
      total: number;
    };
    const rows = this.stmt(
      `SELECT ${USER_COLUMNS.replace(/(\w+)/g, 'u.$1')} FROM user_roles ur JOIN users u ON u.id = ur.user_id
         WHERE ur.role = ? ORDER BY u.email LIMIT ? OFFSET ?`,
    ).all(role, page.limit, page.offset) as UserRow[];
    return { users: rows.map(toUser), total };
  }
}
