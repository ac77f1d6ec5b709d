// oidc-provider's client metadata for a tenant application (Auth0's application settings, as stored).
import type { ApplicationSettings, RefreshTokenSettings } from '../tenant/tenant-schema.ts';

export type ClientMetadata = Record<string, unknown>;

// Read back by the hooks in provider.ts (refresh-token rotation, reuse interval, lifetimes).
export const EXTRA_CLIENT_PROPERTIES = [
  'web_origins',
  'first_party',
  'app_type',
  'refresh_token_rotation',
  'refresh_token_reuse_interval',
  'refresh_token_absolute_lifetime',
  'refresh_token_idle_lifetime',
] as const;

export function clientMetadata(app: ApplicationSettings): ClientMetadata {
  const base = {
    client_id: app.clientId,
    client_name: app.name,
    first_party: app.firstParty,
    app_type: app.type,
  };
  if (app.type === 'm2m') {
    return {
      ...base,
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      token_endpoint_auth_method: app.tokenEndpointAuthMethod,
    };
  }
  const rt = app.refreshToken;
  return {
    ...base,
    application_type: 'web',
    token_endpoint_auth_method: app.type === 'spa' ? 'none' : app.tokenEndpointAuthMethod,
    grant_types: rt ? ['authorization_code', 'refresh_token'] : ['authorization_code'],
    response_types: ['code'],
    redirect_uris: app.callbackUrls,
    post_logout_redirect_uris: app.logoutUrls,
    web_origins: app.type === 'spa' ? app.webOrigins : [],
    ...(rt ? refreshTokenMetadata(rt) : {}),
  };
}

// The schema has filled in every default: nothing is defaulted here.
const refreshTokenMetadata = (rt: RefreshTokenSettings) => ({
  refresh_token_rotation: rt.rotation,
  refresh_token_reuse_interval: rt.reuseIntervalSeconds,
  refresh_token_absolute_lifetime: rt.absoluteLifetime,
  refresh_token_idle_lifetime: rt.idleLifetime,
});

/** The refresh-token settings carried in a client's metadata, or undefined when it gets no refresh tokens. */
export function refreshTokenPolicy(
  metadata: ClientMetadata,
): Pick<RefreshTokenSettings, 'rotation' | 'absoluteLifetime' | 'idleLifetime'> | undefined {
  const { refresh_token_rotation: rotation, refresh_token_absolute_lifetime: absolute } = metadata;
  const idle = metadata.refresh_token_idle_lifetime;
  if (typeof rotation !== 'boolean' || typeof absolute !== 'number' || typeof idle !== 'number')
    return undefined;
  return { rotation, absoluteLifetime: absolute, idleLifetime: idle };
}
