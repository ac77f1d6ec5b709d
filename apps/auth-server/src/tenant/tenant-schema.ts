// The tenant file: APIs, applications, client grants, roles and users, as data (Auth0's dashboard in JSON).
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { MANAGEMENT_AUDIENCE_ALIAS, MANAGEMENT_SCOPES } from '../management/system-api.ts';
import { isPasswordHash } from '../security/passwords.ts';

const scopeValue = z
  .string()
  .regex(/^[\x21\x23-\x5B\x5D-\x7E]+$/, 'a scope is printable ASCII without spaces, quotes or backslashes');
const absoluteUrl = z.string().refine((v) => URL.canParse(v), 'must be an absolute URL');
const origin = absoluteUrl.refine(
  (v) => new URL(v).origin === v,
  'must be an origin (scheme://host[:port], no path)',
);
const lifetime = z
  .number()
  .int()
  .min(10)
  .max(60 * 60 * 24 * 365);
/** Auth0's name for a tenant's default database connection. */
export const DATABASE_CONNECTION = 'Username-Password-Authentication';
export const OIDC_SCOPES = new Set(['openid', 'profile', 'email', 'offline_access']);

export const apiSchema = z.strictObject({
  name: z.string().min(1),
  /** Auth0's API identifier, the `audience` clients send; becomes `aud`. */
  identifier: z.string().min(1),
  signingAlg: z.literal('RS256').default('RS256'),
  accessTokenLifetime: lifetime.default(86400),
  rbac: z.boolean().default(false),
  permissionsInToken: z.boolean().default(false),
  allowOfflineAccess: z.boolean().default(true),
  /**
   * The access token's shape: RFC 9068 (`typ: at+jwt`, `aud` the API) or Auth0's default
   * (`typ: JWT`, `aud` an array with `<issuer>userinfo` when `openid` was asked), so an API written
   * for Auth0 accepts the token unchanged.
   */
  tokenDialect: z.enum(['rfc9068', 'auth0']).default('rfc9068'),
  /**
   * Sender-constrained tokens (RFC 9449): `allowed` binds a token to the client's key when its token
   * request carries a DPoP proof; `required` refuses token requests without one; `off` refuses proofs,
   * for APIs that only understand bearer tokens.
   */
  dpop: z.enum(['required', 'allowed', 'off']).default('allowed'),
  scopes: z
    .array(
      z.strictObject({
        value: scopeValue.refine((v) => !OIDC_SCOPES.has(v), 'OpenID Connect scopes cannot be API scopes'),
        description: z.string().min(1),
      }),
    )
    .default([]),
});

export const refreshTokenSettings = z.strictObject({
  rotation: z.boolean().default(true),
  /** Seconds during which a rotated refresh token may be used again (Auth0's reuse interval). */
  reuseIntervalSeconds: z.number().int().min(0).max(300).default(0),
  absoluteLifetime: lifetime.default(2592000),
  idleLifetime: lifetime.default(1296000),
});

/** Only variables named for the purpose may hold client secrets: a tenant file must not read PATH or HOME. */
export const SECRET_ENV_NAME = /^[A-Z][A-Z0-9_]*_CLIENT_SECRET$/;
const secretRef = z.strictObject({
  env: z.string().regex(SECRET_ENV_NAME, 'an environment variable whose name ends in _CLIENT_SECRET'),
});

/** One rule for every password a person chooses: the tenant file, the CLI and sign-up. */
export const PASSWORD_MIN_LENGTH = 12;
export const passwordSchema = z
  .string()
  .min(PASSWORD_MIN_LENGTH, `at least ${PASSWORD_MIN_LENGTH} characters`)
  .max(1024);

const common = {
  clientId: z.string().regex(/^[A-Za-z0-9._~-]{3,128}$/, '3-128 characters among A-Z a-z 0-9 . _ ~ -'),
  name: z.string().min(1),
  firstParty: z.boolean().default(true),
};

const spaApplication = z.strictObject({
  type: z.literal('spa'),
  ...common,
  callbackUrls: z.array(absoluteUrl).min(1),
  logoutUrls: z.array(absoluteUrl).default([]),
  webOrigins: z.array(origin).default([]),
  refreshToken: refreshTokenSettings.optional(),
});
const regularWebApplication = z.strictObject({
  type: z.literal('regular_web'),
  ...common,
  clientSecret: secretRef,
  tokenEndpointAuthMethod: z
    .enum(['client_secret_basic', 'client_secret_post'])
    .default('client_secret_basic'),
  callbackUrls: z.array(absoluteUrl).min(1),
  logoutUrls: z.array(absoluteUrl).default([]),
  refreshToken: refreshTokenSettings.optional(),
});
const m2mApplication = z.strictObject({
  type: z.literal('m2m'),
  ...common,
  clientSecret: secretRef,
  tokenEndpointAuthMethod: z
    .enum(['client_secret_basic', 'client_secret_post'])
    .default('client_secret_post'),
});

export const applicationSchema = z.discriminatedUnion('type', [
  spaApplication,
  regularWebApplication,
  m2mApplication,
]);

/** An application as stored: its settings without the secret, which the store keeps apart. */
export const applicationSettingsSchema = z.discriminatedUnion('type', [
  spaApplication,
  regularWebApplication.omit({ clientSecret: true }),
  m2mApplication.omit({ clientSecret: true }),
]);

