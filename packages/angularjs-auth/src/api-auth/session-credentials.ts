import type angular from 'angular';
import type { AuthService } from '../auth/auth.service.ts';
import type { ApiAuthConfig } from './api-auth.provider.ts';

/**
 * The interceptor's `tokenGetter` and `tokenRenewer` taken from this package's session (`auth`): the
 * access token, with a fresh DPoP proof for each request when the session is sender-constrained, and
 * one renewal after a 401. Apps spread it into `apiAuthProvider.config` beside their allowed origins.
 */
export const SESSION_CREDENTIALS: Pick<ApiAuthConfig, 'tokenGetter' | 'tokenRenewer'> = {
  tokenGetter: [
    'auth',
    'options',
    'url',
    'nonce',
    (auth: AuthService, options: angular.IRequestConfig, url: string, nonce: string | undefined) =>
      auth.credentialsFor(options.method, url, nonce),
  ],
  tokenRenewer: [
    'auth',
    'rejectedToken',
    (auth: AuthService, rejected: string) => auth.renewAfterRejection(rejected),
  ],
};
