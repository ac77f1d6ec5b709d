import type { AuthService } from '@calling-api/angularjs-auth';
import { type DecodedJwt, decodeJwt } from '@calling-api/angularjs-auth';
import type angular from 'angular';
import template from './token-panel.html';

/** The tutorial's checkpoint, visible: the access token decoded, and the seconds it has left. */
class TokenPanelController implements angular.IController {
  static $inject = ['auth', '$interval'];

  readonly auth: AuthService;
  private readonly $interval: angular.IIntervalService;
  private ticker: angular.IPromise<unknown> | undefined;
  private decodedFor: string | undefined;
  decoded: DecodedJwt | undefined;
  secondsLeft = 0;
  now = Date.now();

  constructor(auth: AuthService, $interval: angular.IIntervalService) {
    this.auth = auth;
    this.$interval = $interval;
  }

  $onInit(): void {
    this.tick();
    this.ticker = this.$interval(() => this.tick(), 1000);
  }

  $doCheck(): void {
    const current = this.auth.currentAccessToken();
    if (current?.token !== this.decodedFor) {
      this.decodedFor = current?.token;
      this.decoded = current ? decodeJwt(current.token) : undefined;
      this.tick();
    }
  }

  $onDestroy(): void {
    if (this.ticker) this.$interval.cancel(this.ticker);
  }

  hasToken(): boolean {
    return this.auth.currentAccessToken() !== undefined;
  }

  claim(name: string): unknown {
    return this.decoded?.payload[name];
  }

  audience(): string {
    const aud = this.claim('aud');
    return Array.isArray(aud) ? aud.join(', ') : String(aud ?? '');
  }

  permissions(): string {
    const permissions = this.claim('permissions');
    return Array.isArray(permissions)
      ? permissions.length
        ? permissions.join(' ')
        : '(none)'
      : '(claim absent)';
  }

  private tick(): void {
    const current = this.auth.currentAccessToken();
    this.now = Date.now();
    this.secondsLeft = current ? Math.max(0, Math.round((current.expiresAt - this.now) / 1000)) : 0;
  }
}

export const tokenPanelComponent: angular.IComponentOptions = {
  template,
  controller: TokenPanelController,
  controllerAs: 'vm',
};
