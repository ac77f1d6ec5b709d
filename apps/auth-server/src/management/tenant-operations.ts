// What the Management API does to the tenant, as one small asynchronous interface. The HTTP handlers know
// only this; storage-tenant-operations.ts implements it over the server's storage.
import type { Page, UserRecord as StoredUser, UserQuery } from '../store/storage.ts';
import type { ApiDefinition, ApplicationSettings } from '../tenant/tenant-schema.ts';

export type Scope = { value: string; description: string };
/** An API (resource server) with its settings and scopes: the tenant file's shape. */
export type ApiRecord = ApiDefinition;
/** The settings of an API that can change (not its identifier, not its scopes). */
export type ApiSettings = Omit<ApiDefinition, 'identifier' | 'scopes'>;

export type { ApplicationSettings };
/**
 * Where a confidential application's secret is: `environment` (named by the tenant file, never shown or
 * rotated here), `stored` (made by the Management API or the CLI), or none (a SPA).
 */
export type SecretSource = 'environment' | 'stored' | null;
export type ApplicationRecord = { settings: ApplicationSettings; secret: SecretSource };

export type ClientGrantRecord = { clientId: string; api: string; scopes: string[] };

/** A user as the Management API shows them: never the password hash. */
export type UserRecord = Omit<StoredUser, 'passwordHash'>;
export type { Page, UserQuery };

export type RoleRecord = { name: string; description: string };
export type Permission = { api: string; scope: string };

/** A thing named in the request does not exist: 404 when it is the one in the URL, 400 when it is referenced. */
export class TenantNotFound extends Error {
  override name = 'TenantNotFound';
  readonly kind: 'api' | 'application' | 'client grant' | 'user' | 'role';
  constructor(kind: TenantNotFound['kind'], id: string) {
    super(`no ${kind} ${id}`);
    this.kind = kind;
  }
}

/** Another thing already has this identifier, client id, email or name: 409. */
export class TenantConflict extends Error {
  override name = 'TenantConflict';
}

/** A change the tenant's rules refuse (a scope the API lacks, a secret the environment holds): 400. */
export class TenantRuleError extends Error {
  override name = 'TenantRuleError';
}

export interface TenantOperations {
  listApis(): Promise<ApiRecord[]>;
  getApi(identifier: string): Promise<ApiRecord | undefined>;
  /** TenantConflict when the identifier is taken. */
  createApi(api: ApiRecord): Promise<void>;
  /** `scopes`, when given, replaces the list; a scope removed leaves every role and client grant. */
  updateApi(identifier: string, settings: ApiSettings, scopes?: Scope[]): Promise<void>;
  deleteApi(identifier: string): Promise<void>;

  listApplications(): Promise<ApplicationRecord[]>;
  getApplication(clientId: string): Promise<ApplicationRecord | undefined>;
  /** A confidential application gets `secret`, stored; TenantConflict when the client id is taken. */
  createApplication(settings: ApplicationSettings, secret: string | null): Promise<void>;
  /** `secret`: a new stored secret, null to drop it (a confidential app made a SPA), undefined to keep it. */
  updateApplication(settings: ApplicationSettings, secret?: string | null): Promise<void>;
  deleteApplication(clientId: string): Promise<void>;

  listClientGrants(): Promise<ClientGrantRecord[]>;
  /** TenantConflict when the application already has a grant for the API. */
  createClientGrant(grant: ClientGrantRecord): Promise<void>;
  updateClientGrant(grant: ClientGrantRecord): Promise<void>;
  deleteClientGrant(clientId: string, api: string): Promise<void>;

  findUsers(query: UserQuery): Promise<{ users: UserRecord[]; total: number }>;
  getUser(id: string): Promise<UserRecord | undefined>;
  findUserByEmail(email: string): Promise<UserRecord | undefined>;
  /** The password is hashed here; TenantConflict when the email is taken. */
  createUser(user: { email: string; name: string; password: string; blocked: boolean }): Promise<UserRecord>;
  updateUser(
    id: string,
    changes: { email?: string; name?: string; password?: string; blocked?: boolean },
  ): Promise<void>;
  deleteUser(id: string): Promise<void>;
  userRoles(id: string): Promise<string[]>;
  /** TenantNotFound('role') when one of the roles does not exist; nothing is assigned then. */
  assignRoles(userId: string, roles: string[]): Promise<void>;
  removeRoles(userId: string, roles: string[]): Promise<void>;
  /** Every permission through the user's roles, with the roles it comes from. */
  userPermissions(id: string): Promise<(Permission & { roles: string[] })[]>;

  listRoles(): Promise<RoleRecord[]>;
  getRole(name: string): Promise<RoleRecord | undefined>;
  /** TenantConflict when the name is taken. */
  createRole(role: RoleRecord): Promise<void>;
  updateRole(role: RoleRecord): Promise<void>;
  deleteRole(name: string): Promise<void>;
  rolePermissions(name: string): Promise<Permission[]>;
  /** TenantRuleError when an API lacks one of the scopes; nothing is added then. */
  addRolePermissions(name: string, permissions: Permission[]): Promise<void>;
  removeRolePermissions(name: string, permissions: Permission[]): Promise<void>;
  roleMembers(name: string, page: Page): Promise<{ users: UserRecord[]; total: number }>;
}
