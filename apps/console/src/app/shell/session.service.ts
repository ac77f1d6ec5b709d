// Who is signed in to the console, and whether they administer the tenant: the access token's permissions
// for the Management API, which the user's role decides. The API refuses the others anyway (403).
import {
  type AuthService,
  decodeJwt,
  UNAUTHENTICATED_EVENT,
  type UnauthenticatedEvent,
} from '@calling-api/angularjs-auth';
import type angular from 'angular';
import { MANAGEMENT_SCOPES } from '../config.ts';

export type ShellState = 'restoring' | 'signed-out' | 'not-admin' | 'ready';

export class Session {
  static $inject = ['auth', '$rootScope', '$location'];

  readonly auth: AuthService;
  /** The last "sign in again" reason, until the user signs in or dismisses it. */
  notice: UnauthenticatedEvent | undefined;
  private readonly $location: angular.ILocationService;

  constructor(auth: AuthService, $rootScope: angular.IRootScopeService, $location: angular.ILocationService) {
    this.auth = auth;
    this.$location = $location;
    $rootScope.$on(UNAUTHENTICATED_EVENT, (_event, detail: UnauthenticatedEvent) => {
      this.notice = detail;
    });
  }

  state(): ShellState {
    if (this.auth.status === 'restoring') return 'restoring';
    if (!this.auth.isAuthenticated()) return 'signed-out';
    return this.permissions().length > 0 ? 'ready' : 'not-admin';
  }

  /** The Management API permissions of the current token (decoded for display; the API verifies it). */
  permissions(): string[] {
    const token = this.auth.currentAccessToken()?.token;
    const claim = token ? decodeJwt(token)?.payload['permissions'] : undefined;
    return Array.isArray(claim) ? claim.filter((p) => MANAGEMENT_SCOPES.includes(p)) : [];
  }

  email(): string {
    const profile = this.auth.getProfile();
    const email = profile?.['email'] ?? profile?.['name'] ?? profile?.['sub'];
    return typeof email === 'string' ? email : '';
  }

  login(): void {
    this.notice = undefined;
    this.auth.login(this.$location.url());
  }

  logout(): void {
    this.auth.logout();
  }
}
