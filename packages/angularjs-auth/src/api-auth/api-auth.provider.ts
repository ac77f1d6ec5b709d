import type angular from 'angular';
import type { ApiCredentials } from '../auth/auth.service.ts';
import { type AllowedOrigin, parseAllowList } from './allow-list.ts';
import { ApiAuthInterceptor } from './api-auth.interceptor.ts';

/** An injectable function (array annotation), as angular-jwt's `tokenGetter` is. */
export type Injectable<T> = (string | ((...args: never[]) => T))[];

/** What `apiAuthProvider.config` takes, as the tutorial's `jwtOptionsProvider.config` did. */
export interface ApiAuthConfig {
  /**
   * Resolves the access token (sent as `Bearer`), or credentials with their scheme and a DPoP proof, or
   * undefined when signed out. Locals: `options` (the request config), `url` (absolute), `nonce` (a DPoP
   * nonce the server asked for, on the one retry that sends it).
   */
  readonly tokenGetter: Injectable<
    string | ApiCredentials | undefined | PromiseLike<string | ApiCredentials | undefined>
  >;
  /** After a 401: resolves a renewed token. Locals: `rejectedToken`. Omit to never retry. */
  readonly tokenRenewer?: Injectable<PromiseLike<string>>;
  /** Origins (`https://api.example.com`, `http://localhost:3001/api`) whose requests get the token. */
  readonly allowedOrigins: readonly string[];
}

export interface ApiAuthSettings {
  readonly tokenGetter: ApiAuthConfig['tokenGetter'];
  readonly tokenRenewer: ApiAuthConfig['tokenRenewer'];
  readonly allowList: readonly AllowedOrigin[];
}

export class ApiAuthProvider implements angular.IServiceProvider {
  private settings: ApiAuthSettings | undefined;

  /** Throws at configuration time on an entry that would leak the token (see allow-list.ts). */
  config(config: ApiAuthConfig): void {
    this.settings = {
      tokenGetter: config.tokenGetter,
      tokenRenewer: config.tokenRenewer,
      allowList: parseAllowList(config.allowedOrigins),
    };
  }

  $get = [
    '$injector',
    ($injector: angular.auto.IInjectorService): ApiAuthInterceptor => {
      if (!this.settings) throw new Error('apiAuthProvider.config(...) was not called in a config block');
      return $injector.instantiate(ApiAuthInterceptor, { apiAuthSettings: this.settings });
    },
  ];
}
