// The authorization server's storage: one interface, implemented on SQLite (sqlite/) and PostgreSQL (postgres/).
// It stores and finds; what the data means (client metadata, password hashing, user ids, RBAC, key rotation,
// refresh-token reuse) is decided by the code that uses it.
import type { JWK } from 'jose';
import type { AdapterPayload } from 'oidc-provider';
import type { ThrottleStore } from '../security/throttle-store.ts';
import type { ApiDefinition, ApplicationSettings } from '../tenant/tenant-schema.ts';

/** The database cannot be reached right now (down, restarting, pool exhausted): callers answer 503. */
export class StoreUnavailableError extends Error {
  override name = 'StoreUnavailableError';
}

/** A row with the same key already exists (an API identifier, a client id, a role, a user's email). */
export class StoreConflictError extends Error {
  override name = 'StoreConflictError';
}

/** Whether an error, or one of its causes, says the database is unavailable. */
export function isStoreUnavailable(err: unknown): boolean {
  for (let e = err; e instanceof Error; e = e.cause) if (e instanceof StoreUnavailableError) return true;
  return false;
}

/** Where a confidential application's secret is: a variable named by the tenant file, or stored (CLI-made apps). */
export type ClientSecret = { env: string } | { value: string };
export type ApplicationRecord = ApplicationSettings & { secret: ClientSecret | null };
export type RoleRecord = { name: string; description: string; permissions: { api: string; scope: string }[] };
export type ClientGrantRecord = { clientId: string; api: string; scope: string };

/** The tenant's configuration: small, and read whole into memory (tenant/tenant-snapshot.ts). Users are not in it. */
export type TenantConfig = {
  apis: ApiDefinition[];
  applications: ApplicationRecord[];
  clientGrants: ClientGrantRecord[];
  roles: RoleRecord[];
};

export type UserRecord = {
  id: string;
  email: string;
  name: string;
  passwordHash: string;
  /** A blocked user cannot sign in, and their refresh tokens and sessions stop working. */
  blocked: boolean;
  createdAt: number;
  updatedAt: number;
};
export type UserSummary = { id: string; email: string; name: string; roles: string[] };
export type UserChanges = { email?: string; name?: string; passwordHash?: string; blocked?: boolean };
export type Page = { offset: number; limit: number };
/** Users by email: exactly `email`, or starting with `emailPrefix` (both without regard to case), or all. */
export type UserQuery = Page & { email?: string; emailPrefix?: string };

export interface TenantStore {
  loadConfig(): Promise<TenantConfig>;
  /**
   * Runs `fn` in one transaction that no other tenant write (of any instance) interleaves with.
   * `fn` must await only `tx`: on SQLite the one connection is shared with every other request.
   */
  transaction<T>(fn: (tx: TenantStore) => Promise<T>): Promise<T>;

  /** Creates or updates an API's settings and adds its scopes (scopes are never removed). */
  putApi(api: ApiDefinition): Promise<void>;
  /** Like putApi, but StoreConflictError when the identifier exists. */
  createApi(api: ApiDefinition): Promise<void>;
  putScope(api: string, scope: { value: string; description: string }): Promise<void>;
  putApplication(app: ApplicationRecord): Promise<void>;
  /** StoreConflictError when the client id exists. */
  createApplication(app: ApplicationRecord): Promise<void>;
  addClientGrant(grant: ClientGrantRecord): Promise<void>;
  putRole(role: { name: string; description: string }): Promise<void>;
  /** StoreConflictError when the role exists. */
  createRole(role: { name: string; description: string }): Promise<void>;
  addRolePermission(role: string, permission: { api: string; scope: string }): Promise<void>;

  // Removals (the Management API). What references the removed thing goes with it: an API's scopes, client
  // grants and role permissions; an application's client grants; a role's permissions and assignments.
  deleteApi(identifier: string): Promise<void>;
  /** A scope not in `keep` is removed from the API and from every role and client grant. */
  removeScopesExcept(api: string, keep: readonly string[]): Promise<void>;
  deleteApplication(clientId: string): Promise<void>;
  removeClientGrant(clientId: string, api: string): Promise<void>;
  deleteRole(name: string): Promise<void>;
  removeRolePermission(role: string, permission: { api: string; scope: string }): Promise<void>;

