import type angular from 'angular';

export type Tab = {
  readonly href: string;
  readonly label: string;
  readonly current: boolean;
  readonly test: string;
};

/** A page's sections as links (each has its own address), the current one marked for screen readers too. */
export const tabsComponent: angular.IComponentOptions = {
  bindings: { tabs: '<', label: '@' },
  controllerAs: 'vm',
  template: `
    <nav class="tabs" aria-label="{{ vm.label }}">
      <a ng-repeat="tab in vm.tabs track by tab.href" class="tabs__tab" ng-href="{{ tab.href }}" data-test="{{ tab.test }}"
        ng-class="{ 'is-current': tab.current }" ng-attr-aria-current="{{ tab.current ? 'page' : undefined }}">{{ tab.label }}</a>
    </nav>`,
};
