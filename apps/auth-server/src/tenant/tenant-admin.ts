// Changing the tenant: the rules of Auth0's dashboard (what may reference what, ids, password hashing) over the
// store, used by the tenant file's seeding at start, the CLI and sign-up.
import { randomBytes } from 'node:crypto';
import { hashPassword } from '../security/passwords.ts';
import {
  type ClientSecret,
  StoreConflictError,
  type TenantStore,
  type UserRecord,
} from '../store/storage.ts';
import type { ApiDefinition, ApplicationSettings, Tenant } from './tenant-schema.ts';
import type { TenantSnapshot, TenantView } from './tenant-snapshot.ts';

/** A change refused because of what is (or is not) in the tenant: shown to the admin as is. */
export class TenantAdminError extends Error {
  override name = 'TenantAdminError';
}

/** Auth0's user id format for database-connection users. */
export const newUserId = (): string => `auth0|${randomBytes(12).toString('hex')}`;

/** Applies the tenant file additively: declared entities are created or updated, nothing else is removed. */
export async function seedTenant(store: TenantStore, tenant: Tenant): Promise<void> {
  // Hashing is slow and happens outside the transaction; only users missing now are hashed.
  const hashes = new Map<string, string>();
  for (const u of tenant.users) {
    if (!(await store.findUserByEmail(u.email)))
      hashes.set(u.email, u.passwordHash ?? (await hashPassword(u.password!)));
  }
  await store.transaction(async (tx) => {
    for (const api of tenant.apis) await tx.putApi(api);
    for (const app of tenant.applications) {
      if (app.type === 'spa') {
        await tx.putApplication({ ...app, secret: null });
      } else {
        const { clientSecret, ...settings } = app;
        await tx.putApplication({ ...settings, secret: clientSecret });
      }
    }
    for (const g of tenant.clientGrants)
      for (const scope of g.scopes) await tx.addClientGrant({ clientId: g.clientId, api: g.audience, scope });
    for (const r of tenant.roles) {
      await tx.putRole({ name: r.name, description: r.description });
      for (const p of r.permissions) await tx.addRolePermission(r.name, { api: p.audience, scope: p.scope });
    }
    for (const u of tenant.users) {
      let user = await tx.findUserByEmail(u.email);
      const hash = hashes.get(u.email);
      // Another instance seeding at the same time may have created the user since the check above.
      if (!user && hash) {
        user = newUser(u.email, u.name ?? u.email.split('@')[0]!, hash);
        await tx.insertUser(user);
      }
      if (user) for (const role of u.roles) await tx.assignRole(user.id, role);
    }
  });
}

function newUser(email: string, name: string, passwordHash: string, blocked = false): UserRecord {
  const now = Date.now();
  return {
    id: newUserId(),
    email: email.toLowerCase(),
    name,
    passwordHash,
    blocked,
    createdAt: now,
    updatedAt: now,
  };
}

/** A new user with a password (sign-up, the CLI, the Management API): TenantAdminError when the email is taken. */
export async function registerUser(
  store: TenantStore,
  input: { email: string; name: string; password: string; blocked?: boolean },
  // The server's password threads (security/password-hasher.ts); the CLI hashes on libuv's pool.
  hash: (password: string) => Promise<string> = hashPassword,
): Promise<UserRecord> {
  const taken = () => new TenantAdminError(`a user with email ${input.email} already exists`);
  if (await store.findUserByEmail(input.email)) throw taken();
  const user = newUser(input.email, input.name, await hash(input.password), input.blocked);
  try {
    await store.insertUser(user);
  } catch (err) {
    // Two sign-ups of one email at once: the unique index decides.
    if (err instanceof StoreConflictError) throw taken();
    throw err;
  }
  return user;
}

/** The admin commands: each checks its references against the current tenant, then writes. */
export class TenantAdmin {
  private readonly store: TenantStore;
  private readonly snapshot: TenantSnapshot;

