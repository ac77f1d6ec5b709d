import type angular from 'angular';
import { UNAUTHENTICATED_EVENT, type UnauthenticatedEvent } from '../auth/auth.service.ts';
import { isAllowedUrl } from './allow-list.ts';
import type { ApiAuthSettings } from './api-auth.provider.ts';
import { bearerChallenge } from './www-authenticate.ts';

/** What the interceptor notes on a request it handled. */
interface ApiAuthMark {
  /** The token sent, if any. */
  readonly token: string | undefined;
  /** True on the one retry after a renewal. */
  readonly retried: boolean;
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
 * Adds `Authorization: Bearer` to requests for an allowed origin and to no other request; after
 * a 401 from one, renews the token once and retries the call once; if that fails too, raises
 * the `unauthenticated` event so the app can offer to sign in again.
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
    return this.$q
      .when(this.$injector.invoke(this.settings.tokenGetter, null, { options: config }))
      .then((token: string | undefined) => {
        if (token) headers['Authorization'] = `Bearer ${token}`;
        config.apiAuth = { token: token || undefined, retried };
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
    if (mark.token === undefined) {
      return this.unauthenticated(rejection, 'signed-out', `The API answered 401: ${describe(rejection)}`);
    }
    if (mark.retried || !this.settings.tokenRenewer) {
      return this.unauthenticated(rejection, 'expired', describe(rejection));
    }
    return this.$q
      .when(this.$injector.invoke(this.settings.tokenRenewer, null, { rejectedToken: mark.token }))
      .then(
        () => this.retry(rejection.config),
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

  private retry(config: ApiRequestConfig): angular.IPromise<unknown> {
    const headers = { ...config.headers };
    for (const name of Object.keys(headers)) if (name.toLowerCase() === 'authorization') delete headers[name];
    const $http = this.$injector.get<angular.IHttpService>('$http');
    const retryConfig: ApiRequestConfig = {
      ...config,
      headers,
      apiAuth: { token: undefined, retried: true },
    };
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

function describe(rejection: ApiRejection): string {
  const fromHeader = rejection.bearerChallenge?.['error_description'];
  const data = rejection.data as { error_description?: unknown } | null | undefined;
  const fromBody = typeof data?.error_description === 'string' ? data.error_description : undefined;
  return fromHeader ?? fromBody ?? 'The API refused the access token.';
}
