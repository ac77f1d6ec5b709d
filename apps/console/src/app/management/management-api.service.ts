// The console's only back end: the Management API, through $http (and so through the apiAuth interceptor,
// which adds the token and its DPoP proof). A refusal becomes a ManagementFailure with Auth0's message.
import type angular from 'angular';

export class ManagementFailure extends Error {
  override name = 'ManagementFailure';
  readonly status: number;
  readonly errorCode: string | undefined;
  constructor(status: number, message: string, errorCode?: string) {
    super(message);
    this.status = status;
    this.errorCode = errorCode;
  }
}

function failureOf(rejection: angular.IHttpResponse<unknown>): ManagementFailure {
  const body = rejection.data as { message?: unknown; errorCode?: unknown } | null | undefined;
  if (rejection.status <= 0)
    return new ManagementFailure(
      0,
      'The authorization server could not be reached. Check that it is running.',
    );
  const message =
    typeof body?.message === 'string' ? body.message : `The server answered ${rejection.status}.`;
  return new ManagementFailure(
    rejection.status,
    rejection.status === 403 ? `Not allowed: ${message}` : message,
    typeof body?.errorCode === 'string' ? body.errorCode : undefined,
  );
}

/** A path segment: ids such as `auth0|abc` or an API identifier travel encoded. */
export const segment = (id: string): string => encodeURIComponent(id);

export class ManagementApi {
  static $inject = ['$http', '$q', 'managementApiUrl'];

  private readonly $http: angular.IHttpService;
  private readonly $q: angular.IQService;
  private readonly base: string;

  constructor($http: angular.IHttpService, $q: angular.IQService, managementApiUrl: string) {
    this.$http = $http;
    this.$q = $q;
    this.base = managementApiUrl;
  }

  request<T>(
    method: string,
    path: string,
    data?: unknown,
    params?: Record<string, unknown>,
  ): angular.IPromise<T> {
    return this.$http<T>({
      method,
      url: `${this.base}${path}`,
      ...(data === undefined ? {} : { data, headers: { 'Content-Type': 'application/json' } }),
      ...(params ? { params } : {}),
    }).then(
      (response) => response.data,
      (rejection: angular.IHttpResponse<unknown>) => this.$q.reject(failureOf(rejection)),
    );
  }

  get<T>(path: string, params?: Record<string, unknown>): angular.IPromise<T> {
    return this.request<T>('GET', path, undefined, params);
  }

  post<T>(path: string, data: unknown = {}): angular.IPromise<T> {
    return this.request<T>('POST', path, data);
  }

  patch<T>(path: string, data: unknown): angular.IPromise<T> {
    return this.request<T>('PATCH', path, data);
  }

  delete(path: string, data?: unknown): angular.IPromise<void> {
    return this.request<void>('DELETE', path, data);
  }
}

/** What a page shows after a failed call: the server's message, or what went wrong on the way. */
export const messageOf = (error: unknown): string =>
  error instanceof ManagementFailure ? error.message : error instanceof Error ? error.message : String(error);
