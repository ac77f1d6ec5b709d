// Which API scopes a token may carry. Our own code because Auth0's RBAC and client grants are tenant policy,
// which oidc-provider leaves to its getResourceServerInfo hook.
import type { Api } from '../store/tenant-store.ts';

export type Subject =
  | { kind: 'user'; permissions: string[] }
  | { kind: 'client'; clientGrant: string[] | undefined }
  | { kind: 'unknown' };

/** The API scopes this subject may receive; undefined = the client has no grant for this API at all. */
export function allowedScopes(api: Api, subject: Subject): string[] | undefined {
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
