import type { AuthService } from '@calling-api/angularjs-auth';
import { toSignInError } from '@calling-api/angularjs-auth';
import type angular from 'angular';
import template from './profile.html';

class ProfileController implements angular.IController {
  static $inject = ['auth'];

  readonly auth: AuthService;
  userInfo: Record<string, unknown> | undefined;
  userInfoError: string | undefined;
  loading = false;

  constructor(auth: AuthService) {
    this.auth = auth;
  }

  $onInit(): void {
    if (!this.auth.isAuthenticated()) return;
    this.loading = true;
    this.auth
      .getUserInfo()
      .then(
        (info) => {
          this.userInfo = info;
        },
        (error: unknown) => {
          const failure = toSignInError(error);
          this.userInfoError = `${failure.error}: ${failure.errorDescription}`;
        },
      )
      .finally(() => {
        this.loading = false;
      });
  }

  claims(): Readonly<Record<string, unknown>> | undefined {
    return this.auth.getProfile();
  }

  login(): void {
    this.auth.login('/profile');
  }
}

export const profileComponent: angular.IComponentOptions = {
  template,
  controller: ProfileController,
  controllerAs: 'vm',
};
