// TenantOperations over the server's storage (SQLite or PostgreSQL): the one file that knows both. The tenant's
// configuration is read from the in-memory snapshot (fresh: reloaded when any instance or the CLI changed it);
// users, who are not in it, from the store.
import {
  StoreConflictError,
  type ApplicationRecord as StoredApplication,
  type UserRecord as StoredUser,
  type TenantStore,
} from '../store/storage.ts';
import { registerUser, TenantAdminError } from '../tenant/tenant-admin.ts';
import type { ApplicationSettings } from '../tenant/tenant-schema.ts';
import type { TenantSnapshot, TenantView } from '../tenant/tenant-snapshot.ts';
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

/** A user as the Management API shows them: never the password hash. */
const shown = ({ passwordHash: _, ...user }: StoredUser): UserRecord => user;

function application({ secret, ...settings }: StoredApplication): ApplicationRecord {
  return { settings, secret: secret === null ? null : 'env' in secret ? 'environment' : 'stored' };
}

/** A duplicate key found by the database (two writers at once) as the 409 the check before it would give. */
async function conflictAs<T>(message: string, write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (err) {
    if (err instanceof StoreConflictError) throw new TenantConflict(message);
    throw err;
  }
}

export class StorageTenantOperations implements TenantOperations {
  readonly #store: TenantStore;
  readonly #tenant: TenantSnapshot;
  readonly #hash: (password: string) => Promise<string>;

  /** `hash` makes password hashes (the server's password threads). */
  constructor(store: TenantStore, tenant: TenantSnapshot, hash: (password: string) => Promise<string>) {
    this.#store = store;
    this.#tenant = tenant;
    this.#hash = hash;
  }

