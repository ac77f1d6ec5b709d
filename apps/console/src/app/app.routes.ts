import { type RouteProvider, useHtml5Routes } from '@calling-api/angularjs-shell/routes';
import type angular from 'angular';

/** The dashboard's pages as HTML5 routes; the static server answers index.html for each. */
export function configureRoutes(
  $routeProvider: RouteProvider,
  $locationProvider: angular.ILocationProvider,
): void {
  useHtml5Routes($locationProvider);
  $routeProvider
    .when('/', { redirectTo: '/apis' })
    .when('/apis', { template: '<apis-page></apis-page>' })
    .when('/apis/:id', { template: '<api-page tab="settings"></api-page>' })
    .when('/apis/:id/permissions', { template: '<api-page tab="permissions"></api-page>' })
    .when('/applications', { template: '<applications-page></applications-page>' })
    .when('/applications/:id', { template: '<application-page></application-page>' })
    .when('/users', { template: '<users-page></users-page>', reloadOnSearch: false })
    .when('/users/:id', { template: '<user-page></user-page>' })
    .when('/roles', { template: '<roles-page></roles-page>' })
    .when('/roles/:id', { template: '<role-page tab="settings"></role-page>' })
    .when('/roles/:id/permissions', { template: '<role-page tab="permissions"></role-page>' })
    .when('/roles/:id/users', { template: '<role-page tab="users"></role-page>' })
    .when('/callback', { template: '<callback-page></callback-page>', reloadOnSearch: false })
    .otherwise({ template: '<not-found-page></not-found-page>' });
}
configureRoutes.$inject = ['$routeProvider', '$locationProvider'];
