// The default tenant plus what an Auth0 customer would register in the dashboard for these tests: a
// single-page application at the test page's origins, and an API that uses Auth0's token dialect.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const DEFAULT_TENANT = fileURLToPath(new URL('../../apps/auth-server/tenant.json', import.meta.url));

export const SDK_CLIENT_ID = 'auth0-sdk-app';
export const MESSAGES_API = 'http://localhost:3001/api';
/** The same scopes and roles as the Messages API, issued in Auth0's dialect (typ JWT, audience array). */
export const AUTH0_DIALECT_API = 'https://auth0-dialect.example.com/api';

export function writeCompatTenant(dir: string, appOrigins: string[]): string {
  const tenant = JSON.parse(readFileSync(DEFAULT_TENANT, 'utf8'));
  const messages = tenant.apis.find((a: { identifier: string }) => a.identifier === MESSAGES_API);
  tenant.apis.push({
    ...messages,
    name: 'Messages API (Auth0 dialect)',
    identifier: AUTH0_DIALECT_API,
    tokenDialect: 'auth0',
  });
  for (const role of tenant.roles) {
    role.permissions.push(
      ...role.permissions
        .filter((p: { audience: string }) => p.audience === MESSAGES_API)
        .map((p: { scope: string }) => ({ audience: AUTH0_DIALECT_API, scope: p.scope })),
    );
  }
  tenant.applications.push({
    type: 'spa',
    clientId: SDK_CLIENT_ID,
    name: 'An app written for Auth0',
    callbackUrls: appOrigins.map((o) => `${o}/callback`),
    logoutUrls: appOrigins.map((o) => `${o}/`),
    webOrigins: appOrigins,
    refreshToken: { rotation: true },
  });
  const file = join(dir, 'tenant.json');
  writeFileSync(file, JSON.stringify(tenant, null, 2));
  return file;
}
