import type angular from 'angular';

/** The part of ngRoute's $routeProvider the apps use (angular-route ships no types). */
export interface RouteProvider {
  when(
    path: string,
    route: { template?: string; redirectTo?: string; reloadOnSearch?: boolean },
  ): RouteProvider;
  otherwise(route: { template: string }): RouteProvider;
}

/** HTML5 routes (no `#!`): the static server answers index.html for each of them. */
export function useHtml5Routes($locationProvider: angular.ILocationProvider): void {
  // requireBase: false, because the CSP's `base-uri 'none'` forbids a <base> element.
  $locationProvider.html5Mode({ enabled: true, requireBase: false });
}
