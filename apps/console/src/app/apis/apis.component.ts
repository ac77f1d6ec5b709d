import type angular from 'angular';
import type { ManagementApi } from '../management/management-api.service.ts';
import { ManagementPage } from '../shared/management-page.ts';
import type { ResourceServer } from '../shared/types.ts';
import template from './apis.html';

/** The tenant's APIs, and the tutorial's "Create API": name, identifier (the audience), signing algorithm. */
class ApisController extends ManagementPage {
  static override $inject = ['management', '$location'];

  apis: ResourceServer[] | undefined;
  creating = false;
  form = { name: '', identifier: '', signingAlg: 'RS256' };

  constructor(management: ManagementApi, $location: angular.ILocationService) {
    super(management, $location);
  }

  $onInit(): void {
    this.management.get<ResourceServer[]>('resource-servers').then((apis) => {
      this.apis = apis;
    }, this.failed);
  }

  create(form: angular.IFormController): void {
    if (form.$invalid || this.busy) return;
    void this.change(
      this.management.post<ResourceServer>('resource-servers', {
        name: this.form.name.trim(),
        identifier: this.form.identifier.trim(),
        signing_alg: this.form.signingAlg,
        // The Messages API checks RFC 9068 tokens; Auth0's own default dialect is still one click away.
        token_dialect: 'rfc9068_profile',
      }),
      (api) => this.$location.path(`/apis/${api.id}`),
    );
  }
}

export const apisComponent: angular.IComponentOptions = {
  template,
  controller: ApisController,
  controllerAs: 'vm',
};
