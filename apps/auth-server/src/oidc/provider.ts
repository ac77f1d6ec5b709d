// oidc-provider configured as an Auth0-style tenant. Configuration is data; tenant policy lives in the hooks.

import type { Middleware } from 'koa';
import Provider, { type Configuration, errors, type KoaContextWithOIDC } from 'oidc-provider';
import type { Logger } from 'pino';
import type { Config } from '../config/config.ts';
import { logoutPage, messagePage } from '../http/views.ts';
import { providerJwks } from '../keys/key-store.ts';
import { NodeSigningKey } from '../keys/node-signing-key.ts';
import { AUTHORIZE_POLICY } from '../security/abuse-policy.ts';
import type { KeySet, Storage } from '../store/storage.ts';
import { OIDC_SCOPES } from '../tenant/tenant-schema.ts';
import type { TenantSnapshot } from '../tenant/tenant-snapshot.ts';
import {
  type ClientMetadata,
  clientMetadata,
  EXTRA_CLIENT_PROPERTIES,
  refreshTokenPolicy,
} from './client-metadata.ts';
import { requireDpopPolicy } from './dpop-policy.ts';
import { createAdapterFactory } from './oidc-adapter.ts';
import { withParameterLimits } from './parameter-limits.ts';
import { allowedScopes, permissionsOf, type Subject } from './rbac-policy.ts';
import { fromResource, toResource, userinfoAudience } from './resources.ts';
import { grantsEndAtSignOut, silentSignOut } from './sign-out.ts';
import { guard } from './unavailable.ts';
import { requireWebOrigin, webMessageFraming } from './web-message.ts';

export const ROUTES = {
  authorization: '/authorize',
  token: '/oauth/token',
  userinfo: '/userinfo',
  jwks: '/.well-known/jwks.json',
  revocation: '/oauth/revoke',
  introspection: '/oauth/introspect',
  end_session: '/oidc/logout',
  pushed_authorization_request: '/oauth/par',
} as const;

/** A browser session; also how long the grant of an application without refresh tokens lasts. */
const SESSION_TTL = 3 * 24 * 3600;

const meta = (client: { metadata(): ClientMetadata } | undefined): ClientMetadata => client?.metadata() ?? {};

