// TenantOperations over today's TenantStore (SQLite, synchronous): the one file that knows both. Applications
// are stored as oidc-provider metadata, so their settings are read back from it here.
import { type Api, type ClientRecord, type TenantStore, TenantStoreError } from '../store/tenant-store.ts';
import type { ApiDefinition, ApplicationSettings } from '../tenant/tenant-schema.ts';
import {
  type ApiRecord,
  type ApiSettings,
  type ApplicationRecord,
  type ClientGrantRecord,
  type Page,
  type Permission,
  type RoleRecord,
  type Scope,
  TenantConflict,
  TenantNotFound,
  type TenantOperations,
  TenantRuleError,
  type UserQuery,
  type UserRecord,
} from './tenant-operations.ts';

const toApiRecord = (api: Api): ApiRecord => ({
  name: api.name,
  identifier: api.identifier,
  signingAlg: 'RS256',
  accessTokenLifetime: api.tokenLifetime,
  rbac: api.rbac,
  permissionsInToken: api.permissionsInToken,
  allowOfflineAccess: api.allowOfflineAccess,
  tokenDialect: api.tokenDialect,
  dpop: api.dpop,
  scopes: api.scopes,
});

const strings = (value: unknown): string[] => (Array.isArray(value) ? value.map(String) : []);
const number = (value: unknown, fallback: number): number => (typeof value === 'number' ? value : fallback);

/** The settings an application was stored with: store/tenant-store.ts's clientMetadataFor, read backwards. */
function settingsOf(record: ClientRecord): ApplicationSettings {
  const m = record.metadata;
  const common = { clientId: record.clientId, name: record.name, firstParty: m.first_party !== false };
  if (record.type === 'm2m') {
    return {
      ...common,
      type: 'm2m',
      tokenEndpointAuthMethod:
        m.token_endpoint_auth_method === 'client_secret_basic' ? 'client_secret_basic' : 'client_secret_post',
    };
  }
  const refreshToken = strings(m.grant_types).includes('refresh_token')
    ? {
        rotation: m.refresh_token_rotation !== false,
        reuseIntervalSeconds: number(m.refresh_token_reuse_interval, 0),
        absoluteLifetime: number(m.refresh_token_absolute_lifetime, 2592000),
        idleLifetime: number(m.refresh_token_idle_lifetime, 1296000),
      }
    : undefined;
  const urls = {
    callbackUrls: strings(m.redirect_uris),
    logoutUrls: strings(m.post_logout_redirect_uris),
    ...(refreshToken ? { refreshToken } : {}),
  };
  if (record.type === 'spa') return { ...common, type: 'spa', ...urls, webOrigins: strings(m.web_origins) };
  return {
    ...common,
    type: 'regular_web',
    ...urls,
    tokenEndpointAuthMethod:
      m.token_endpoint_auth_method === 'client_secret_post' ? 'client_secret_post' : 'client_secret_basic',
  };
}

const toUserRecord = (u: UserRecord): UserRecord => ({
  id: u.id,
  email: u.email,
  name: u.name,
  blocked: u.blocked,
  createdAt: u.createdAt,
  updatedAt: u.updatedAt,
});

export class SqliteTenantOperations implements TenantOperations {
  readonly #store: TenantStore;
  readonly #hash: (password: string) => Promise<string>;

  /** `hash` makes password hashes (the server's password threads). */
  constructor(store: TenantStore, hash: (password: string) => Promise<string>) {
    this.#store = store;
    this.#hash = hash;
  }

