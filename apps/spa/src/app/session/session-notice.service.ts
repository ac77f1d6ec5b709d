import { UNAUTHENTICATED_EVENT, type UnauthenticatedEvent } from '@calling-api/angularjs-auth';
import type angular from 'angular';

/** Remembers the last `unauthenticated` event until the user signs in or dismisses it. */
export class SessionNoticeService {
  static $inject = ['$rootScope'];

  notice: UnauthenticatedEvent | undefined;

  constructor($rootScope: angular.IRootScopeService) {
    $rootScope.$on(UNAUTHENTICATED_EVENT, (_event, detail: UnauthenticatedEvent) => {
      this.notice = detail;
    });
  }

  dismiss(): void {
    this.notice = undefined;
  }
}
