import type angular from 'angular';

/** The part of ngRoute's $routeProvider used here (angular-route ships no types). */
export interface RouteProvider {
  when(path: string, route: { template: string; reloadOnSearch?: boolean }): RouteProvider;
  otherwise(route: { template: string }): RouteProvider;
}

/** HTML5 routes (no `#!`); the static server answers index.html for each of them. */
export function configureRoutes(
  $routeProvider: RouteProvider,
  $locationProvider: angular.ILocationProvider,
): void {
  // requireBase: false, because the CSP's `base-uri 'none'` forbids a <base> element.
  $locationProvider.html5Mode({ enabled: true, requireBase: false });
  $routeProvider
    .when('/', { template: '<home-page></home-page>' })
    .when('/profile', { template: '<profile-page></profile-page>' })
    .when('/ping', { template: '<ping-page></ping-page>' })
    .when('/callback', { template: '<callback-page></callback-page>', reloadOnSearch: false })
    .otherwise({ template: '<not-found-page></not-found-page>' });
}
configureRoutes.$inject = ['$routeProvider', '$locationProvider'];
