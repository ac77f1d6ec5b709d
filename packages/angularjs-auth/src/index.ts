// @calling-api/angularjs-auth: the sign-in and the API interceptor of an AngularJS app, as two modules.
// `auth` (authProvider.init) signs in with code + PKCE and keeps tokens in this tab's memory; `apiAuth`
// (apiAuthProvider.config) sends them to allow-listed origins only. DOM-free parts have subpaths of their
// own (./allow-list, ./jwt-decode) for servers that validate an app's configuration.
export { isAllowedUrl, isLoopbackHost, parseAllowList } from './api-auth/allow-list.ts';
export type { ApiRejection, ApiRequestConfig } from './api-auth/api-auth.interceptor.ts';
export { API_AUTH_MODULE } from './api-auth/api-auth.module.ts';
export type { ApiAuthConfig, ApiAuthProvider } from './api-auth/api-auth.provider.ts';
export { SESSION_CREDENTIALS } from './api-auth/session-credentials.ts';
export { bearerChallenge, parseWwwAuthenticate } from './api-auth/www-authenticate.ts';
export { AUTH_MODULE } from './auth/auth.module.ts';
export type { AuthInitOptions, AuthProvider } from './auth/auth.provider.ts';
export {
  type ApiCredentials,
  AuthService,
  type SessionStatus,
  UNAUTHENTICATED_EVENT,
  type UnauthenticatedEvent,
} from './auth/auth.service.ts';
export { type DecodedJwt, decodeJwt } from './auth/jwt-decode.ts';
export { SignInError, toSignInError } from './auth/oidc-client.ts';
export { callbackComponent } from './callback/callback.component.ts';
