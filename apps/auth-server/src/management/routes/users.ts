// /api/v2/users and /api/v2/users-by-email: the database connection's users, their roles and permissions.
// A blocked user cannot sign in, and their refresh tokens stop working (oidc/provider.ts's findAccount).
import { requiredScopes, scopeIncludesAny } from '@calling-api/jwt-bearer/express';
import type { Request, Router } from 'express';
import { z } from 'zod';
import { type ManagementContext, param, roleId } from '../context.ts';
import { invalidBody, invalidQuery, ManagementError, notFound } from '../errors.ts';
import { TenantConflict, type UserRecord } from '../tenant-operations.ts';
import {
  fieldsQuery,
  listQuery,
  offsetLimit,
  page,
  parseBody,
  parseQuery,
  selectFields,
} from '../validation.ts';
import { apisByIdentifier, permissionShape, roleShape, rolesByIds } from './roles.ts';

export function userShape(u: UserRecord, connection: string) {
  return {
    user_id: u.id,
    email: u.email,
    email_verified: false,
    name: u.name,
    nickname: u.email.split('@')[0],
    identities: [{ connection, provider: 'auth0', user_id: u.id.replace(/^auth0\|/, ''), isSocial: false }],
    blocked: u.blocked,
    created_at: new Date(u.createdAt).toISOString(),
    updated_at: new Date(u.updatedAt).toISOString(),
    app_metadata: {},
    user_metadata: {},
  };
}

/** Auth0's Lucene search, the part this tenant answers: `email:"a@b.c"` (exact) and `email:prefix*`. */
function emailQuery(q: string | undefined): { email?: string; emailPrefix?: string } {
  if (q === undefined || q.trim() === '') return {};
  const exact = /^email:(?:"([^"\\*]+)"|([^\s"\\*]+))$/.exec(q.trim());
  if (exact) return { email: exact[1] ?? exact[2]! };
  const prefix = /^email:"?([^\s"\\*]+)\*"?$/.exec(q.trim());
  if (prefix) return { emailPrefix: prefix[1]! };
  throw invalidQuery(
    `Query validation error: 'only email:"…" and email:prefix* searches are supported' on property q.`,
  );
}

const PASSWORD = z.string().min(12, 'PasswordStrengthError: at least 12 characters').max(1024);
const email = z.email().max(320);
const listParams = z.strictObject({
  ...listQuery,
  q: z.string().max(500).optional(),
  search_engine: z.enum(['v2', 'v3']).optional(),
  connection: z.string().optional(),
});
const rolesBody = z.strictObject({ roles: z.array(z.string().min(1).max(100)).min(1).max(100) });

export function userRoutes(router: Router, ctx: ManagementContext): void {
  const { ops, connection } = ctx;
  const ourConnection = z.literal(connection, `the connection is ${connection}`);
  const createBody = z.strictObject({
    connection: ourConnection,
    email,
    password: PASSWORD,
    name: z.string().trim().min(1).max(200).optional(),
    blocked: z.boolean().default(false),
    email_verified: z.literal(false, 'emails are not verified here').optional(),
  });
  const updateBody = z.strictObject({
    connection: ourConnection.optional(),
    email: email.optional(),
    password: PASSWORD.optional(),
    name: z.string().trim().min(1).max(200).optional(),
    blocked: z.boolean().optional(),
  });
  const shape = (u: UserRecord) => userShape(u, connection);

  async function find(req: Request): Promise<UserRecord> {
    const user = await ops.getUser(param(req));
    if (!user) throw notFound('user');
    return user;
  }
  const userExists = (err: unknown) => {
    if (err instanceof TenantConflict)
      throw new ManagementError(409, 'The user already exists.', 'auth0_idp_error');
    throw err;
  };
  const passwordHasNoEmail = (password: string | undefined, address: string) => {
    if (password?.toLowerCase().includes(address.split('@')[0]!.toLowerCase()))
      throw invalidBody("PasswordStrengthError: the password must not contain the email's name.");
  };

  router.get('/users', requiredScopes('read:users'), async (req, res) => {
    const query = parseQuery(listParams, req);
    if (query.connection !== undefined && query.connection !== connection) {
      res.json(page('users', [], query));
      return;
    }
    const { users, total } = await ops.findUsers({ ...emailQuery(query.q), ...offsetLimit(query) });
    res.json(page('users', users.map(shape), query, total, true));
  });

  router.get('/users-by-email', requiredScopes('read:users'), async (req, res) => {
    const query = parseQuery(fieldsQuery.extend({ email }), req);
    const user = await ops.findUserByEmail(query.email);
    res.json(user ? [selectFields(shape(user), query)] : []);
  });

  router.post('/users', requiredScopes('create:users'), async (req, res) => {
    const body = parseBody(createBody, req);
    passwordHasNoEmail(body.password, body.email);
    const user = await ops
      .createUser({
        email: body.email,
        name: body.name ?? body.email.split('@')[0]!,
        password: body.password,
        blocked: body.blocked,
      })
      .catch(userExists);
    res.status(201).json(shape(user));
  });

  router.get('/users/:id', requiredScopes('read:users'), async (req, res) => {
    res.json(selectFields(shape(await find(req)), parseQuery(fieldsQuery, req)));
  });

  router.patch('/users/:id', requiredScopes('update:users'), async (req, res) => {
    const { connection: _, ...changes } = parseBody(updateBody, req);
    const user = await find(req);
    passwordHasNoEmail(changes.password, changes.email ?? user.email);
    await ops.updateUser(user.id, changes).catch(userExists);
    if (changes.blocked !== undefined && changes.blocked !== user.blocked)
      ctx.logger.info({ userId: user.id, blocked: changes.blocked }, 'user blocked state changed');
    res.json(shape((await ops.getUser(user.id))!));
  });

  router.delete('/users/:id', requiredScopes('delete:users'), async (req, res) => {
    await ops.deleteUser((await find(req)).id);
    res.status(204).end();
  });

  router.get(
    '/users/:id/roles',
    scopeIncludesAny('read:users', 'read:roles', 'read:role_members'),
    async (req, res) => {
      const query = parseQuery(z.strictObject(listQuery), req);
      const user = await find(req);
      const descriptions = new Map((await ops.listRoles()).map((r) => [r.name, r.description]));
      const roles = (await ops.userRoles(user.id)).map((name) =>
        roleShape({ name, description: descriptions.get(name) ?? '' }),
      );
      res.json(page('roles', roles, query));
    },
  );

  router.post(
    '/users/:id/roles',
    scopeIncludesAny('update:users', 'create:role_members'),
    async (req, res) => {
      const body = parseBody(rolesBody, req);
      const user = await find(req);
      await ops.assignRoles(user.id, await rolesByIds(ops, body.roles));
      res.status(204).end();
    },
  );

  router.delete(
    '/users/:id/roles',
    scopeIncludesAny('update:users', 'delete:role_members'),
    async (req, res) => {
      const body = parseBody(rolesBody, req);
      const user = await find(req);
      await ops.removeRoles(user.id, await rolesByIds(ops, body.roles));
      res.status(204).end();
    },
  );

  router.get('/users/:id/permissions', requiredScopes('read:users'), async (req, res) => {
    const query = parseQuery(z.strictObject(listQuery), req);
    const user = await find(req);
    const apis = await apisByIdentifier(ops);
    const permissions = (await ops.userPermissions(user.id)).map((p) => ({
      ...permissionShape(p, apis),
      sources: p.roles.map((name) => ({ source_id: roleId(name), source_name: name, source_type: 'ROLE' })),
    }));
    res.json(page('permissions', permissions, query));
  });
}
