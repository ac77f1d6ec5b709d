import { NavbarMenu } from '@calling-api/angularjs-shell/navbar-menu';
import type angular from 'angular';
import type { Session } from '../shell/session.service.ts';
import template from './navbar.html';

/** The navbar: APIs, Applications, Users, Roles and the session, folding into a Menu on a phone (NavbarMenu). */
class NavbarController extends NavbarMenu {
  static override $inject = ['session', '$location', '$element', '$scope'];

  readonly session: Session;

  constructor(
    session: Session,
    $location: angular.ILocationService,
    $element: JQLite,
    $scope: angular.IScope,
  ) {
    super($location, $element, $scope);
    this.session = session;
  }
}

export const navbarComponent: angular.IComponentOptions = {
  template,
  controller: NavbarController,
  controllerAs: 'vm',
};