export const tenantSchema = z
  .strictObject({
    $schema: z.string().optional(),
    name: z.string().min(1).default('local'),
    /** The one database connection's name: Auth0's /authorize `connection` parameter may name it, nothing else. */
    connection: z.string().min(1).default(DATABASE_CONNECTION),
    signup: z.strictObject({ enabled: z.boolean() }).default({ enabled: false }),
    /**
     * The built-in Management API (`##ISSUER##api/v2/` in client grants and role permissions). Users get
     * tokens for it only through the applications listed here (the console), with the scopes of their roles.
     */
    managementApi: z
      .strictObject({ userClients: z.array(z.string()).default([]) })
      .default({ userClients: [] }),
    apis: z.array(apiSchema).default([]),
    applications: z.array(applicationSchema).default([]),
    clientGrants: z
      .array(z.strictObject({ clientId: z.string(), audience: z.string(), scopes: z.array(scopeValue) }))
      .default([]),
    roles: z
      .array(
        z.strictObject({
          name: z.string().regex(/^[A-Za-z0-9:._-]{1,64}$/),
          description: z.string().default(''),
          permissions: z.array(z.strictObject({ audience: z.string(), scope: scopeValue })).default([]),
        }),
      )
      .default([]),
    users: z
      .array(
        z
          .strictObject({
            email: z.string().email(),
            name: z.string().min(1).optional(),
            /** Plain password, hashed with argon2id when seeded; never stored as given. */
            password: passwordSchema.optional(),
            /** Or an already hashed password (`$argon2id$...`, as `npm run tenant -- hash-password` prints). */
            passwordHash: z
              .string()
              .refine(isPasswordHash, 'an argon2id hash in PHC format ($argon2id$v=19$m=…,t=…,p=…$salt$hash)')
              .optional(),
            roles: z.array(z.string()).default([]),
          })
          .refine((u) => (u.password === undefined) !== (u.passwordHash === undefined), {
            message: 'give exactly one of password or passwordHash',
          }),
      )
      .default([]),
  })
  .superRefine((t, ctx) => {
    const apis = new Map(t.apis.map((a) => [a.identifier, new Set(a.scopes.map((s) => s.value))]));
    apis.set(MANAGEMENT_AUDIENCE_ALIAS, new Set(MANAGEMENT_SCOPES.map((s) => s.value)));
    const unique = (values: string[], path: (i: number) => (string | number)[], what: string) => {
      const seen = new Set<string>();
      values.forEach((v, i) => {
        if (seen.has(v)) ctx.addIssue({ code: 'custom', path: path(i), message: `duplicate ${what} ${v}` });
        seen.add(v);
      });
    };
    unique(
      t.apis.map((a) => a.identifier),
      (i) => ['apis', i, 'identifier'],
      'API identifier',
    );
    unique(
      t.applications.map((a) => a.clientId),
      (i) => ['applications', i, 'clientId'],
      'client id',
    );
    unique(
      t.users.map((u) => u.email.toLowerCase()),
      (i) => ['users', i, 'email'],
      'email',
    );
    const checkScope = (aud: string, scope: string, path: (string | number)[]) => {
      const scopes = apis.get(aud);
      if (!scopes)
        ctx.addIssue({
          code: 'custom',
          path: [...path, 'audience'],
          message: `no API with identifier ${aud}`,
        });
      else if (!scopes.has(scope))
        ctx.addIssue({
          code: 'custom',
          path: [...path, 'scope'],
          message: `API ${aud} has no scope ${scope}`,
        });
    };
    const m2m = new Set(t.applications.filter((a) => a.type !== 'spa').map((a) => a.clientId));
    for (const [i, g] of t.clientGrants.entries()) {
      if (!m2m.has(g.clientId)) {
        ctx.addIssue({
          code: 'custom',
          path: ['clientGrants', i, 'clientId'],
          message: `no confidential application ${g.clientId}`,
        });
      }
      for (const s of g.scopes) checkScope(g.audience, s, ['clientGrants', i]);
    }
    for (const [i, r] of t.roles.entries()) {
      for (const [j, p] of r.permissions.entries())
        checkScope(p.audience, p.scope, ['roles', i, 'permissions', j]);
    }
    const interactive = new Set(t.applications.filter((a) => a.type !== 'm2m').map((a) => a.clientId));
    for (const [i, clientId] of t.managementApi.userClients.entries()) {
      if (!interactive.has(clientId))
        ctx.addIssue({
          code: 'custom',
          path: ['managementApi', 'userClients', i],
          message: `no spa or regular_web application ${clientId}`,
        });
    }
    const roles = new Set(t.roles.map((r) => r.name));
    for (const [i, u] of t.users.entries()) {
      for (const [j, r] of u.roles.entries()) {
        if (!roles.has(r))
          ctx.addIssue({ code: 'custom', path: ['users', i, 'roles', j], message: `no role ${r}` });
      }
    }
  });

export type Tenant = z.infer<typeof tenantSchema>;
export type ApiDefinition = z.infer<typeof apiSchema>;
export type ApplicationDefinition = z.infer<typeof applicationSchema>;
export type ApplicationSettings = z.infer<typeof applicationSettingsSchema>;
export type RefreshTokenSettings = z.infer<typeof refreshTokenSettings>;

export class TenantError extends Error {
  override name = 'TenantError';
}

export function parseTenant(raw: unknown, source = 'tenant'): Tenant {
  const parsed = tenantSchema.safeParse(raw);
  if (!parsed.success) {
    const lines = parsed.error.issues.map(
      (i) => `  ${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`,
    );
    throw new TenantError(`invalid tenant file ${source}:\n${lines.join('\n')}`);
  }
  return parsed.data;
}

export function loadTenantFile(file: string): Tenant {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new TenantError(`cannot read tenant file ${file}: ${(err as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new TenantError(`tenant file ${file} is not valid JSON: ${(err as Error).message}`);
  }
  return parseTenant(raw, file);
}
