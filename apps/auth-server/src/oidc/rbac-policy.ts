// Which API scopes a token may carry. Our own code because Auth0's RBAC and client grants are tenant policy,
// which oidc-provider leaves to getResourceServerInfo.

import type { ApiDefinition } from '../tenant/tenant-schema.ts';
import type { TenantView } from '../tenant/tenant-snapshot.ts';

export type Subject =
  | { kind: 'user'; permissions: string[] }
  | { kind: 'client'; clientGrant: string[] | undefined }
  | { kind: 'unknown' };

/** The API scopes this subject may receive; undefined = the client has no grant for this API at all. */
export function allowedScopes(api: ApiDefinition, subject: Subject): string[] | undefined {
  const defined = api.scopes.map((s) => s.value);
  switch (subject.kind) {
    case 'user':
      return api.rbac ? defined.filter((s) => subject.permissions.includes(s)) : defined;
    case 'client':
      return subject.clientGrant && defined.filter((s) => subject.clientGrant!.includes(s));
    case 'unknown':
      // Before the user is known (at /authorize) the whole API scope may be asked for; /token narrows it.
      return defined;
  }
}

/** A user's permissions on one API: the union of their roles' permissions (Auth0's RBAC), sorted. */
export function permissionsOf(view: TenantView, roles: readonly string[], api: string): string[] {
  const scopes = new Set<string>();
  for (const name of roles)
    for (const p of view.role(name)?.permissions ?? []) if (p.api === api) scopes.add(p.scope);
  return [...scopes].sort();
}
