import type angular from 'angular';

/**
 * After a navigation inside the app, focus moves to the new page's heading, as a page load would
 * start a keyboard or screen-reader user at the top, instead of staying on a link that the
 * closed navbar menu now hides. The first route is a page load: the browser's own focus stays.
 */
export function focusHeadingOnRouteChange(
  $rootScope: angular.IRootScopeService,
  $timeout: angular.ITimeoutService,
): void {
  let pageLoad = true;
  $rootScope.$on('$routeChangeSuccess', () => {
    if (pageLoad) {
      pageLoad = false;
      return;
    }
    // After the view has rendered (this digest), without another digest.
    $timeout(
      () => {
        const heading = document.querySelector<HTMLElement>('main h1');
        if (!heading) return;
        heading.setAttribute('tabindex', '-1');
        heading.focus();
      },
      0,
      false,
    );
  });
}
focusHeadingOnRouteChange.$inject = ['$rootScope', '$timeout'];