  constructor(store: TenantStore, snapshot: TenantSnapshot) {
    this.store = store;
    this.snapshot = snapshot;
  }

  private requireScope(view: TenantView, api: string, scope: string): void {
    const found = view.api(api);
    if (!found) throw new TenantAdminError(`no API with identifier ${api}`);
    if (!found.scopes.some((s) => s.value === scope))
      throw new TenantAdminError(`API ${api} has no scope ${scope}`);
  }

  async createApi(api: ApiDefinition): Promise<void> {
    const exists = () => new TenantAdminError(`an API with identifier ${api.identifier} already exists`);
    if ((await this.snapshot.fresh()).api(api.identifier)) throw exists();
    await conflictAs(exists, () => this.store.createApi(api));
  }

  async addScope(api: string, value: string, description: string): Promise<void> {
    if (!(await this.snapshot.fresh()).api(api)) throw new TenantAdminError(`no API with identifier ${api}`);
    await this.store.putScope(api, { value, description });
  }

  async createApplication(settings: ApplicationSettings, secret: ClientSecret | null): Promise<void> {
    const exists = () =>
      new TenantAdminError(`an application with client id ${settings.clientId} already exists`);
    if ((await this.snapshot.fresh()).application(settings.clientId)) throw exists();
    await conflictAs(exists, () => this.store.createApplication({ ...settings, secret }));
  }

  async addClientGrant(clientId: string, api: string, scopes: string[]): Promise<void> {
    const view = await this.snapshot.fresh();
    const app = view.application(clientId);
    if (!app) throw new TenantAdminError(`no application with client id ${clientId}`);
    if (app.type === 'spa')
      throw new TenantAdminError(`${clientId} is a SPA; client grants are for confidential applications`);
    for (const scope of scopes) this.requireScope(view, api, scope);
    await this.store.transaction(async (tx) => {
      for (const scope of scopes) await tx.addClientGrant({ clientId, api, scope });
    });
  }

  async createRole(name: string, description: string, api: string | undefined, scopes: string[]) {
    const view = await this.snapshot.fresh();
    const exists = () => new TenantAdminError(`role ${name} already exists`);
    if (view.role(name)) throw exists();
    if (scopes.length > 0 && api === undefined)
      throw new TenantAdminError('permissions need the API they are for');
    for (const scope of scopes) this.requireScope(view, api!, scope);
    await conflictAs(exists, () =>
      this.store.transaction(async (tx) => {
        await tx.createRole({ name, description });
        for (const scope of scopes) await tx.addRolePermission(name, { api: api!, scope });
      }),
    );
  }

  async addPermissions(role: string, api: string, scopes: string[]): Promise<void> {
    const view = await this.snapshot.fresh();
    if (!view.role(role)) throw new TenantAdminError(`no role ${role}`);
    for (const scope of scopes) this.requireScope(view, api, scope);
    await this.store.transaction(async (tx) => {
      for (const scope of scopes) await tx.addRolePermission(role, { api, scope });
    });
  }

  async createUser(input: { email: string; name: string; password: string; roles: string[] }) {
    const view = await this.snapshot.fresh();
    for (const r of input.roles) if (!view.role(r)) throw new TenantAdminError(`no role ${r}`);
    const user = await registerUser(this.store, input);
    for (const r of input.roles) await this.store.assignRole(user.id, r);
    return user;
  }

  async assignRole(email: string, role: string): Promise<void> {
    const user = await this.store.findUserByEmail(email);
    if (!user) throw new TenantAdminError(`no user with email ${email}`);
    if (!(await this.snapshot.fresh()).role(role)) throw new TenantAdminError(`no role ${role}`);
    await this.store.assignRole(user.id, role);
  }
}

async function conflictAs(error: () => Error, write: () => Promise<void>): Promise<void> {
  try {
    await write();
  } catch (err) {
    if (err instanceof StoreConflictError) throw error();
    throw err;
  }
}
