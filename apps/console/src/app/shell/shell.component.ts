import type angular from 'angular';
import type { Session } from './session.service.ts';
import template from './shell.html';

/**
 * What main shows: the page of the route for an administrator; otherwise a sign-in invitation, the
 * session being restored, or "not an administrator". The callback page always renders (it signs in).
 */
class ShellController {
  static $inject = ['session', '$location'];

  readonly session: Session;
  private readonly $location: angular.ILocationService;

  constructor(session: Session, $location: angular.ILocationService) {
    this.session = session;
    this.$location = $location;
  }

  view(): string {
    return this.$location.path() === '/callback' ? 'ready' : this.session.state();
  }
}

export const shellComponent: angular.IComponentOptions = {
  template,
  controller: ShellController,
  controllerAs: 'vm',
};
