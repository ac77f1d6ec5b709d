import type { AuthService } from '@calling-api/angularjs-auth';
import type angular from 'angular';
import template from './session-expired.html';
import type { SessionNoticeService } from './session-notice.service.ts';

class SessionExpiredController {
  static $inject = ['auth', 'sessionNotice', '$location'];

  readonly notice: SessionNoticeService;
  readonly auth: AuthService;
  private readonly $location: angular.ILocationService;

  constructor(auth: AuthService, sessionNotice: SessionNoticeService, $location: angular.ILocationService) {
    this.auth = auth;
    this.notice = sessionNotice;
    this.$location = $location;
  }

  signIn(): void {
    this.notice.dismiss();
    this.auth.login(this.$location.url());
  }
}

export const sessionExpiredComponent: angular.IComponentOptions = {
  template,
  controller: SessionExpiredController,
  controllerAs: 'vm',
};
