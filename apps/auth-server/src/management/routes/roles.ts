// /api/v2/roles: roles, the permissions (API scopes) they give, and the users who have them (Auth0's RBAC).
import { requiredScopes, scopeIncludesAny } from '@calling-api/jwt-bearer/express';
import type { Request, Router } from 'express';
import { z } from 'zod';
import { type ManagementContext, param, roleId } from '../context.ts';
import { invalidBody, notFound, unsupported } from '../errors.ts';
import type {
  ApiRecord,
  Permission,
  RoleRecord,
  TenantOperations,
  UserRecord,
} from '../tenant-operations.ts';
import {
  checkpointQuery,
  fieldsQuery,
  listQuery,
  offsetLimit,
  page,
  parseBody,
  parseQuery,
  selectFields,
} from '../validation.ts';

export const roleShape = (r: RoleRecord) => ({
  id: roleId(r.name),
  name: r.name,
  description: r.description,
});

/** A permission as Auth0 lists it, with its API's name and the scope's description. */
export function permissionShape(p: Permission, apis: ReadonlyMap<string, ApiRecord>) {
  const api = apis.get(p.api);
  return {
    permission_name: p.scope,
    description: api?.scopes.find((s) => s.value === p.scope)?.description ?? '',
    resource_server_name: api?.name ?? p.api,
    resource_server_identifier: p.api,
  };
}

export const apisByIdentifier = async (ops: TenantOperations) =>
  new Map((await ops.listApis()).map((a) => [a.identifier, a]));

/** The roles named by Auth0 role ids; `notFound('role')` when one is not a role. */
export async function rolesByIds(ops: TenantOperations, ids: readonly string[]): Promise<string[]> {
  const byId = new Map((await ops.listRoles()).map((r) => [roleId(r.name), r.name]));
  return ids.map((id) => {
    const name = byId.get(id);
    if (name === undefined) throw notFound('role');
    return name;
  });
}

const memberShape = (u: UserRecord) => ({ user_id: u.id, email: u.email, name: u.name });

const roleName = z.string().regex(/^[A-Za-z0-9:._-]{1,64}$/, '1-64 characters among A-Z a-z 0-9 : . _ -');
const description = z.string().max(140);
const createBody = z.strictObject({ name: roleName, description: description.default('') });
const updateBody = z.strictObject({ name: roleName, description }).partial();
const permissionsBody = z.strictObject({
  permissions: z
    .array(
      z.strictObject({
        resource_server_identifier: z.string().min(1).max(600),
        permission_name: z.string().min(1).max(280),
      }),
    )
    .min(1)
    .max(100),
});
const usersBody = z.strictObject({ users: z.array(z.string().min(1).max(200)).min(1).max(100) });
const listParams = z.strictObject({ ...listQuery, name_filter: z.string().max(200).optional() });

export function roleRoutes(router: Router, ctx: ManagementContext): void {
  const { ops } = ctx;

  async function find(req: Request): Promise<RoleRecord> {
    const id = param(req);
    const role = (await ops.listRoles()).find((r) => roleId(r.name) === id);
    if (!role) throw notFound('role');
    return role;
  }

  router.get('/roles', requiredScopes('read:roles'), async (req, res) => {
    const query = parseQuery(listParams, req);
    const filter = query.name_filter?.toLowerCase();
    const roles = (await ops.listRoles()).filter((r) => !filter || r.name.toLowerCase().includes(filter));
    res.json(page('roles', roles.map(roleShape), query));
  });

  router.post('/roles', requiredScopes('create:roles'), async (req, res) => {
    const body = parseBody(createBody, req);
    await ops.createRole(body);
    res.status(200).json(roleShape(body));
  });

  router.get('/roles/:id', requiredScopes('read:roles'), async (req, res) => {
    res.json(selectFields(roleShape(await find(req)), parseQuery(fieldsQuery, req)));
  });

  router.patch('/roles/:id', requiredScopes('update:roles'), async (req, res) => {
    const body = parseBody(updateBody, req);
    const role = await find(req);
    if (body.name !== undefined && body.name !== role.name)
      throw unsupported("A role's name is its identity here and cannot change: create a new role instead.");
    const updated = { name: role.name, description: body.description ?? role.description };
    await ops.updateRole(updated);
    res.json(roleShape(updated));
  });

  router.delete('/roles/:id', requiredScopes('delete:roles'), async (req, res) => {
    await ops.deleteRole((await find(req)).name);
    res.status(204).end();
  });

  router.get('/roles/:id/permissions', requiredScopes('read:roles'), async (req, res) => {
    const query = parseQuery(z.strictObject(listQuery), req);
    const role = await find(req);
    const apis = await apisByIdentifier(ops);
    const permissions = (await ops.rolePermissions(role.name)).map((p) => permissionShape(p, apis));
    res.json(page('permissions', permissions, query));
  });

  router.post('/roles/:id/permissions', requiredScopes('update:roles'), async (req, res) => {
    const body = parseBody(permissionsBody, req);
    const role = await find(req);
    const apis = await apisByIdentifier(ops);
    const wanted = body.permissions.map((p) => ({
      api: p.resource_server_identifier,
      scope: p.permission_name,
    }));
    for (const p of wanted) {
      const api = apis.get(p.api);
      if (!api) throw invalidBody(`There is no API with identifier ${p.api}.`);
      if (!api.scopes.some((s) => s.value === p.scope))
        throw invalidBody(`The API ${p.api} has no permission ${p.scope}.`);
    }
    await ops.addRolePermissions(role.name, wanted);
    res.status(201).end();
  });

  router.delete('/roles/:id/permissions', requiredScopes('update:roles'), async (req, res) => {
    const body = parseBody(permissionsBody, req);
    const role = await find(req);
    await ops.removeRolePermissions(
      role.name,
      body.permissions.map((p) => ({ api: p.resource_server_identifier, scope: p.permission_name })),
    );
    res.status(204).end();
  });

  router.get(
    '/roles/:id/users',
    scopeIncludesAny('read:users', 'read:roles', 'read:role_members'),
    async (req, res) => {
      const query = parseQuery(z.strictObject({ ...listQuery, ...checkpointQuery }), req);
      const role = await find(req);
      const { users, total } = await ops.roleMembers(role.name, offsetLimit(query));
      res.json(page('users', users.map(memberShape), query, total, true));
    },
  );

  router.post(
    '/roles/:id/users',
    scopeIncludesAny('update:roles', 'create:role_members'),
    async (req, res) => {
      const body = parseBody(usersBody, req);
      const role = await find(req);
      for (const id of body.users) if (!(await ops.getUser(id))) throw notFound('user');
      for (const id of body.users) await ops.assignRoles(id, [role.name]);
      res.status(200).end();
    },
  );
}
