import type { AuthService } from '@calling-api/angularjs-auth';
import type angular from 'angular';
import template from './ping.html';
import type { CallKind, PingService } from './ping.service.ts';

class PingController {
  static $inject = ['auth', 'ping'];

  readonly auth: AuthService;
  readonly ping: PingService;
  messageText = 'Hello from the AngularJS app';

  constructor(auth: AuthService, ping: PingService) {
    this.auth = auth;
    this.ping = ping;
  }

  call(kind: CallKind): void {
    this.ping.call(kind);
  }

  post(): void {
    this.ping.call('post', this.messageText);
  }

  login(): void {
    this.auth.login('/ping');
  }
}

export const pingComponent: angular.IComponentOptions = {
  template,
  controller: PingController,
  controllerAs: 'vm',
};
