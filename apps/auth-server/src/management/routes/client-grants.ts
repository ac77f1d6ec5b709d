// /api/v2/client-grants: which scopes of an API a machine-to-machine application gets with client_credentials.
import { requiredScopes } from '@calling-api/jwt-bearer/express';
import type { Request, Router } from 'express';
import { z } from 'zod';
import { clientGrantId, type ManagementContext, param } from '../context.ts';
import { invalidBody, ManagementError, notFound } from '../errors.ts';
import type { ClientGrantRecord } from '../tenant-operations.ts';
import { checkpointQuery, listQuery, page, parseBody, parseQuery } from '../validation.ts';

const grantShape = (g: ClientGrantRecord) => ({
  id: clientGrantId(g.clientId, g.api),
  client_id: g.clientId,
  audience: g.api,
  scope: g.scopes,
  subject_type: 'client',
});

const scopes = z
  .array(z.string().min(1).max(280))
  .min(1, 'a client grant needs at least one scope here')
  .max(500);
const createBody = z.strictObject({
  client_id: z.string().min(1).max(128),
  audience: z.string().min(1).max(600),
  scope: scopes,
  subject_type: z.literal('client', 'only client grants for machine-to-machine applications').optional(),
});
const updateBody = z.strictObject({ scope: scopes });
const listParams = z.strictObject({
  ...listQuery,
  ...checkpointQuery,
  audience: z.string().optional(),
  client_id: z.string().optional(),
  subject_type: z.literal('client').optional(),
});

export function clientGrantRoutes(router: Router, ctx: ManagementContext): void {
  const { ops } = ctx;

  async function find(req: Request): Promise<ClientGrantRecord> {
    const id = param(req);
    const grant = (await ops.listClientGrants()).find((g) => clientGrantId(g.clientId, g.api) === id);
    if (!grant) throw notFound('client grant');
    return grant;
  }

  /** The scopes must be the API's; TenantOperations would refuse them too, with a less precise message. */
  async function checkScopes(api: string, wanted: string[]): Promise<void> {
    const defined = new Set((await ops.getApi(api))?.scopes.map((s) => s.value));
    const unknown = wanted.filter((s) => !defined.has(s));
    if (unknown.length > 0) throw invalidBody(`The API ${api} has no scope ${unknown.join(', ')}.`);
  }

  router.get('/client-grants', requiredScopes('read:client_grants'), async (req, res) => {
    const query = parseQuery(listParams, req);
    const grants = (await ops.listClientGrants()).filter(
      (g) =>
        (query.audience === undefined || g.api === query.audience) &&
        (query.client_id === undefined || g.clientId === query.client_id),
    );
    res.json(page('client_grants', grants.map(grantShape), query));
  });

  router.post('/client-grants', requiredScopes('create:client_grants'), async (req, res) => {
    const body = parseBody(createBody, req);
    const app = await ops.getApplication(body.client_id);
    if (!app) throw notFound('application');
    if (!(await ops.getApi(body.audience))) throw notFound('api');
    if (app.settings.type !== 'm2m')
      throw invalidBody('Client grants are for machine-to-machine applications (client_credentials).');
    await checkScopes(body.audience, body.scope);
    const grant = { clientId: body.client_id, api: body.audience, scopes: [...new Set(body.scope)] };
    if ((await ops.listClientGrants()).some((g) => g.clientId === grant.clientId && g.api === grant.api))
      throw new ManagementError(
        409,
        'A client grant for this client and audience already exists.',
        'conflict',
      );
    await ops.createClientGrant(grant);
    res.status(201).json(grantShape(grant));
  });

  router.patch('/client-grants/:id', requiredScopes('update:client_grants'), async (req, res) => {
    const body = parseBody(updateBody, req);
    const grant = await find(req);
    await checkScopes(grant.api, body.scope);
    const updated = { ...grant, scopes: [...new Set(body.scope)] };
    await ops.updateClientGrant(updated);
    res.json(grantShape(updated));
  });

  router.delete('/client-grants/:id', requiredScopes('delete:client_grants'), async (req, res) => {
    const grant = await find(req);
    await ops.deleteClientGrant(grant.clientId, grant.api);
    res.status(204).end();
  });
}
