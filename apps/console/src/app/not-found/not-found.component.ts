import type angular from 'angular';
import template from './not-found.html';

class NotFoundController {
  static $inject = ['$location'];

  readonly path: string;

  constructor($location: angular.ILocationService) {
    this.path = $location.path();
  }
}

export const notFoundComponent: angular.IComponentOptions = {
  template,
  controller: NotFoundController,
  controllerAs: 'vm',
};
