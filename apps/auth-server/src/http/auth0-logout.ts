// Auth0's GET /v2/logout?client_id=…&returnTo=…[&federated]: signs the user out without asking and returns to
// returnTo when it is one of the application's allowed logout URLs; anything else is refused with a page.
// `federated` (sign out of the upstream identity provider too) is accepted and ignored: there is none.
import type { TenantView } from '../tenant/tenant-snapshot.ts';

export type Auth0LogoutDecision = { ok: true; endSessionPath: string } | { ok: false; message: string };

/** Auth0 treats `https://app.example.com` and `https://app.example.com/` as the same logout URL. */
const normalise = (url: string): string | undefined => (URL.canParse(url) ? new URL(url).href : undefined);

export function auth0Logout(query: Record<string, unknown>, tenant: TenantView): Auth0LogoutDecision {
  for (const name of ['client_id', 'returnTo']) {
    if (query[name] !== undefined && typeof query[name] !== 'string')
      return { ok: false, message: `The sign-out request gives ${name} more than once.` };
  }
  const clientId =
    typeof query.client_id === 'string' && query.client_id !== '' ? query.client_id : undefined;
  const returnTo = typeof query.returnTo === 'string' && query.returnTo !== '' ? query.returnTo : undefined;
  const target = new URLSearchParams();
  if (clientId === undefined) {
    if (returnTo !== undefined) {
      return {
        ok: false,
        message:
          'A returnTo address needs the client_id of the application that lists it as an allowed logout URL.',
      };
    }
    return { ok: true, endSessionPath: `/oidc/logout` };
  }
  const client = tenant.application(clientId);
  if (!client)
    return { ok: false, message: 'The application asking for the sign-out is not registered here.' };
  const allowed = client.type === 'm2m' ? [] : client.logoutUrls;
  // Without returnTo Auth0 returns to the application's first allowed logout URL.
  const registered =
    returnTo === undefined ? allowed[0] : allowed.find((url) => normalise(url) === normalise(returnTo));
  if (returnTo !== undefined && registered === undefined) {
    return {
      ok: false,
      message: `The address to return to is not an allowed logout URL of ${client.name}. Add it to the application's logout URLs.`,
    };
  }
  target.set('client_id', clientId);
  if (registered !== undefined) target.set('post_logout_redirect_uri', registered);
  return { ok: true, endSessionPath: `/oidc/logout?${target}` };
}