  /** Runs a change; the store's own refusals are the tenant's rules. */
  #change<T>(fn: () => T): Promise<T> {
    try {
      return Promise.resolve(fn());
    } catch (err) {
      if (err instanceof TenantStoreError) return Promise.reject(new TenantRuleError(err.message));
      return Promise.reject(err);
    }
  }

  async listApis(): Promise<ApiRecord[]> {
    return this.#store.listApis().map(toApiRecord);
  }

  async getApi(identifier: string): Promise<ApiRecord | undefined> {
    const api = this.#store.getApi(identifier);
    return api && toApiRecord(api);
  }

  createApi(api: ApiDefinition): Promise<void> {
    if (this.#store.getApi(api.identifier))
      return Promise.reject(new TenantConflict(`an API with identifier ${api.identifier} already exists`));
    return this.#change(() => this.#store.transaction(() => this.#store.createApi(api)));
  }

  updateApi(identifier: string, settings: ApiSettings, scopes?: Scope[]): Promise<void> {
    return this.#change(() =>
      this.#store.transaction(() => {
        this.#store.updateApi({
          identifier,
          name: settings.name,
          signingAlg: settings.signingAlg,
          tokenLifetime: settings.accessTokenLifetime,
          rbac: settings.rbac,
          permissionsInToken: settings.permissionsInToken,
          allowOfflineAccess: settings.allowOfflineAccess,
          tokenDialect: settings.tokenDialect,
          dpop: settings.dpop,
        });
        if (scopes) this.#store.replaceScopes(identifier, scopes);
      }),
    );
  }

  async deleteApi(identifier: string): Promise<void> {
    this.#store.deleteApi(identifier);
  }

  async listApplications(): Promise<ApplicationRecord[]> {
    return this.#store.listClients().map((c) => this.#application(c));
  }

  async getApplication(clientId: string): Promise<ApplicationRecord | undefined> {
    const record = this.#store.getClient(clientId);
    return record && this.#application(record);
  }

  #application(record: ClientRecord): ApplicationRecord {
    const secret = record.secretEnv ? 'environment' : record.secret ? 'stored' : null;
    return { settings: settingsOf(record), secret };
  }

  createApplication(settings: ApplicationSettings, secret: string | null): Promise<void> {
    if (this.#store.getClient(settings.clientId))
      return Promise.reject(new TenantConflict(`an application with client id ${settings.clientId} exists`));
    // The store's createApplication takes the tenant file's shape; a stored secret needs no variable name.
    const definition =
      settings.type === 'spa' ? settings : { ...settings, clientSecret: { env: 'UNUSED_CLIENT_SECRET' } };
    return this.#change(() => this.#store.createApplication(definition, secret));
  }

  updateApplication(settings: ApplicationSettings, secret?: string | null): Promise<void> {
    return this.#change(() =>
      this.#store.transaction(() => {
        this.#store.updateApplication(settings);
        if (secret !== undefined) this.#store.setClientSecret(settings.clientId, secret);
      }),
    );
  }

  async deleteApplication(clientId: string): Promise<void> {
    this.#store.deleteApplication(clientId);
  }

  async listClientGrants(): Promise<ClientGrantRecord[]> {
    return this.#store.listClientGrants();
  }

  createClientGrant(grant: ClientGrantRecord): Promise<void> {
    if (this.#store.clientGrantScopes(grant.clientId, grant.api))
      return Promise.reject(new TenantConflict(`${grant.clientId} already has a grant for ${grant.api}`));
    return this.updateClientGrant(grant);
  }

  updateClientGrant(grant: ClientGrantRecord): Promise<void> {
    return this.#change(() => this.#store.setClientGrantScopes(grant.clientId, grant.api, grant.scopes));
  }

  async deleteClientGrant(clientId: string, api: string): Promise<void> {
    this.#store.deleteClientGrant(clientId, api);
  }

  async findUsers(query: UserQuery): Promise<{ users: UserRecord[]; total: number }> {
    const { users, total } = this.#store.findUsers(query);
    return { users: users.map(toUserRecord), total };
  }

  async getUser(id: string): Promise<UserRecord | undefined> {
    const user = this.#store.findUserById(id);
    return user && toUserRecord(user);
  }

  async findUserByEmail(email: string): Promise<UserRecord | undefined> {
    const user = this.#store.findUserByEmail(email);
    return user && toUserRecord(user);
  }

  async createUser(input: { email: string; name: string; password: string; blocked: boolean }) {
    try {
      const user = await this.#store.createUser(input.email, input.name, input.password, this.#hash);
      if (input.blocked) this.#store.updateUser(user.id, { blocked: true });
      return { ...toUserRecord(user), blocked: input.blocked };
    } catch (err) {
      if (err instanceof TenantStoreError) throw new TenantConflict(err.message);
      throw err;
    }
  }

  async updateUser(
    id: string,
    changes: { email?: string; name?: string; password?: string; blocked?: boolean },
  ): Promise<void> {
    const { password, ...rest } = changes;
    const passwordHash = password === undefined ? undefined : await this.#hash(password);
    if (rest.email !== undefined) {
      const owner = this.#store.findUserByEmail(rest.email);
      if (owner && owner.id !== id)
        throw new TenantConflict(`a user with email ${rest.email} already exists`);
    }
    this.#store.updateUser(id, { ...rest, ...(passwordHash ? { passwordHash } : {}) });
  }

  async deleteUser(id: string): Promise<void> {
    this.#store.deleteUser(id);
  }

  async userRoles(id: string): Promise<string[]> {
    return this.#store.userRoles(id);
  }

  async assignRoles(userId: string, roles: string[]): Promise<void> {
    const known = new Set(this.#store.listRoles().map((r) => r.name));
    const missing = roles.find((r) => !known.has(r));
    if (missing !== undefined) throw new TenantNotFound('role', missing);
    this.#store.transaction(() => {
      for (const role of roles) this.#store.assignRoleToUser(userId, role);
    });
  }

  async removeRoles(userId: string, roles: string[]): Promise<void> {
    this.#store.transaction(() => {
      for (const role of roles) this.#store.removeRoleFromUser(userId, role);
    });
  }

  async userPermissions(id: string): Promise<(Permission & { roles: string[] })[]> {
    const merged = new Map<string, Permission & { roles: string[] }>();
    for (const { api, scope, role } of this.#store.userPermissionSources(id)) {
      const key = `${api} ${scope}`;
      const entry = merged.get(key) ?? { api, scope, roles: [] };
      entry.roles.push(role);
      merged.set(key, entry);
    }
    return [...merged.values()];
  }

  async listRoles(): Promise<RoleRecord[]> {
    return this.#store.listRoles().map(({ name, description }) => ({ name, description }));
  }

  async getRole(name: string): Promise<RoleRecord | undefined> {
    return (await this.listRoles()).find((r) => r.name === name);
  }

  createRole(role: RoleRecord): Promise<void> {
    return this.#change(() => this.#store.createRole(role.name, role.description)).catch((err: unknown) => {
      throw err instanceof TenantRuleError ? new TenantConflict(err.message) : err;
    });
  }

  async updateRole(role: RoleRecord): Promise<void> {
    this.#store.updateRoleDescription(role.name, role.description);
  }

  async deleteRole(name: string): Promise<void> {
    this.#store.deleteRole(name);
  }

  async rolePermissions(name: string): Promise<Permission[]> {
    return this.#store.listRoles().find((r) => r.name === name)?.permissions ?? [];
  }

  addRolePermissions(name: string, permissions: Permission[]): Promise<void> {
    return this.#change(() =>
      this.#store.transaction(() => {
        for (const p of permissions) this.#store.addRolePermission(name, p.api, p.scope);
      }),
    );
  }

  async removeRolePermissions(name: string, permissions: Permission[]): Promise<void> {
    this.#store.transaction(() => {
      for (const p of permissions) this.#store.removeRolePermission(name, p.api, p.scope);
    });
  }

  async roleMembers(name: string, page: Page): Promise<{ users: UserRecord[]; total: number }> {
    const { users, total } = this.#store.roleMembers(name, page);
    return { users: users.map(toUserRecord), total };
  }
}
