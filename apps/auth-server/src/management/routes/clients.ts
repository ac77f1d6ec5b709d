// /api/v2/clients: applications in Auth0's shape. A confidential application's secret is answered once,
// when it is made (creation, rotation, or a change of type that needs one), and never by a read.
import { randomBytes } from 'node:crypto';
import { requiredScopes, scopeIncludesAny } from '@calling-api/jwt-bearer/express';
import type { Request, Router } from 'express';
import { z } from 'zod';
import type { RefreshTokenSettings } from '../../tenant/tenant-schema.ts';
import { type ManagementContext, param } from '../context.ts';
import { invalidBody, notFound, unsupported } from '../errors.ts';
import type { ApplicationRecord, ApplicationSettings } from '../tenant-operations.ts';
import { fieldsQuery, listQuery, page, parseBody, parseQuery, selectFields } from '../validation.ts';

type AppType = 'spa' | 'regular_web' | 'non_interactive';
const TYPE_OF: Record<ApplicationSettings['type'], AppType> = {
  spa: 'spa',
  regular_web: 'regular_web',
  m2m: 'non_interactive',
};
const newSecret = () => randomBytes(48).toString('base64url');
/** Auth0's client ids: 32 URL-safe characters. */
const newClientId = () => randomBytes(24).toString('base64url');

const REFRESH_DEFAULTS: RefreshTokenSettings = {
  rotation: true,
  reuseIntervalSeconds: 0,
  absoluteLifetime: 2592000,
  idleLifetime: 1296000,
};

export function clientShape({ settings: app }: ApplicationRecord) {
  const interactive = app.type !== 'm2m';
  const refresh = interactive ? app.refreshToken : undefined;
  return {
    client_id: app.clientId,
    name: app.name,
    app_type: TYPE_OF[app.type],
    is_first_party: app.firstParty,
    oidc_conformant: true,
    callbacks: interactive ? app.callbackUrls : [],
    allowed_logout_urls: interactive ? app.logoutUrls : [],
    web_origins: app.type === 'spa' ? app.webOrigins : [],
    grant_types: interactive
      ? ['authorization_code', ...(refresh ? ['refresh_token'] : [])]
      : ['client_credentials'],
    token_endpoint_auth_method: app.type === 'spa' ? 'none' : app.tokenEndpointAuthMethod,
    jwt_configuration: { alg: 'RS256' },
    refresh_token: {
      rotation_type: (refresh ?? REFRESH_DEFAULTS).rotation ? 'rotating' : 'non-rotating',
      expiration_type: 'expiring',
      leeway: (refresh ?? REFRESH_DEFAULTS).reuseIntervalSeconds,
      token_lifetime: (refresh ?? REFRESH_DEFAULTS).absoluteLifetime,
      idle_token_lifetime: (refresh ?? REFRESH_DEFAULTS).idleLifetime,
      infinite_token_lifetime: false,
      infinite_idle_token_lifetime: false,
    },
  };
}

const url = z
  .string()
  .max(2000)
  .refine((v) => {
    if (!URL.canParse(v)) return false;
    const u = new URL(v);
    return (u.protocol === 'https:' || u.protocol === 'http:') && u.hash === '' && !v.includes('*');
  }, 'must be an absolute http(s) URL without a fragment or wildcard');
const origin = url.refine(
  (v) => new URL(v).origin === v.replace(/\/$/, ''),
  'must be an origin (scheme://host[:port])',
);
const lifetime = z
  .number()
  .int()
  .min(10)
  .max(60 * 60 * 24 * 365);
