// /api/v2/resource-servers: the tenant's APIs, in Auth0's shape. RBAC is `enforce_policies`; "Add
// Permissions in the Access Token" is the `_authz` half of `token_dialect`, whose other half is the shape.
import { requiredScopes } from '@calling-api/jwt-bearer/express';
import type { Request, Router } from 'express';
import { z } from 'zod';
import { apiSchema } from '../../tenant/tenant-schema.ts';
import { type ManagementContext, param, resourceServerId } from '../context.ts';
import { invalidBody, notFound, unsupported } from '../errors.ts';
import type { ApiRecord, ApiSettings } from '../tenant-operations.ts';
import { fieldsQuery, listQuery, page, parseBody, parseQuery, selectFields } from '../validation.ts';

const DIALECTS = ['access_token', 'access_token_authz', 'rfc9068_profile', 'rfc9068_profile_authz'] as const;
type Dialect = (typeof DIALECTS)[number];

const dialectOf = (api: ApiRecord): Dialect =>
  `${api.tokenDialect === 'auth0' ? 'access_token' : 'rfc9068_profile'}${api.permissionsInToken ? '_authz' : ''}` as Dialect;

export function resourceServerShape(api: ApiRecord, ctx: ManagementContext) {
  return {
    id: resourceServerId(api.identifier),
    name: api.name,
    identifier: api.identifier,
    is_system: api.identifier === ctx.audience,
    scopes: api.scopes.map((s) => ({ value: s.value, description: s.description })),
    signing_alg: api.signingAlg,
    token_lifetime: api.accessTokenLifetime,
    allow_offline_access: api.allowOfflineAccess,
    // First-party applications never see a consent page here; third-party ones always do.
    skip_consent_for_verifiable_first_party_clients: true,
    enforce_policies: api.rbac,
    token_dialect: dialectOf(api),
    proof_of_possession: api.dpop === 'off' ? null : { mechanism: 'dpop', required: api.dpop === 'required' },
  };
}

const scope = apiSchema.shape.scopes
  .unwrap()
  .element.extend({ description: z.string().max(500).default('') });
const settings = {
  name: z
    .string()
    .trim()
    .min(1)
    .max(200)
    .regex(/^[^<>]*$/, 'cannot contain < or >'),
  scopes: z
    .array(scope)
    .max(500)
    .refine((list) => new Set(list.map((s) => s.value)).size === list.length, 'scope values must be unique'),
  signing_alg: z.literal('RS256', 'only RS256 is supported'),
  token_lifetime: apiSchema.shape.accessTokenLifetime.unwrap(),
  allow_offline_access: z.boolean(),
  skip_consent_for_verifiable_first_party_clients: z.literal(
    true,
    'first-party applications always skip consent here',
  ),
  enforce_policies: z.boolean(),
  token_dialect: z.enum(DIALECTS),
  proof_of_possession: z
    .strictObject({ mechanism: z.literal('dpop', 'only dpop is supported'), required: z.boolean() })
    .nullable(),
};

const createBody = z.strictObject({
  ...settings,
  identifier: z.string().trim().min(1).max(600),
  // Auth0's defaults for a new API.
  token_lifetime: settings.token_lifetime.default(86400),
  allow_offline_access: settings.allow_offline_access.default(false),
  enforce_policies: settings.enforce_policies.default(false),
  token_dialect: settings.token_dialect.default('access_token'),
  proof_of_possession: settings.proof_of_possession.default({ mechanism: 'dpop', required: false }),
  scopes: settings.scopes.default([]),
  signing_alg: settings.signing_alg.default('RS256'),
  name: settings.name.optional(),
  skip_consent_for_verifiable_first_party_clients:
    settings.skip_consent_for_verifiable_first_party_clients.optional(),
});
const updateBody = z.strictObject(settings).partial();
const listParams = z.strictObject({
  ...listQuery,
  identifiers: z.union([z.string(), z.array(z.string())]).optional(),
});

type Changes = z.infer<typeof updateBody>;

/** An API's settings after the changes; `identifier` and scopes are not settings. */
function applyChanges(api: ApiRecord, changes: Changes): ApiSettings {
  const dialect = changes.token_dialect ?? dialectOf(api);
  const pop = changes.proof_of_possession;
  return {
    name: changes.name ?? api.name,
    signingAlg: 'RS256',
    accessTokenLifetime: changes.token_lifetime ?? api.accessTokenLifetime,
    rbac: changes.enforce_policies ?? api.rbac,
    permissionsInToken: dialect.endsWith('_authz'),
    allowOfflineAccess: changes.allow_offline_access ?? api.allowOfflineAccess,
    tokenDialect: dialect.startsWith('rfc9068') ? 'rfc9068' : 'auth0',
    dpop: pop === undefined ? api.dpop : pop === null ? 'off' : pop.required ? 'required' : 'allowed',
  };
}

export function resourceServerRoutes(router: Router, ctx: ManagementContext): void {
  const { ops } = ctx;

  /** The API named by `:id`, Auth0's id or the identifier itself (as Auth0 accepts). */
  async function find(req: Request): Promise<ApiRecord> {
    const id = param(req);
    const api = (await ops.listApis()).find(
      (a) => a.identifier === id || resourceServerId(a.identifier) === id,
    );
    if (!api) throw notFound('api');
    return api;
  }
  const notTheSystemApi = (api: ApiRecord) => {
    if (api.identifier === ctx.audience)
      throw unsupported('The Management API is built in: it cannot be changed or deleted.');
  };

  router.get('/resource-servers', requiredScopes('read:resource_servers'), async (req, res) => {
    const query = parseQuery(listParams, req);
    const wanted = query.identifiers === undefined ? undefined : new Set([query.identifiers].flat());
    const apis = (await ops.listApis()).filter((a) => !wanted || wanted.has(a.identifier));
    res.json(
      page(
        'resource_servers',
        apis.map((a) => resourceServerShape(a, ctx)),
        query,
      ),
    );
  });

  router.post('/resource-servers', requiredScopes('create:resource_servers'), async (req, res) => {
    const body = parseBody(createBody, req);
    if (body.identifier === ctx.audience) throw invalidBody("This identifier is the Management API's.");
    const name = body.name ?? body.identifier;
    const defaults = apiSchema.parse({ name, identifier: body.identifier });
    const api: ApiRecord = { ...defaults, ...applyChanges(defaults, body), scopes: body.scopes };
    await ops.createApi(api);
    res.status(201).json(resourceServerShape((await ops.getApi(api.identifier))!, ctx));
  });

  router.get('/resource-servers/:id', requiredScopes('read:resource_servers'), async (req, res) => {
    const query = parseQuery(fieldsQuery, req);
    res.json(selectFields(resourceServerShape(await find(req), ctx), query));
  });

  router.patch('/resource-servers/:id', requiredScopes('update:resource_servers'), async (req, res) => {
    const changes = parseBody(updateBody, req);
    const api = await find(req);
    notTheSystemApi(api);
    await ops.updateApi(api.identifier, applyChanges(api, changes), changes.scopes);
    res.json(resourceServerShape((await ops.getApi(api.identifier))!, ctx));
  });

  router.delete('/resource-servers/:id', requiredScopes('delete:resource_servers'), async (req, res) => {
    const api = await find(req);
    notTheSystemApi(api);
    await ops.deleteApi(api.identifier);
    res.status(204).end();
  });
}
