import type angular from 'angular';
import type { AuthService } from '../auth/auth.service.ts';
import template from './navbar.html';

class NavbarController {
  static $inject = ['auth', '$location'];

  readonly auth: AuthService;
  private readonly $location: angular.ILocationService;

  constructor(auth: AuthService, $location: angular.ILocationService) {
    this.auth = auth;
    this.$location = $location;
  }

  email(): string {
    const profile = this.auth.getProfile();
    const email = profile?.['email'] ?? profile?.['name'] ?? profile?.['sub'];
    return typeof email === 'string' ? email : '';
  }

  isActive(path: string): boolean {
    return this.$location.path() === path;
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
