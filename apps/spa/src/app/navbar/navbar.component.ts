import type { AuthService } from '@calling-api/angularjs-auth';
import { NavbarMenu } from '@calling-api/angularjs-shell/navbar-menu';
import type angular from 'angular';
import template from './navbar.html';

/** The navbar: Home, Profile, Ping and the session controls, folding into a Menu on a phone (NavbarMenu). */
class NavbarController extends NavbarMenu {
  static override $inject = ['auth', '$location', '$element', '$scope'];

  readonly auth: AuthService;

  constructor(
    auth: AuthService,
    $location: angular.ILocationService,
    $element: JQLite,
    $scope: angular.IScope,
  ) {
    super($location, $element, $scope);
    this.auth = auth;
  }

  email(): string {
    const profile = this.auth.getProfile();
    const email = profile?.['email'] ?? profile?.['name'] ?? profile?.['sub'];
    return typeof email === 'string' ? email : '';
  }

  login(): void {
    this.auth.login(this.$location.url());
  }

  logout(): void {
    this.auth.logout();
  }
}

export const navbarComponent: angular.IComponentOptions = {
  template,
  controller: NavbarController,
  controllerAs: 'vm',
};
