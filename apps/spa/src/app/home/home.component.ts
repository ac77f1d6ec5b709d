import type { AuthService } from '@calling-api/angularjs-auth';
import type angular from 'angular';
import template from './home.html';

class HomeController {
  static $inject = ['auth'];

  readonly auth: AuthService;

  constructor(auth: AuthService) {
    this.auth = auth;
  }

  login(): void {
    this.auth.login('/ping');
  }
}

export const homeComponent: angular.IComponentOptions = {
  template,
  controller: HomeController,
  controllerAs: 'vm',
};
