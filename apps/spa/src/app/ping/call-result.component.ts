import type angular from 'angular';
import template from './call-result.html';
import type { CallResult } from './ping.service.ts';

class CallResultController {
  result: CallResult | undefined;
  showBody = false;

  isSuccess(): boolean {
    const status = this.result?.status;
    return status !== undefined && status >= 200 && status < 300;
  }
}

/** One call's outcome: status, then the message or the error, its description and the missing scope. */
export const callResultComponent: angular.IComponentOptions = {
  template,
  controller: CallResultController,
  controllerAs: 'vm',
  bindings: { result: '<' },
};
