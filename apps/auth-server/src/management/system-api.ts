// The Management API as a resource server of the tenant: built in, like Auth0's system API. Its identifier
// follows the issuer, so it is defined here from the configuration rather than in the tenant file, which
// names it by the alias MANAGEMENT_AUDIENCE_ALIAS in client grants and role permissions.
import type { ApiDefinition, Tenant } from '../tenant/tenant-schema.ts';

/** What a tenant file writes for the Management API's identifier (the Deploy CLI's keyword style). */
export const MANAGEMENT_AUDIENCE_ALIAS = '##ISSUER##api/v2/';

export const MANAGEMENT_API_NAME = 'Auth0 Management API';

/** Auth0's scope names for the part of the Management API served here. */
export const MANAGEMENT_SCOPES: readonly { value: string; description: string }[] = [
  ...['users', 'roles', 'resource_servers', 'clients', 'client_grants'].flatMap((thing) =>
    (['read', 'create', 'update', 'delete'] as const).map((verb) => ({
      value: `${verb}:${thing}`,
      description: `${verb[0]!.toUpperCase()}${verb.slice(1)} ${thing.replace('_', ' ')}`,
    })),
  ),
  { value: 'read:role_members', description: 'Read the users of roles' },
  { value: 'create:role_members', description: 'Assign roles to users' },
  { value: 'delete:role_members', description: 'Remove roles from users' },
  { value: 'read:client_keys', description: 'Read clients with their key settings' },
  { value: 'update:client_keys', description: 'Rotate client secrets' },
];

/** `<issuer>api/v2/`, Auth0's form whether or not the issuer ends with a slash. */
export const managementAudience = (issuer: string): string =>
  `${issuer.endsWith('/') ? issuer : `${issuer}/`}api/v2/`;

export function managementApi(issuer: string): ApiDefinition {
  return {
    name: MANAGEMENT_API_NAME,
    identifier: managementAudience(issuer),
    signingAlg: 'RS256',
    accessTokenLifetime: 3600,
    // Users get the scopes their roles give; machine clients those of their client grants.
    rbac: true,
    permissionsInToken: true,
    allowOfflineAccess: true,
    tokenDialect: 'rfc9068',
    dpop: 'allowed',
    scopes: [...MANAGEMENT_SCOPES],
  };
}

/** The tenant with the Management API among its APIs and the alias replaced by its identifier. */
export function withManagementApi(tenant: Tenant, issuer: string): Tenant {
  const audience = managementAudience(issuer);
  const resolve = (aud: string) => (aud === MANAGEMENT_AUDIENCE_ALIAS ? audience : aud);
  return {
    ...tenant,
    apis: [managementApi(issuer), ...tenant.apis.filter((a) => a.identifier !== audience)],
    clientGrants: tenant.clientGrants.map((g) => ({ ...g, audience: resolve(g.audience) })),
    roles: tenant.roles.map((r) => ({
      ...r,
      permissions: r.permissions.map((p) => ({ ...p, audience: resolve(p.audience) })),
    })),
  };
}
