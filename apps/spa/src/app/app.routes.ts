import { type RouteProvider, useHtml5Routes } from '@calling-api/angularjs-shell/routes';
import type angular from 'angular';

/** HTML5 routes (no `#!`); the static server answers index.html for each of them. */
export function configureRoutes(
  $routeProvider: RouteProvider,
  $locationProvider: angular.ILocationProvider,
): void {
  useHtml5Routes($locationProvider);
  $routeProvider
    .when('/', { template: '<home-page></home-page>' })
    .when('/profile', { template: '<profile-page></profile-page>' })
    .when('/ping', { template: '<ping-page></ping-page>' })
    .when('/callback', { template: '<callback-page></callback-page>', reloadOnSearch: false })
    .otherwise({ template: '<not-found-page></not-found-page>' });
}
configureRoutes.$inject = ['$routeProvider', '$locationProvider'];
