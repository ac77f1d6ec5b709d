import type angular from 'angular';
import type { AuthService } from '../auth/auth.service.ts';
import { toSignInError } from '../auth/oidc-client.ts';
import template from './callback.html';

/**
 * The page at the redirect URI (register it as `callbackPage` on the route `/callback`): finishes the sign-in
 * and goes back where it started, or says why it failed (a fixed message when this tab started no sign-in).
 */
class CallbackController implements angular.IController {
  static $inject = ['auth', '$location'];

  readonly auth: AuthService;
  private readonly $location: angular.ILocationService;
  error: string | undefined;
  errorDescription: string | undefined;

  constructor(auth: AuthService, $location: angular.ILocationService) {
    this.auth = auth;
    this.$location = $location;
  }

  $onInit(): void {
    this.auth.handleRedirectCallback().then(
      (returnTo) => {
        // Replace the history entry so the used code and state do not stay in it.
        this.$location.url(returnTo).replace();
      },
      (error: unknown) => {
        const failure = toSignInError(error);
        this.error = failure.error;
        this.errorDescription = failure.errorDescription;
        this.$location.search({}).replace();
      },
    );
  }

  retry(): void {
    this.auth.login('/');
  }
}

export const callbackComponent: angular.IComponentOptions = {
  template,
  controller: CallbackController,
  controllerAs: 'vm',
};
