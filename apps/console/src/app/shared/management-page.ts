import type angular from 'angular';
import { type ManagementApi, messageOf } from '../management/management-api.service.ts';

type ChangeOptions = {
  /** Said once the change has succeeded (the page's status line, read out to screen readers). */
  done?: string;
  /** Where a refusal's message goes: the page's error line unless a form shows it beside its fields. */
  refused?: (message: string) => void;
};

/**
 * What every console page does with the Management API: one change at a time (`busy` while it is
 * in flight, so its buttons are disabled), then either what was done (`saved`) or why the server
 * refused it (`error`, in Auth0's words).
 */
export abstract class ManagementPage implements angular.IController {
  error: string | undefined;
  saved: string | undefined;
  busy = false;
  protected readonly management: ManagementApi;
  protected readonly $location: angular.ILocationService;

  protected constructor(management: ManagementApi, $location: angular.ILocationService) {
    this.management = management;
    this.$location = $location;
  }

  /** A refused read: its message in the page's error line. */
  protected readonly failed = (error: unknown): void => {
    this.error = messageOf(error);
  };

  /** Makes one change, then `next` with its answer (which may load more); resolves either way. */
  protected change<T>(
    call: angular.IPromise<T>,
    next: (answer: T) => unknown,
    {
      done,
      refused = (message) => {
        this.error = message;
      },
    }: ChangeOptions = {},
  ): angular.IPromise<void> {
    this.busy = true;
    this.error = undefined;
    this.saved = undefined;
    return call
      .then(next)
      .then(
        () => {
          if (done && !this.error) this.saved = done;
        },
        (error: unknown) => refused(messageOf(error)),
      )
      .finally(() => {
        this.busy = false;
      });
  }

  /** Deletes `path`, then goes back to `list`; a refusal keeps the page, with its reason. */
  protected removeAndGo(path: string, list: string): void {
    void this.change(this.management.delete(path), () => this.$location.url(list));
  }
}
