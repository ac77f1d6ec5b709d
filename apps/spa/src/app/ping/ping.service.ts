import type { ApiRejection } from '@calling-api/angularjs-auth';
import type angular from 'angular';
import type { SpaConfig } from '../config/spa-config.ts';

export type CallKind = 'public' | 'private' | 'scoped' | 'post';

/** What one call to the API came back with, as the Ping page shows it. */
export interface CallResult {
  readonly pending: boolean;
  readonly method?: string;
  readonly path?: string;
  readonly status?: number;
  readonly message?: string;
  readonly body?: unknown;
  readonly error?: string;
  readonly errorDescription?: string;
  readonly missingScope?: string;
  readonly at?: number;
}

const ROUTES: Record<CallKind, { readonly method: 'GET' | 'POST'; readonly path: string }> = {
  public: { method: 'GET', path: '/api/public' },
  private: { method: 'GET', path: '/api/private' },
  scoped: { method: 'GET', path: '/api/private-scoped' },
  post: { method: 'POST', path: '/api/messages' },
};

/** Calls the Messages API and keeps the last result of each call (so it survives navigation). */
export class PingService {
  static $inject = ['$http', 'spaConfig'];

  readonly results: Record<CallKind, CallResult> = {
    public: { pending: false },
    private: { pending: false },
    scoped: { pending: false },
    post: { pending: false },
  };
  private readonly $http: angular.IHttpService;
  private readonly apiUrl: string;

  constructor($http: angular.IHttpService, spaConfig: SpaConfig) {
    this.$http = $http;
    this.apiUrl = spaConfig.apiUrl.replace(/\/+$/, '');
  }

  call(kind: CallKind, text?: string): angular.IPromise<void> {
    const { method, path } = ROUTES[kind];
    this.results[kind] = { ...this.results[kind], pending: true };
    const request: angular.IRequestConfig = { method, url: `${this.apiUrl}${path}` };
    if (method === 'POST') request.data = { text: text ?? '' };
    return this.$http(request).then(
      (response) => {
        this.results[kind] = {
          pending: false,
          method,
          path,
          status: response.status,
          message: messageOf(response.data),
          body: response.data,
          at: Date.now(),
        };
      },
      (rejection: ApiRejection) => {
        this.results[kind] = { method, path, ...describeFailure(rejection), at: Date.now() };
      },
    );
  }
}

function messageOf(data: unknown): string {
  if (
    typeof data === 'object' &&
    data !== null &&
    typeof (data as { message?: unknown }).message === 'string'
  ) {
    return (data as { message: string }).message;
  }
  return JSON.stringify(data);
}

function describeFailure(rejection: ApiRejection): CallResult {
  if (rejection.status <= 0) {
    return {
      pending: false,
      status: 0,
      error: 'network_error',
      errorDescription:
        'The API could not be reached (is it running, and does its CORS policy allow this origin?).',
    };
  }
  const body = (
    typeof rejection.data === 'object' && rejection.data !== null ? rejection.data : {}
  ) as Record<string, unknown>;
  const challenge = rejection.bearerChallenge;
  const text = (value: unknown) => (typeof value === 'string' && value !== '' ? value : undefined);
  const error =
    text(body['error']) ??
    challenge?.['error'] ??
    (rejection.status === 401 ? 'unauthorized' : `http_${rejection.status}`);
  const errorDescription =
    text(body['error_description']) ?? challenge?.['error_description'] ?? rejection.statusText ?? '';
  const missingScope = rejection.status === 403 ? challenge?.['scope'] : undefined;
  return {
    pending: false,
    status: rejection.status,
    body: rejection.data,
    error,
    errorDescription,
    ...(missingScope ? { missingScope } : {}),
  };
}
