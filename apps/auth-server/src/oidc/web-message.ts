// Auth0's response_mode=web_message (silent sign-in in a hidden iframe, and popup sign-in): oidc-provider's page
// posts { type: 'authorization_response', response } to the redirect_uri's origin (never to '*'). Auth0 lets
// only an application's "Allowed Web Origins" use it, and only they may frame the answer.
import type { Middleware } from 'koa';
import { type Client, errors, type KoaContextWithOIDC } from 'oidc-provider';

const webOriginsOf = (client: Client | undefined): string[] => {
  const origins = client?.metadata().web_origins;
  return Array.isArray(origins) ? origins.filter((o): o is string => typeof o === 'string') : [];
};

/**
 * An /authorize parameter check, before any code is issued: the redirect_uri (already checked against the
 * registered ones) must be on an allowed web origin. Refused with an error page, never a message to that origin.
 */
export function requireWebOrigin(ctx: KoaContextWithOIDC, client: Client | undefined): void {
  const redirectUri = ctx.oidc.params?.redirect_uri;
  const origin =
    typeof redirectUri === 'string' && URL.canParse(redirectUri) ? new URL(redirectUri).origin : '';
  if (webOriginsOf(client).includes(origin)) return;
  const error = new errors.InvalidRequest(
    `response_mode=web_message needs the redirect_uri's origin (${origin || 'none'}) among the application's allowed web origins`,
  );
  error.allow_redirect = false;
  throw error;
}

/**
 * oidc-provider's web_message page drops frame-ancestors from the page's Content-Security-Policy so that it
 * can be framed; this puts it back with the client's allowed web origins, so no other site can frame it.
 * Every other page keeps the strict policy (frame-ancestors 'none') set by the HTTP layer.
 */
export const webMessageFraming: Middleware = async (ctx, next) => {
  await next();
  const csp = ctx.response.get('content-security-policy');
  if (typeof csp !== 'string' || csp === '' || csp.includes('frame-ancestors')) return;
  const oidc = (ctx as Partial<KoaContextWithOIDC>).oidc;
  const origins = webOriginsOf(oidc?.client);
  ctx.set(
    'content-security-policy',
    `${csp}; frame-ancestors ${origins.length > 0 ? origins.join(' ') : "'none'"}`,
  );
};
