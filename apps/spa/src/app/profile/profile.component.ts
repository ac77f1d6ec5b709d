import type { AuthService } from '@calling-api/angularjs-auth';
import { toSignInError } from '@calling-api/angularjs-auth';
import type angular from 'angular';
import template from './profile.html';

class ProfileController implements angular.IController {
  static $inject = ['auth', '$scope'];

  readonly auth: AuthService;
  userInfo: Record<string, unknown> | undefined;
  userInfoError: string | undefined;
  loading = false;
  private readonly $scope: angular.IScope;

  constructor(auth: AuthService, $scope: angular.IScope) {
    this.auth = auth;
    this.$scope = $scope;
  }

  /**
   * /userinfo is asked whenever the page has a signed-in user it has not asked for: at once, or when the
   * session is restored after a reload or a deep link (the page renders before that ends), or when the
   * user signs in in another tab. Signing out forgets the answer.
   */
  $onInit(): void {
    this.$scope.$watch(
      () => this.auth.isAuthenticated(),
      (signedIn) => {
        if (signedIn) this.load();
        else this.userInfo = this.userInfoError = undefined;
      },
    );
  }

  private load(): void {
    if (this.loading || this.userInfo) return;
    this.userInfoError = undefined;
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