const settings = {
  name: z
    .string()
    .trim()
    .min(1)
    .max(200)
    .regex(/^[^<>]*$/, 'cannot contain < or >'),
  app_type: z.enum(['spa', 'regular_web', 'non_interactive']),
  is_first_party: z.boolean(),
  callbacks: z.array(url).max(100),
  allowed_logout_urls: z.array(url).max(100),
  web_origins: z.array(origin).max(100),
  grant_types: z.array(z.enum(['authorization_code', 'refresh_token', 'client_credentials'])).max(3),
  token_endpoint_auth_method: z.enum(['none', 'client_secret_post', 'client_secret_basic']),
  oidc_conformant: z.literal(true, 'every application is OIDC-conformant here'),
  refresh_token: z
    .strictObject({
      rotation_type: z.enum(['rotating', 'non-rotating']),
      expiration_type: z.literal('expiring', 'refresh tokens always expire here'),
      leeway: z.number().int().min(0).max(300),
      token_lifetime: lifetime,
      idle_token_lifetime: lifetime,
      infinite_token_lifetime: z.literal(false, 'refresh tokens always expire here'),
      infinite_idle_token_lifetime: z.literal(false, 'refresh tokens always expire here'),
    })
    .partial(),
};
const createBody = z.strictObject(settings).partial().required({ name: true });
const updateBody = z.strictObject(settings).partial();
type Input = z.infer<typeof updateBody>;

/**
 * The application's settings after `input`, checked as a whole (a SPA has no secret, a machine-to-machine
 * application no URLs); `current` is what it was (none for a new one).
 */
function settingsFrom(clientId: string, input: Input, current?: ApplicationRecord): ApplicationSettings {
  const was = current && clientShape(current);
  const type = input.app_type ?? was?.app_type ?? 'regular_web';
  const pick = <K extends keyof Input>(key: K, fallback: NonNullable<Input[K]>) =>
    input[key] ?? (was?.[key as keyof typeof was] as Input[K]) ?? fallback;
  const common = {
    clientId,
    name: pick('name', ''),
    firstParty: pick('is_first_party', true),
  };
  const method = input.token_endpoint_auth_method;
  if (type === 'spa' ? method !== undefined && method !== 'none' : method === 'none')
    throw invalidBody(
      `Payload validation error: 'token_endpoint_auth_method ${method} does not suit a ${type} application'.`,
    );
  if (type !== 'spa' && input.web_origins?.length)
    throw invalidBody("Payload validation error: 'web_origins are for single-page applications only'.");
  if (type === 'non_interactive') {
    if (input.callbacks?.length || input.allowed_logout_urls?.length)
      throw invalidBody("Payload validation error: 'a machine-to-machine application has no URLs'.");
    const grants = input.grant_types ?? ['client_credentials'];
    if (grants.length !== 1 || grants[0] !== 'client_credentials')
      throw invalidBody(
        "Payload validation error: 'a machine-to-machine application uses client_credentials only'.",
      );
    return {
      ...common,
      type: 'm2m',
      tokenEndpointAuthMethod: confidentialMethod(method, was, 'client_secret_post'),
    };
  }
  const grants =
    input.grant_types ?? (was?.app_type === type ? was.grant_types : ['authorization_code', 'refresh_token']);
  if (!grants.includes('authorization_code') || grants.includes('client_credentials'))
    throw invalidBody(
      `Payload validation error: 'a ${type} application uses authorization_code, and optionally refresh_token'.`,
    );
  const wasRefresh = current?.settings.type !== 'm2m' ? current?.settings.refreshToken : undefined;
  const rt = input.refresh_token;
  const refreshToken = grants.includes('refresh_token')
    ? {
        rotation:
          rt?.rotation_type === undefined
            ? (wasRefresh ?? REFRESH_DEFAULTS).rotation
            : rt.rotation_type === 'rotating',
        reuseIntervalSeconds: rt?.leeway ?? (wasRefresh ?? REFRESH_DEFAULTS).reuseIntervalSeconds,
        absoluteLifetime: rt?.token_lifetime ?? (wasRefresh ?? REFRESH_DEFAULTS).absoluteLifetime,
        idleLifetime: rt?.idle_token_lifetime ?? (wasRefresh ?? REFRESH_DEFAULTS).idleLifetime,
      }
    : undefined;
  const urls = {
    callbackUrls: pick('callbacks', []),
    logoutUrls: pick('allowed_logout_urls', []),
    ...(refreshToken ? { refreshToken } : {}),
  };
  if (type === 'spa') return { ...common, type: 'spa', ...urls, webOrigins: pick('web_origins', []) };
  return {
    ...common,
    type: 'regular_web',
    ...urls,
    tokenEndpointAuthMethod: confidentialMethod(method, was, 'client_secret_basic'),
  };
}

