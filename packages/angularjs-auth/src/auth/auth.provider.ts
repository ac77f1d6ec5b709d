import type angular from 'angular';
import { AuthService } from './auth.service.ts';
import type { OidcClientOptions } from './oidc-client.ts';

/** What `authProvider.init` takes, as the tutorial's `angularAuth0Provider.init` did. */
export interface AuthInitOptions {
  /** Issuer URL (any OIDC provider), or ... */
  readonly issuer?: string;
  /** ... an Auth0 domain (`tenant.eu.auth0.com`; the issuer is `https://<domain>/`). */
  readonly domain?: string;
  readonly clientId: string;
  /** API identifier: sent as `audience`, the access token's `aud`. */
  readonly audience: string;
  readonly scope: string;
  readonly redirectUri: string;
  /** Where the authorization server returns after logout; default: the redirect URI's origin. */
  readonly postLogoutRedirectUri?: string;
  /** Bind tokens to a per-page DPoP key when the server offers DPoP (default true). */
  readonly dpop?: boolean;
}

export class AuthProvider implements angular.IServiceProvider {
  private options: OidcClientOptions | undefined;

  init(options: AuthInitOptions): void {
    if ((options.issuer === undefined) === (options.domain === undefined)) {
      throw new Error('authProvider.init: give exactly one of `issuer` and `domain`');
    }
    for (const key of ['clientId', 'audience', 'scope', 'redirectUri'] as const) {
      if (typeof options[key] !== 'string' || options[key] === '')
        throw new Error(`authProvider.init: ${key} is required`);
    }
    if (!options.scope.split(' ').includes('openid'))
      throw new Error('authProvider.init: scope must include openid');
    const issuer = options.issuer ?? `https://${options.domain}/`;
    this.options = {
      issuer,
      clientId: options.clientId,
      audience: options.audience,
      scope: options.scope,
      redirectUri: options.redirectUri,
      postLogoutRedirectUri: options.postLogoutRedirectUri ?? `${new URL(options.redirectUri).origin}/`,
      dpop: options.dpop ?? true,
      ...(options.domain ? { auth0Domain: options.domain } : {}),
    };
  }

  $get = [
    '$injector',
    ($injector: angular.auto.IInjectorService): AuthService => {
      if (!this.options) throw new Error('authProvider.init(...) was not called in a config block');
      return $injector.instantiate(AuthService, { authOptions: this.options });
    },
  ];
}
