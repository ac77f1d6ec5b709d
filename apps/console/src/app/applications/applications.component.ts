import type angular from 'angular';
import { type ManagementApi, messageOf } from '../management/management-api.service.ts';
import type { OneTimeSecret } from '../shared/one-time-secret.service.ts';
import { APP_TYPES, type Client } from '../shared/types.ts';
import template from './applications.html';

class ApplicationsController implements angular.IController {
  static $inject = ['management', 'oneTimeSecret', '$location'];

  apps: Client[] | undefined;
  readonly types = APP_TYPES;
  error: string | undefined;
  creating = false;
  busy = false;
  form = { name: '', type: 'spa' as Client['app_type'] };
  private readonly management: ManagementApi;
  private readonly secrets: OneTimeSecret;
  private readonly $location: angular.ILocationService;

  constructor(management: ManagementApi, oneTimeSecret: OneTimeSecret, $location: angular.ILocationService) {
    this.management = management;
    this.secrets = oneTimeSecret;
    this.$location = $location;
  }

  $onInit(): void {
    this.management.get<Client[]>('clients').then(
      (apps) => {
        this.apps = apps;
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
      .post<Client>('clients', { name: this.form.name.trim(), app_type: this.form.type })
      .then(
        (app) => {
          // The secret is answered this once: the application's page shows it, then it is gone.
          if (app.client_secret) this.secrets.put(app.client_id, app.client_secret);
          this.$location.path(`/applications/${app.client_id}`);
        },
        (error: unknown) => {
          this.error = messageOf(error);
        },
      )
      .finally(() => {
        this.busy = false;
      });
  }
}

export const applicationsComponent: angular.IComponentOptions = {
  template,
  controller: ApplicationsController,
  controllerAs: 'vm',
};
