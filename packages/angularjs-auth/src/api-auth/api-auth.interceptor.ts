import type angular from 'angular';
import {
  type ApiCredentials,
  UNAUTHENTICATED_EVENT,
  type UnauthenticatedEvent,
} from '../auth/auth.service.ts';
import { isAllowedUrl } from './allow-list.ts';
import type { ApiAuthSettings } from './api-auth.provider.ts';
import { bearerChallenge, parseWwwAuthenticate } from './www-authenticate.ts';

/** What the interceptor notes on a request it handled. */
interface ApiAuthMark {
  /** The token sent, if any. */
  readonly token: string | undefined;
  /** True on the one retry after a renewal. */
  readonly retried: boolean;
  /** The server's DPoP nonce for the one retry that uses it (RFC 9449 §9). */
  readonly nonce?: string;
}

export interface ApiRequestConfig extends angular.IRequestConfig {
  apiAuth?: ApiAuthMark;
}

/** An $http rejection from an allowed origin, with the parsed `WWW-Authenticate: Bearer` parameters. */
export interface ApiRejection extends angular.IHttpResponse<unknown> {
  readonly config: ApiRequestConfig;
  bearerChallenge?: Readonly<Record<string, string>>;
}

/**
 * Adds `Authorization: Bearer <token>` (or, for a DPoP-bound token, `Authorization: DPoP <token>` and a
 * `DPoP` proof for this very request) to requests for an allowed origin and to no other request. After
 * a 401 from one: a server asking for a DPoP nonce gets one retry with it; an invalid token is renewed
 * once and the call retried once; if that fails too, the `unauthenticated` event lets the app offer to
 * sign in again.
 */
export class ApiAuthInterceptor {
  static $inject = ['$injector', '$q', '$rootScope', '$window', 'apiAuthSettings'];

  private readonly $injector: angular.auto.IInjectorService;
  private readonly $q: angular.IQService;
  private readonly $rootScope: angular.IRootScopeService;
  private readonly $window: angular.IWindowService;
  private readonly settings: ApiAuthSettings;

  constructor(
    $injector: angular.auto.IInjectorService,
    $q: angular.IQService,
    $rootScope: angular.IRootScopeService,
    $window: angular.IWindowService,
    apiAuthSettings: ApiAuthSettings,
  ) {
    this.$injector = $injector;
    this.$q = $q;
    this.$rootScope = $rootScope;
    this.$window = $window;
    this.settings = apiAuthSettings;
  }

  request = (config: ApiRequestConfig): angular.IPromise<ApiRequestConfig> | ApiRequestConfig => {
    if (!isAllowedUrl(this.settings.allowList, config.url, this.$window.location.href)) return config;
    config.headers ??= {};
    const headers = config.headers;
    // An explicit Authorization header from the caller wins, as in angular-jwt.
    if (Object.keys(headers).some((name) => name.toLowerCase() === 'authorization')) return config;
    const retried = config.apiAuth?.retried === true;
    const nonce = config.apiAuth?.nonce;
    const url = new URL(config.url, this.$window.location.href).href;
    return this.$q
      .when(this.$injector.invoke(this.settings.tokenGetter, null, { options: config, url, nonce }))
      .then((got: string | ApiCredentials | undefined) => {
        const credentials = typeof got === 'string' ? { scheme: 'Bearer' as const, token: got } : got;
        if (credentials?.token) {
          headers['Authorization'] = `${credentials.scheme} ${credentials.token}`;
          if (credentials.proof) headers['DPoP'] = credentials.proof;
        }
        config.apiAuth = { token: credentials?.token || undefined, retried, ...(nonce ? { nonce } : {}) };
        return config;
      });
  };

  responseError = (rejection: ApiRejection): angular.IPromise<unknown> => {
    const mark = rejection.config?.apiAuth;
    if (!mark) return this.$q.reject(rejection);
    if (rejection.status === 401 || rejection.status === 403) {
      rejection.bearerChallenge = bearerChallenge(rejection.headers?.('WWW-Authenticate'));
    }
    if (rejection.status !== 401) return this.$q.reject(rejection);
    const nonce = dpopNonceAsked(rejection);
    if (nonce !== undefined && mark.token !== undefined && mark.nonce === undefined) {
      return this.retry(rejection.config, { token: undefined, retried: mark.retried, nonce });
    }
    if (mark.token === undefined) {
      return this.unauthenticated(rejection, 'signed-out', `The API answered 401: ${describe(rejection)}`);
    }
    if (mark.retried || !this.settings.tokenRenewer) {
      return this.unauthenticated(rejection, 'expired', describe(rejection));
    }
    return this.$q
      .when(this.$injector.invoke(this.settings.tokenRenewer, null, { rejectedToken: mark.token }))
      .then(
        () => this.retry(rejection.config, { token: undefined, retried: true }),
        (error: { errorDescription?: unknown } | undefined) =>
          this.unauthenticated(
            rejection,
            'expired',
            typeof error?.errorDescription === 'string'
              ? `The session could not be renewed: ${error.errorDescription}`
              : describe(rejection),
          ),
      );
  };

  private retry(config: ApiRequestConfig, apiAuth: ApiAuthMark): angular.IPromise<unknown> {
    const headers = { ...config.headers };
    for (const name of Object.keys(headers)) {
      if (['authorization', 'dpop'].includes(name.toLowerCase())) delete headers[name];
    }
    const $http = this.$injector.get<angular.IHttpService>('$http');
    const retryConfig: ApiRequestConfig = { ...config, headers, apiAuth };
    return $http(retryConfig);
  }

  private unauthenticated(
    rejection: ApiRejection,
    reason: UnauthenticatedEvent['reason'],
    description: string,
  ): angular.IPromise<never> {
    const event: UnauthenticatedEvent = { reason, description };
    this.$rootScope.$broadcast(UNAUTHENTICATED_EVENT, event);
    return this.$q.reject(rejection);
  }
}

/** RFC 9449 §9: `WWW-Authenticate: DPoP error="use_dpop_nonce"` with the nonce in `DPoP-Nonce`. */
function dpopNonceAsked(rejection: ApiRejection): string | undefined {
  const asked = parseWwwAuthenticate(rejection.headers?.('WWW-Authenticate')).some(
    (c) => c.scheme === 'dpop' && c.params['error'] === 'use_dpop_nonce',
  );
  const nonce = rejection.headers?.('DPoP-Nonce');
  return asked && typeof nonce === 'string' && nonce !== '' ? nonce : undefined;
}

function describe(rejection: ApiRejection): string {
  const fromHeader = rejection.bearerChallenge?.['error_description'];
  const data = rejection.data as { error_description?: unknown } | null | undefined;
  const fromBody = typeof data?.error_description === 'string' ? data.error_description : undefined;
  return fromHeader ?? fromBody ?? 'The API refused the access token.';
}