  /** Emails are compared without regard to case. */
  findUserByEmail(email: string): Promise<UserRecord | undefined>;
  findUserById(id: string): Promise<UserRecord | undefined>;
  /** StoreConflictError when the email (in any case) or the id exists. */
  insertUser(user: UserRecord): Promise<void>;
  updatePasswordHash(userId: string, passwordHash: string): Promise<void>;
  userRoles(userId: string): Promise<string[]>;
  assignRole(userId: string, role: string): Promise<void>;
  unassignRole(userId: string, role: string): Promise<void>;
  listUsers(): Promise<UserSummary[]>;
  /** A page of users ordered by email, and how many match in all. */
  findUsers(query: UserQuery): Promise<{ users: UserRecord[]; total: number }>;
  /** StoreConflictError when the new email is another user's. */
  updateUser(id: string, changes: UserChanges): Promise<void>;
  /** Their role assignments go with them. */
  deleteUser(id: string): Promise<void>;
  roleMembers(role: string, page: Page): Promise<{ users: UserRecord[]; total: number }>;
}

/** A LIKE pattern for what starts with `prefix`, its wildcards taken literally (backslash escapes them). */
export const likePrefix = (prefix: string): string => `${prefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

/** Indexes of an oidc-provider model row besides its id. */
export type ModelIndex = { grantId?: string; userCode?: string; uid?: string };
export type StoredModel = { payload: AdapterPayload; consumedAt: number | null };

/** oidc-provider's models (sessions, interactions, codes, grants, tokens, replay detection): one table. */
export interface OidcStore {
  /** `expiresAt` in epoch milliseconds, or null for never. */
  upsert(
    model: string,
    id: string,
    payload: AdapterPayload,
    index: ModelIndex,
    expiresAt: number | null,
  ): Promise<void>;
  /** Unexpired rows only. */
  find(model: string, id: string): Promise<StoredModel | undefined>;
  findByUid(model: string, uid: string): Promise<StoredModel | undefined>;
  findByUserCode(model: string, userCode: string): Promise<StoredModel | undefined>;
  /** Marks the row consumed at `at` only if it was not: true when this call consumed it (one winner across instances). */
  consume(model: string, id: string, at: number): Promise<boolean>;
  destroy(model: string, id: string): Promise<void>;
  revokeByGrantId(model: string, grantId: string): Promise<void>;
  /** Inserts the row unless an unexpired one with this id exists: true when this call inserted it. */
  claim(model: string, id: string, payload: AdapterPayload, expiresAt: number): Promise<boolean>;
  deleteExpired(): Promise<number>;
}

/** next: published, not signing yet; current: signs; previous: published until its tokens expire. */
export type KeyState = 'next' | 'current' | 'previous';
export type SigningKey = { jwk: JWK; state: KeyState; createdAt: number; retiredAt?: number };
/** The signing keys, the cookie-signing keys and the CSRF secret: generated once, shared by every instance. */
export type KeySet = { signingKeys: SigningKey[]; cookieKeys: string[]; csrfSecret: string };

export interface KeyStore {
  read(): Promise<KeySet | undefined>;
  /**
   * Read, change and write as one step: concurrent updates (two instances starting, two CLIs) apply in turn.
   * When `fn` returns `current` itself, nothing is written.
   */
  update(fn: (current: KeySet | undefined) => Promise<KeySet>): Promise<KeySet>;
}

export type ChangeTopic = 'tenant' | 'keys';

export interface Storage {
  readonly kind: 'sqlite' | 'postgres';
  readonly tenant: TenantStore;
  readonly oidc: OidcStore;
  readonly keys: KeyStore;
  /** The sign-in, sign-up and /authorize limits' state (security/throttle-store.ts), shared like the rest. */
  readonly throttle: ThrottleStore;
  /**
   * Synchronous and cheap (no round trip): a number that changes whenever `topic` may have been changed, by
   * this process, another instance or the CLI. Throws StoreUnavailableError while changes cannot be followed.
   */
  version(topic: ChangeTopic): number;
  close(): Promise<void>;
}
