import type angular from 'angular';
import { type ManagementApi, segment } from '../management/management-api.service.ts';
import { ManagementPage } from '../shared/management-page.ts';
import type { Tab } from '../shared/tabs.component.ts';
import type { ResourceServer } from '../shared/types.ts';
import template from './api.html';

type Dialect = ResourceServer['token_dialect'];

/** One API: its settings (RBAC and "Add Permissions in the Access Token" among them) and its permissions. */
class ApiController extends ManagementPage {
  static override $inject = ['management', '$routeParams', '$location'];

  tab!: 'settings' | 'permissions';
  api: ResourceServer | undefined;
  tabs: Tab[] = [];
  confirmingDelete = false;
  settings = {
    name: '',
    tokenLifetime: 86400,
    shape: 'rfc9068_profile' as 'rfc9068_profile' | 'access_token',
    rbac: false,
    permissionsInToken: false,
    offline: false,
    dpop: 'allowed' as 'off' | 'allowed' | 'required',
  };
  permission = { value: '', description: '' };
  private readonly id: string;

  constructor(
    management: ManagementApi,
    $routeParams: Record<string, string>,
    $location: angular.ILocationService,
  ) {
    super(management, $location);
    this.id = $routeParams['id']!;
  }

  $onInit(): void {
    const base = `/apis/${segment(this.id)}`;
    this.tabs = [
      { href: base, label: 'Settings', current: this.tab === 'settings', test: 'tab-settings' },
      {
        href: `${base}/permissions`,
        label: 'Permissions',
        current: this.tab === 'permissions',
        test: 'tab-permissions',
      },
    ];
    this.management
      .get<ResourceServer>(`resource-servers/${segment(this.id)}`)
      .then((api) => this.show(api), this.failed);
  }

  private show(api: ResourceServer): void {
    this.api = api;
    this.settings = {
      name: api.name,
      tokenLifetime: api.token_lifetime,
      shape: api.token_dialect.startsWith('rfc9068') ? 'rfc9068_profile' : 'access_token',
      rbac: api.enforce_policies,
      permissionsInToken: api.token_dialect.endsWith('_authz'),
      offline: api.allow_offline_access,
      dpop:
        api.proof_of_possession === null ? 'off' : api.proof_of_possession.required ? 'required' : 'allowed',
    };
  }

  /** Saves a change and shows what the server made of it; `done` is said to screen readers. */
  private save(body: Record<string, unknown>, done: string): angular.IPromise<void> {
    return this.change(
      this.management.patch<ResourceServer>(`resource-servers/${segment(this.id)}`, body),
      (api) => this.show(api),
      { done },
    );
  }

  saveSettings(form: angular.IFormController): void {
    if (form.$invalid || this.busy) return;
    const s = this.settings;
    // Auth0 keeps "Add Permissions in the Access Token" in the token dialect's _authz half.
    const dialect = `${s.shape}${s.rbac && s.permissionsInToken ? '_authz' : ''}` as Dialect;
    void this.save(
      {
        name: s.name.trim(),
        token_lifetime: s.tokenLifetime,
        token_dialect: dialect,
        enforce_policies: s.rbac,
        allow_offline_access: s.offline,
        proof_of_possession: s.dpop === 'off' ? null : { mechanism: 'dpop', required: s.dpop === 'required' },
      },
      'Settings saved.',
    );
  }

  addPermission(form: angular.IFormController): void {
    if (form.$invalid || this.busy || !this.api) return;
    const value = this.permission.value.trim();
    const scopes = [
      ...this.api.scopes.filter((s) => s.value !== value),
      { value, description: this.permission.description.trim() },
    ];
    void this.save({ scopes }, `Permission ${value} added.`).then(() => {
      if (this.error) return;
      this.permission = { value: '', description: '' };
      form.$setPristine();
      form.$setUntouched();
    });
  }

  removePermission(value: string): void {
    if (!this.api || this.busy) return;
    void this.save(
      { scopes: this.api.scopes.filter((s) => s.value !== value) },
      `Permission ${value} removed.`,
    );
  }

  remove(): void {
    this.removeAndGo(`resource-servers/${segment(this.id)}`, '/apis');
  }
}

export const apiComponent: angular.IComponentOptions = {
  template,
  bindings: { tab: '@' },
  controller: ApiController,
  controllerAs: 'vm',
};