function confidentialMethod(
  given: Input['token_endpoint_auth_method'],
  was: ReturnType<typeof clientShape> | undefined,
  fallback: 'client_secret_post' | 'client_secret_basic',
): 'client_secret_post' | 'client_secret_basic' {
  const method = given ?? was?.token_endpoint_auth_method;
  return method === 'client_secret_post' || method === 'client_secret_basic' ? method : fallback;
}

export function clientRoutes(router: Router, ctx: ManagementContext): void {
  const { ops } = ctx;
  const listParams = z.strictObject({
    ...listQuery,
    app_type: z.string().optional(),
    is_first_party: z.enum(['true', 'false']).optional(),
  });

  async function find(req: Request): Promise<ApplicationRecord> {
    const app = await ops.getApplication(param(req));
    if (!app) throw notFound('application');
    return app;
  }

  router.get('/clients', scopeIncludesAny('read:clients', 'read:client_keys'), async (req, res) => {
    const query = parseQuery(listParams, req);
    const types = query.app_type?.split(',');
    const apps = (await ops.listApplications())
      .map(clientShape)
      .filter((c) => !types || types.includes(c.app_type))
      .filter((c) => query.is_first_party === undefined || String(c.is_first_party) === query.is_first_party);
    res.json(page('clients', apps, query));
  });

  router.post('/clients', requiredScopes('create:clients'), async (req, res) => {
    const input = parseBody(createBody, req);
    const settings = settingsFrom(newClientId(), input);
    const secret = settings.type === 'spa' ? null : newSecret();
    await ops.createApplication(settings, secret);
    const created = (await ops.getApplication(settings.clientId))!;
    res.status(201).json({ ...clientShape(created), ...(secret ? { client_secret: secret } : {}) });
  });

  router.get('/clients/:id', scopeIncludesAny('read:clients', 'read:client_keys'), async (req, res) => {
    const query = parseQuery(fieldsQuery, req);
    res.json(selectFields(clientShape(await find(req)), query));
  });

  router.patch('/clients/:id', scopeIncludesAny('update:clients', 'update:client_keys'), async (req, res) => {
    const input = parseBody(updateBody, req);
    const current = await find(req);
    const settings = settingsFrom(current.settings.clientId, input, current);
    // A new type may need a secret (made now, answered once) or have none (dropped).
    const secret =
      settings.type === 'spa'
        ? current.secret === null
          ? undefined
          : null
        : current.secret === null
          ? newSecret()
          : undefined;
    await ops.updateApplication(settings, secret);
    const updated = (await ops.getApplication(settings.clientId))!;
    res.json({ ...clientShape(updated), ...(secret ? { client_secret: secret } : {}) });
  });

  router.post('/clients/:id/rotate-secret', requiredScopes('update:client_keys'), async (req, res) => {
    const current = await find(req);
    if (current.secret === null) throw unsupported('A single-page application has no secret.');
    if (current.secret === 'environment')
      throw unsupported(
        'The secret of this application comes from an environment variable named in the tenant file: change it there.',
      );
    const secret = newSecret();
    await ops.updateApplication(current.settings, secret);
    res.json({ ...clientShape(current), client_secret: secret });
  });

  router.delete('/clients/:id', requiredScopes('delete:clients'), async (req, res) => {
    const app = await find(req);
    if (ctx.userClients.has(app.settings.clientId))
      throw unsupported("This is the console's application: deleting it would lock every administrator out.");
    await ops.deleteApplication(app.settings.clientId);
    res.status(204).end();
  });
}