  #view(): Promise<TenantView> {
    return this.#tenant.fresh();
  }

  #requireScopes(view: TenantView, permissions: readonly Permission[]): void {
    for (const { api, scope } of permissions) {
      const found = view.api(api);
      if (!found) throw new TenantNotFound('api', api);
      if (!found.scopes.some((s) => s.value === scope))
        throw new TenantRuleError(`the API ${api} has no scope ${scope}`);
    }
  }

  async listApis(): Promise<ApiRecord[]> {
    return (await this.#view()).config.apis;
  }

  async getApi(identifier: string): Promise<ApiRecord | undefined> {
    return (await this.#view()).api(identifier);
  }

  async createApi(api: ApiRecord): Promise<void> {
    const message = `an API with identifier ${api.identifier} already exists`;
    if ((await this.#view()).api(api.identifier)) throw new TenantConflict(message);
    await conflictAs(message, () => this.#store.createApi(api));
  }

  async updateApi(identifier: string, settings: ApiSettings, scopes?: Scope[]): Promise<void> {
    if (!(await this.#view()).api(identifier)) throw new TenantNotFound('api', identifier);
    await this.#store.transaction(async (tx) => {
      await tx.putApi({ ...settings, identifier, scopes: scopes ?? [] });
      if (scopes)
        await tx.removeScopesExcept(
          identifier,
          scopes.map((s) => s.value),
        );
    });
  }

  async deleteApi(identifier: string): Promise<void> {
    await this.#store.deleteApi(identifier);
  }

  async listApplications(): Promise<ApplicationRecord[]> {
    return (await this.#view()).config.applications.map(application);
  }

  async getApplication(clientId: string): Promise<ApplicationRecord | undefined> {
    const app = (await this.#view()).application(clientId);
    return app && application(app);
  }

  async createApplication(settings: ApplicationSettings, secret: string | null): Promise<void> {
    const message = `an application with client id ${settings.clientId} already exists`;
    if ((await this.#view()).application(settings.clientId)) throw new TenantConflict(message);
    await conflictAs(message, () =>
      this.#store.createApplication({ ...settings, secret: secret === null ? null : { value: secret } }),
    );
  }

  async updateApplication(settings: ApplicationSettings, secret?: string | null): Promise<void> {
    const current = (await this.#view()).application(settings.clientId);
    if (!current) throw new TenantNotFound('application', settings.clientId);
    const next = secret === undefined ? current.secret : secret === null ? null : { value: secret };
    await this.#store.putApplication({ ...settings, secret: next });
  }

  async deleteApplication(clientId: string): Promise<void> {
    await this.#store.deleteApplication(clientId);
  }

  async listClientGrants(): Promise<ClientGrantRecord[]> {
    return (await this.#view()).clientGrants();
  }

  async createClientGrant(grant: ClientGrantRecord): Promise<void> {
    if ((await this.#view()).clientGrantScopes(grant.clientId, grant.api))
      throw new TenantConflict(`${grant.clientId} already has a grant for ${grant.api}`);
    await this.updateClientGrant(grant);
  }

  async updateClientGrant(grant: ClientGrantRecord): Promise<void> {
    const view = await this.#view();
    const app = view.application(grant.clientId);
    if (!app) throw new TenantNotFound('application', grant.clientId);
    if (app.type !== 'm2m')
      throw new TenantRuleError(`${grant.clientId} is not a machine-to-machine application`);
    this.#requireScopes(
      view,
      grant.scopes.map((scope) => ({ api: grant.api, scope })),
    );
    await this.#store.transaction(async (tx) => {
      await tx.removeClientGrant(grant.clientId, grant.api);
      for (const scope of grant.scopes)
        await tx.addClientGrant({ clientId: grant.clientId, api: grant.api, scope });
    });
  }

  async deleteClientGrant(clientId: string, api: string): Promise<void> {
    await this.#store.removeClientGrant(clientId, api);
  }

  async findUsers(query: UserQuery): Promise<{ users: UserRecord[]; total: number }> {
    const { users, total } = await this.#store.findUsers(query);
    return { users: users.map(shown), total };
  }

  async getUser(id: string): Promise<UserRecord | undefined> {
    const user = await this.#store.findUserById(id);
    return user && shown(user);
  }

  async findUserByEmail(email: string): Promise<UserRecord | undefined> {
    const user = await this.#store.findUserByEmail(email);
    return user && shown(user);
  }

  async createUser(input: { email: string; name: string; password: string; blocked: boolean }) {
    try {
      return shown(await registerUser(this.#store, input, this.#hash));
    } catch (err) {
      if (err instanceof TenantAdminError) throw new TenantConflict(err.message);
      throw err;
    }
  }

  async updateUser(
    id: string,
    changes: { email?: string; name?: string; password?: string; blocked?: boolean },
  ): Promise<void> {
    const { password, ...rest } = changes;
    const message = `a user with email ${rest.email} already exists`;
    if (rest.email !== undefined) {
      const owner = await this.#store.findUserByEmail(rest.email);
      if (owner && owner.id !== id) throw new TenantConflict(message);
    }
    const passwordHash = password === undefined ? undefined : await this.#hash(password);
    await conflictAs(message, () =>
      this.#store.updateUser(id, { ...rest, ...(passwordHash ? { passwordHash } : {}) }),
    );
  }

  async deleteUser(id: string): Promise<void> {
    await this.#store.deleteUser(id);
  }

  userRoles(id: string): Promise<string[]> {
    return this.#store.userRoles(id);
  }

  async assignRoles(userId: string, roles: string[]): Promise<void> {
    const view = await this.#view();
    const missing = roles.find((r) => !view.role(r));
    if (missing !== undefined) throw new TenantNotFound('role', missing);
    await this.#store.transaction(async (tx) => {
      for (const role of roles) await tx.assignRole(userId, role);
    });
  }

  async removeRoles(userId: string, roles: string[]): Promise<void> {
    await this.#store.transaction(async (tx) => {
      for (const role of roles) await tx.unassignRole(userId, role);
    });
  }

  async userPermissions(id: string): Promise<(Permission & { roles: string[] })[]> {
    const view = await this.#view();
    const merged = new Map<string, Permission & { roles: string[] }>();
    for (const role of await this.#store.userRoles(id)) {
      for (const { api, scope } of view.role(role)?.permissions ?? []) {
        const key = `${api} ${scope}`;
        const entry = merged.get(key) ?? { api, scope, roles: [] };
        entry.roles.push(role);
        merged.set(key, entry);
      }
    }
    return [...merged.values()].sort((a, b) => a.api.localeCompare(b.api) || a.scope.localeCompare(b.scope));
  }

  async listRoles(): Promise<RoleRecord[]> {
    return (await this.#view()).config.roles.map(({ name, description }) => ({ name, description }));
  }

  async getRole(name: string): Promise<RoleRecord | undefined> {
    const role = (await this.#view()).role(name);
    return role && { name: role.name, description: role.description };
  }

  async createRole(role: RoleRecord): Promise<void> {
    const message = `role ${role.name} already exists`;
    if ((await this.#view()).role(role.name)) throw new TenantConflict(message);
    await conflictAs(message, () => this.#store.createRole(role));
  }

  async updateRole(role: RoleRecord): Promise<void> {
    if (!(await this.#view()).role(role.name)) throw new TenantNotFound('role', role.name);
    await this.#store.putRole(role);
  }

  async deleteRole(name: string): Promise<void> {
    await this.#store.deleteRole(name);
  }

  async rolePermissions(name: string): Promise<Permission[]> {
    return (await this.#view()).role(name)?.permissions ?? [];
  }

  async addRolePermissions(name: string, permissions: Permission[]): Promise<void> {
    const view = await this.#view();
    if (!view.role(name)) throw new TenantNotFound('role', name);
    this.#requireScopes(view, permissions);
    await this.#store.transaction(async (tx) => {
      for (const p of permissions) await tx.addRolePermission(name, p);
    });
  }

  async removeRolePermissions(name: string, permissions: Permission[]): Promise<void> {
    await this.#store.transaction(async (tx) => {
      for (const p of permissions) await tx.removeRolePermission(name, p);
    });
  }

  async roleMembers(name: string, page: Page): Promise<{ users: UserRecord[]; total: number }> {
    const { users, total } = await this.#store.roleMembers(name, page);
    return { users: users.map(shown), total };
  }
}
