import type angular from 'angular';
import type { ManagementApi } from '../management/management-api.service.ts';
import { ManagementPage } from '../shared/management-page.ts';
import type { OneTimeSecret } from '../shared/one-time-secret.service.ts';
import { APP_TYPES, type Client } from '../shared/types.ts';
import template from './applications.html';

/** The tenant's applications, and "Create Application" (its secret, if any, shown once on its page). */
class ApplicationsController extends ManagementPage {
  static override $inject = ['management', 'oneTimeSecret', '$location'];

  apps: Client[] | undefined;
  readonly types = APP_TYPES;
  creating = false;
  form = { name: '', type: 'spa' as Client['app_type'] };
  private readonly secrets: OneTimeSecret;

  constructor(management: ManagementApi, oneTimeSecret: OneTimeSecret, $location: angular.ILocationService) {
    super(management, $location);
    this.secrets = oneTimeSecret;
  }

  $onInit(): void {
    this.management.get<Client[]>('clients').then((apps) => {
      this.apps = apps;
    }, this.failed);
  }

  create(form: angular.IFormController): void {
    if (form.$invalid || this.busy) return;
    void this.change(
      this.management.post<Client>('clients', { name: this.form.name.trim(), app_type: this.form.type }),
      (app) => {
        // The secret is answered this once: the application's page shows it, then it is gone.
        if (app.client_secret) this.secrets.put(app.client_id, app.client_secret);
        this.$location.path(`/applications/${app.client_id}`);
      },
    );
  }
}

export const applicationsComponent: angular.IComponentOptions = {
  template,
  controller: ApplicationsController,
  controllerAs: 'vm',
};