export function createProvider(opts: {
  config: Config;
  storage: Storage;
  tenant: TenantSnapshot;
  keys: KeySet;
  logger: Logger;
  /** The tenant's one database connection: Auth0's `connection` parameter may name it and nothing else. */
  connection: string;
  /** The Management API, and the applications (the console) through which users may get its tokens. */
  management: { audience: string; userClients: ReadonlySet<string> };
}): Provider {
  const { config, storage, tenant, keys, logger, connection, management } = opts;
  const userinfo = userinfoAudience(config.issuer);
  const fresh = () => guard(tenant.fresh());
  const userPermissions = async (userId: string, api: string) =>
    permissionsOf(await fresh(), await guard(storage.tenant.userRoles(userId)), api);

  // Built once per stored record: a tenant reload brings new records, and so new metadata.
  const metadataOf = new WeakMap<object, ClientMetadata>();
  const findClient = async (id: string) => {
    const app = (await fresh()).application(id);
    if (!app) return undefined;
    const secret = app.secret && 'env' in app.secret ? config.secrets[app.secret.env] : app.secret?.value;
    if (app.secret && !secret) {
      const env = 'env' in app.secret ? app.secret.env : undefined;
      logger.error({ clientId: id, env }, 'client secret environment variable is not set');
      return undefined;
    }
    let metadata = metadataOf.get(app);
    if (!metadata) {
      metadata = clientMetadata(app);
      metadataOf.set(app, metadata);
    }
    // A copy: the provider must not share (or alter) the cached metadata.
    const copy = structuredClone(metadata);
    return secret ? { ...copy, client_secret: secret } : copy;
  };
  const reuseInterval = (clientId: string) => {
    const app = tenant.current().application(clientId);
    return app && app.type !== 'm2m' ? (app.refreshToken?.reuseIntervalSeconds ?? 0) : 0;
  };

  const configuration: Configuration = {
    adapter: grantsEndAtSignOut(createAdapterFactory(storage.oidc, { findClient, reuseInterval })),
    clients: [],
    jwks: { keys: providerJwks(keys).keys.map((jwk) => new NodeSigningKey(jwk)) },
    cookies: { keys: keys.cookieKeys, long: { signed: true }, short: { signed: true } },
    routes: ROUTES,
    responseTypes: ['code'],
    scopes: [...OIDC_SCOPES],
    claims: {
      openid: ['sub'],
      profile: ['name', 'nickname'],
      email: ['email', 'email_verified'],
    },
    // Auth0 puts the profile and email claims in the ID token; SPAs (oidc-client-ts) read the profile from it.
    conformIdTokenClaims: false,
    extraClientMetadata: {
      properties: [...EXTRA_CLIENT_PROPERTIES],
    },
    extraParams: withParameterLimits({
      audience: null,
      // Auth0's "which connection": this tenant has one database connection, so only its name is valid.
      connection(_ctx, value) {
        if (value !== undefined && value !== connection)
          throw new errors.InvalidRequest(`unknown connection "${value}"; this tenant has "${connection}"`);
      },
      // Auth0's screen_hint=signup opens the sign-up form instead of the sign-in form (interactions.ts).
      screen_hint: null,
      response_mode(ctx, value, client) {
        if (value === 'web_message') requireWebOrigin(ctx, client);
      },
      // oidc-provider drops offline_access without prompt=consent (OIDC Core §11); Auth0 SPAs never send that prompt,
      // so it is put back for clients allowed to refresh. Validators run after the scope check.
      scope(ctx, value, client) {
        const raw =
          (ctx.method === 'POST'
            ? (ctx.oidc.body?.scope as string | undefined)
            : (ctx.query.scope as string | undefined)) ?? '';
        const asked = raw.split(' ').includes('offline_access');
        if (
          asked &&
          client.grantTypeAllowed('refresh_token') &&
          value &&
          !value.split(' ').includes('offline_access')
        ) {
          ctx.oidc.params!.scope = `${value} offline_access`;
        }
      },
    }),
    async findAccount(_ctx, id) {
      const user = await guard(storage.tenant.findUserById(id));
      // A blocked user is no account at all: no sign-in, no code exchange, no refresh.
      if (!user || user.blocked) return undefined;
      return {
        accountId: user.id,
        async claims() {
          return {
            sub: user.id,
            name: user.name,
            nickname: user.email.split('@')[0],
            email: user.email,
            email_verified: false,
          };
        },
      };
    },
    clientBasedCORS(_ctx, origin, client) {
      const origins = meta(client).web_origins;
      return Array.isArray(origins) && origins.includes(origin);
    },
    async loadExistingGrant(ctx) {
      const grantId =
        ctx.oidc.result?.consent?.grantId ?? ctx.oidc.session!.grantIdFor(ctx.oidc.client!.clientId);
      const existing = grantId ? await ctx.oidc.provider.Grant.find(grantId) : undefined;
      if (!meta(ctx.oidc.client).first_party) return existing;
      // First-party applications skip consent (Auth0): the grant covers what was asked; RBAC narrows at /token.
      const grant =
        existing ??
        new ctx.oidc.provider.Grant({
          accountId: ctx.oidc.session!.accountId!,
          clientId: ctx.oidc.client!.clientId,
        });
      const oidcScope = ctx.oidc.requestParamOIDCScopes;
      if (oidcScope.size > 0) grant.addOIDCScope([...oidcScope].join(' '));
      for (const [indicator, rs] of Object.entries(ctx.oidc.resourceServers ?? {})) {
        if (rs.scope) grant.addResourceScope(indicator, rs.scope);
      }
      await grant.save();
      return grant;
    },
    async issueRefreshToken(_ctx, client, code) {
      if (!client.grantTypeAllowed('refresh_token') || !code.scopes.has('offline_access')) return false;
      const resource = 'resource' in code ? code.resource : undefined;
      const indicators = typeof resource === 'string' ? [resource] : Array.isArray(resource) ? resource : [];
      const view = await fresh();
      return indicators.every((r) => view.api(fromResource(r))?.allowOfflineAccess !== false);
    },
    rotateRefreshToken(ctx) {
      return refreshTokenPolicy(meta(ctx.oidc.client))?.rotation !== false;
    },
    async extraTokenClaims(_ctx, token) {
      const aud = token.resourceServer?.audience;
      const api = typeof aud === 'string' ? (await fresh()).api(aud) : undefined;
      if (!api) return undefined;
      if (token.kind === 'ClientCredentials') {
        const scope = token.scope ? token.scope.split(' ') : [];
        return { gty: 'client-credentials', ...(api.permissionsInToken ? { permissions: scope } : {}) };
      }
      if (!api.permissionsInToken || !('accountId' in token) || typeof token.accountId !== 'string')
        return undefined;
      // Auth0 puts all of the user's permissions for the API, requested or not; always an array.
      const permissions = api.rbac
        ? await userPermissions(token.accountId, api.identifier)
        : (token.scope?.split(' ').filter(Boolean) ?? []);
      return { permissions };
    },
    formats: {
      customizers: {
        async jwt(ctx, token, jwt) {
          // Auth0 lists the granted OpenID scopes in the access token's scope too; /userinfo relies on `openid`.
          const source = ctx?.oidc.entities.RefreshToken ?? ctx?.oidc.entities.AuthorizationCode;
          const grant = ctx?.oidc.entities.Grant;
          if (token.kind === 'AccessToken' && source && grant) {
            const granted = new Set(grant.getOIDCScope().split(' '));
            // A refresh may ask for less than the sign-in got, never more (RFC 6749 §6).
            const narrowed =
              ctx.oidc.params?.grant_type === 'refresh_token' && typeof ctx.oidc.params.scope === 'string'
                ? new Set(ctx.oidc.params.scope.split(' '))
                : undefined;
            const oidc = (source.scope ?? '')
              .split(' ')
              .filter((s) => OIDC_SCOPES.has(s) && granted.has(s) && (!narrowed || narrowed.has(s)));
            const api =
              typeof jwt.payload.scope === 'string' ? jwt.payload.scope.split(' ').filter(Boolean) : [];
            jwt.payload.scope = [...oidc, ...api].join(' ');
          }
          if ('clientId' in token) jwt.payload.azp = token.clientId;
          const aud = token.resourceServer?.audience;
          if (typeof aud === 'string' && (await fresh()).api(aud)?.tokenDialect === 'auth0') {
            // Auth0's default shape: typ JWT, and the userinfo audience beside the API when openid was granted.
            jwt.header = { ...jwt.header, typ: 'JWT' };
            if (
              String(jwt.payload.scope ?? '')
                .split(' ')
                .includes('openid')
            )
              jwt.payload.aud = [aud, userinfo];
          }
        },
      },
    },
    features: {
      devInteractions: { enabled: false },
      // Lets NodeSigningKey sign (experimental in 9.x: the version is pinned and the tests cover every signed token).
      externalSigningSupport: { enabled: true, ack: 'experimental-01' },
      clientCredentials: { enabled: true },
      // Off: it stores a request per call from any public client before anyone signs in, and nothing here uses it.
      pushedAuthorizationRequests: { enabled: false },
      introspection: {
        enabled: true,
        // Only confidential clients may introspect (RFC 7662 §4: the caller must be authorized), and
        // only their own tokens: one app's secret must not tell it whose other tokens are live.
        allowedPolicy: async (_ctx, client, token) =>
          client.clientAuthMethod !== 'none' && token.clientId === client.clientId,
      },
      revocation: {
        enabled: true,
        allowedPolicy: async (_ctx, client, token) => token.clientId === client.clientId,
      },
      userinfo: { enabled: true },
      // RFC 9449: a DPoP proof at the token endpoint binds the access token (cnf.jkt) and, for public
      // clients, the refresh token to the client's key; each API says whether it takes them (dpop-policy.ts).
      dPoP: { enabled: true },
      // Auth0's silent sign-in (prompt=none in a hidden iframe) and popup sign-in answer with a postMessage
      // page; web-message.ts limits who may frame it and which redirect URIs may use it.
      webMessageResponseMode: { enabled: true, ack: 'individual-draft-01' },
      rpInitiatedLogout: {
        enabled: true,
        async logoutSource(ctx, form) {
          ctx.type = 'html';
          ctx.body = logoutPage({
            form,
            silent: silentSignOut(ctx),
            clientName: ctx.oidc.client?.clientName,
          });
        },
        async postLogoutSuccessSource(ctx) {
          ctx.type = 'html';
          ctx.body = messagePage('Signed out', 'You are signed out. You can close this window.');
        },
      },
      resourceIndicators: {
        enabled: true,
        async defaultResource(ctx, _client, oneOf) {
          if (oneOf) return oneOf;
          const aud = ctx.oidc.params?.audience ?? ctx.oidc.body?.audience;
          return typeof aud === 'string' && aud !== '' ? toResource(aud) : (undefined as unknown as string);
        },
        useGrantedResource: async () => true,
        async getResourceServerInfo(ctx, resource, client) {
          const view = await fresh();
          const api = view.api(fromResource(resource));
          if (!api) throw new errors.InvalidTarget('unknown audience');
          if (ctx.oidc.route === 'token') requireDpopPolicy(api, Boolean(ctx.get('DPoP')));
          let subject: Subject = { kind: 'unknown' };
          const clientCredentials =
            ctx.oidc.route === 'token' && ctx.oidc.params?.grant_type === 'client_credentials';
          // Administrators' tokens come only through the console: an application's page cannot ask for them.
          if (
            api.identifier === management.audience &&
            !clientCredentials &&
            !management.userClients.has(client.clientId)
          )
            throw new errors.InvalidTarget(`users get tokens for ${api.identifier} only through the console`);
          if (clientCredentials) {
            subject = {
              kind: 'client',
              clientGrant: view.clientGrantScopes(client.clientId, api.identifier),
            };
          } else if (ctx.oidc.route === 'token' && ctx.oidc.entities.Account) {
            subject = {
              kind: 'user',
              permissions: await userPermissions(ctx.oidc.entities.Account.accountId, api.identifier),
            };
          }
          const scopes = allowedScopes(api, subject);
          if (!scopes) throw new errors.AccessDenied(`client is not authorized to access ${api.identifier}`);
          // Auth0 issues every granted scope when a client_credentials request names none.
          if (clientCredentials && ctx.oidc.params && !ctx.oidc.params.scope)
            ctx.oidc.params.scope = scopes.join(' ');
          return {
            scope: scopes.join(' '),
            audience: api.identifier,
            accessTokenFormat: 'jwt',
            accessTokenTTL: api.accessTokenLifetime,
            jwt: { sign: { alg: 'RS256' } },
          };
        },
      },
    },
    pkce: { required: () => true },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    ttl: {
      // The API's token lifetime (getResourceServerInfo); one hour for the opaque /userinfo token.
      AccessToken: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? 3600,
      AuthorizationCode: 60,
      ClientCredentials: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? 3600,
      IdToken: 3600,
      Interaction: AUTHORIZE_POLICY.interactionTtlSeconds,
      Session: SESSION_TTL,
      // A grant must outlive the refresh tokens issued under it, or refreshing fails with "grant is expired".
      Grant: (ctx) => refreshTokenPolicy(meta(ctx?.oidc?.client))?.absoluteLifetime ?? SESSION_TTL,
      RefreshToken(ctx, _token, client) {
        const policy = refreshTokenPolicy(meta(client));
        // issueRefreshToken issues none to a client without refresh-token settings.
        if (!policy) throw new Error(`client ${client.clientId} has no refresh-token settings`);
        const rotated = ctx?.oidc.entities.RotatedRefreshToken;
        // Absolute lifetime across rotations; each rotation also gets at most the idle lifetime.
        if (rotated) return Math.max(1, Math.min(rotated.remainingTTL, policy.idleLifetime));
        return Math.min(policy.absoluteLifetime, policy.idleLifetime);
      },
    },
    async renderError(ctx, out) {
      ctx.type = 'html';
      ctx.body =
        out.error === 'temporarily_unavailable'
          ? messagePage(
              'Temporarily unavailable',
              'The service cannot answer right now. Try again in a moment.',
            )
          : messagePage(
              'Something went wrong',
              'The request could not be completed. Return to the application and try again.',
              `${out.error}: ${out.error_description ?? ''}`,
            );
    },
  };

  const provider = new Provider(config.issuer, configuration);
  provider.use(retryAfterOutage);
  provider.use(webMessageFraming);
  // Secure cookies and https URLs need the proxy's X-Forwarded-Proto; trusted only when configured.
  provider.proxy = config.trustProxy;
  provider.on('grant.error', (ctx: KoaContextWithOIDC, err: Error & { error_detail?: string }) =>
    logger.info(
      { client: ctx.oidc.client?.clientId, err: err.message, detail: err.error_detail },
      'grant refused',
    ),
  );
  provider.on('grant.revoked', (_ctx: KoaContextWithOIDC, grantId: string) =>
    logger.info({ grantId }, 'grant revoked'),
  );
  provider.on('server_error', (_ctx: KoaContextWithOIDC, err: Error) =>
    logger.error({ err }, 'oidc server error'),
  );
  return provider;
}

/** A 503 (the database is unreachable) says when to come back: soon, the pool reconnects by itself. */
const retryAfterOutage: Middleware = async (ctx, next) => {
  await next();
  if (ctx.status === 503) ctx.set('Retry-After', '1');
};
