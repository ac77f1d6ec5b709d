import type angular from 'angular';
import { type ManagementApi, segment } from '../management/management-api.service.ts';
import { ManagementPage } from '../shared/management-page.ts';
import type { OneTimeSecret } from '../shared/one-time-secret.service.ts';
import { APP_TYPES, type Client } from '../shared/types.ts';
import template from './application.html';

const lines = (text: string): string[] =>
  text
    .split(/[\s,]+/)
    .map((s) => s.trim())
    .filter((s) => s !== '');

/** One application: its URLs, grant types and type; its secret rotated and shown once. */
class ApplicationController extends ManagementPage {
  static override $inject = ['management', 'oneTimeSecret', '$routeParams', '$location'];

  app: Client | undefined;
  readonly types = APP_TYPES;
  /** A secret just made (creation, rotation, a change of type): shown until the page is left. */
  secret: string | undefined;
  confirming: 'rotate' | 'delete' | undefined;
  form = {
    name: '',
    type: 'spa' as Client['app_type'],
    callbacks: '',
    logoutUrls: '',
    webOrigins: '',
    refresh: true,
  };
  private readonly id: string;

  constructor(
    management: ManagementApi,
    oneTimeSecret: OneTimeSecret,
    $routeParams: Record<string, string>,
    $location: angular.ILocationService,
  ) {
    super(management, $location);
    this.id = $routeParams['id']!;
    this.secret = oneTimeSecret.take(this.id);
  }

  $onInit(): void {
    this.management.get<Client>(`clients/${segment(this.id)}`).then((app) => this.show(app), this.failed);
  }

  get interactive(): boolean {
    return this.form.type !== 'non_interactive';
  }

  private show(app: Client): void {
    this.app = app;
    if (app.client_secret) this.secret = app.client_secret;
    this.form = {
      name: app.name,
      type: app.app_type,
      callbacks: app.callbacks.join('\n'),
      logoutUrls: app.allowed_logout_urls.join('\n'),
      webOrigins: app.web_origins.join('\n'),
      refresh: app.grant_types.includes('refresh_token'),
    };
  }

  save(form: angular.IFormController): void {
    if (form.$invalid || this.busy) return;
    const f = this.form;
    const body: Record<string, unknown> = { name: f.name.trim(), app_type: f.type };
    if (f.type === 'non_interactive') body['grant_types'] = ['client_credentials'];
    else {
      body['callbacks'] = lines(f.callbacks);
      body['allowed_logout_urls'] = lines(f.logoutUrls);
      body['grant_types'] = ['authorization_code', ...(f.refresh ? ['refresh_token'] : [])];
      body['web_origins'] = f.type === 'spa' ? lines(f.webOrigins) : [];
    }
    this.run(this.management.patch<Client>(`clients/${segment(this.id)}`, body), 'Changes saved.');
  }

  rotate(): void {
    this.confirming = undefined;
    this.run(
      this.management.post<Client>(`clients/${segment(this.id)}/rotate-secret`),
      'A new secret was made.',
    );
  }

  remove(): void {
    this.removeAndGo(`clients/${segment(this.id)}`, '/applications');
  }

  private run(call: angular.IPromise<Client>, done: string): void {
    void this.change(call, (app) => this.show(app), { done });
  }
}

export const applicationComponent: angular.IComponentOptions = {
  template,
  controller: ApplicationController,
  controllerAs: 'vm',
};
