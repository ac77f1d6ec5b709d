import type angular from 'angular';
import { type ManagementApi, messageOf } from '../management/management-api.service.ts';
import type { ResourceServer } from '../shared/types.ts';
import template from './apis.html';

/** The tenant's APIs, and the tutorial's "Create API": name, identifier (the audience), signing algorithm. */
class ApisController implements angular.IController {
  static $inject = ['management', '$location'];

  apis: ResourceServer[] | undefined;
  error: string | undefined;
  creating = false;
  busy = false;
  form = { name: '', identifier: '', signingAlg: 'RS256' };
  private readonly management: ManagementApi;
  private readonly $location: angular.ILocationService;

  constructor(management: ManagementApi, $location: angular.ILocationService) {
    this.management = management;
    this.$location = $location;
  }

  $onInit(): void {
    this.management.get<ResourceServer[]>('resource-servers').then(
      (apis) => {
        this.apis = apis;
      },
      (error: unknown) => {
        this.error = messageOf(error);
      },
    );
  }

  create(form: angular.IFormController): void {
    if (form.$invalid || this.busy) return;
    this.busy = true;
    this.error = undefined;
    this.management
      .post<ResourceServer>('resource-servers', {
        name: this.form.name.trim(),
        identifier: this.form.identifier.trim(),
        signing_alg: this.form.signingAlg,
        // The Messages API checks RFC 9068 tokens; Auth0's own default dialect is still one click away.
        token_dialect: 'rfc9068_profile',
      })
      .then(
        (api) => this.$location.path(`/apis/${api.id}`),
        (error: unknown) => {
          this.error = messageOf(error);
        },
      )
      .finally(() => {
        this.busy = false;
      });
  }
}

export const apisComponent: angular.IComponentOptions = {
  template,
  controller: ApisController,
  controllerAs: 'vm',
};
