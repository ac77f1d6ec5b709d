import type angular from 'angular';
import { type ManagementApi, segment } from '../management/management-api.service.ts';
import { ManagementPage } from '../shared/management-page.ts';
import type { Tab } from '../shared/tabs.component.ts';
import type { Permission, ResourceServer, Role, User } from '../shared/types.ts';
import template from './role.html';

/** One role: its description, its permissions (chosen from an API's), and its users. */
class RoleController extends ManagementPage {
  static override $inject = ['management', '$routeParams', '$location'];

  tab!: 'settings' | 'permissions' | 'users';
  role: Role | undefined;
  tabs: Tab[] = [];
  permissions: Permission[] = [];
  apis: ResourceServer[] = [];
  members: User[] = [];
  chosenApi = '';
  chosen: Record<string, boolean> = {};
  memberEmail = '';
  description = '';
  confirmingDelete = false;
  private readonly path: string;

  constructor(
    management: ManagementApi,
    $routeParams: Record<string, string>,
    $location: angular.ILocationService,
  ) {
    super(management, $location);
    this.path = `roles/${segment($routeParams['id']!)}`;
  }

  $onInit(): void {
    const base = `/${this.path}`;
    this.tabs = [
      { href: base, label: 'Settings', current: this.tab === 'settings', test: 'tab-settings' },
      {
        href: `${base}/permissions`,
        label: 'Permissions',
        current: this.tab === 'permissions',
        test: 'tab-permissions',
      },
      { href: `${base}/users`, label: 'Users', current: this.tab === 'users', test: 'tab-users' },
    ];
    this.management.get<Role>(this.path).then((role) => {
      this.role = role;
      this.description = role.description;
      if (this.tab === 'permissions') this.loadPermissions();
      if (this.tab === 'users') this.loadMembers();
    }, this.failed);
  }

  private loadPermissions(): angular.IPromise<void> {
    return this.management.get<Permission[]>(`${this.path}/permissions`).then((permissions) => {
      this.permissions = permissions;
      if (this.apis.length > 0) return;
      return this.management.get<ResourceServer[]>('resource-servers').then((apis) => {
        this.apis = apis.filter((a) => a.scopes.length > 0);
        this.chosenApi = this.apis.find((a) => !a.is_system)?.identifier ?? this.apis[0]?.identifier ?? '';
      });
    }, this.failed);
  }

  private loadMembers(): angular.IPromise<void> {
    return this.management.get<User[]>(`${this.path}/users`).then((users) => {
      this.members = users;
    }, this.failed);
  }

  /** The chosen API's permissions that the role does not have yet. */
  available(): ResourceServer['scopes'] {
    const api = this.apis.find((a) => a.identifier === this.chosenApi);
    return (api?.scopes ?? []).filter(
      (s) =>
        !this.permissions.some(
          (p) => p.resource_server_identifier === this.chosenApi && p.permission_name === s.value,
        ),
    );
  }

  private run(call: angular.IPromise<unknown>, done: string, reload: () => angular.IPromise<void>): void {
    void this.change(call, reload, { done });
  }

  saveDescription(): void {
    this.run(
      this.management.patch<Role>(this.path, { description: this.description.trim() }).then((role) => {
        this.role = role;
      }),
      'Description saved.',
      () => this.management.get<Role>(this.path).then(() => undefined),
    );
  }

  addPermissions(): void {
    const names = this.available()
      .map((s) => s.value)
      .filter((value) => this.chosen[value]);
    if (names.length === 0) {
      this.error = 'Tick at least one permission to add.';
      return;
    }
    const permissions = names.map((permission_name) => ({
      resource_server_identifier: this.chosenApi,
      permission_name,
    }));
    this.chosen = {};
    this.run(
      this.management.post(`${this.path}/permissions`, { permissions }),
      `Added ${names.join(', ')}.`,
      () => this.loadPermissions(),
    );
  }

  removePermission(p: Permission): void {
    const permissions = [
      { resource_server_identifier: p.resource_server_identifier, permission_name: p.permission_name },
    ];
    this.run(
      this.management.delete(`${this.path}/permissions`, { permissions }),
      `Removed ${p.permission_name}.`,
      () => this.loadPermissions(),
    );
  }

  addMember(form: angular.IFormController): void {
    if (form.$invalid || this.busy || !this.role) return;
    const email = this.memberEmail.trim();
    this.run(
      this.management.get<User[]>('users-by-email', { email }).then((found) => {
        if (!found[0]) throw new Error(`There is no user with email ${email}.`);
        return this.management.post(`${this.path}/users`, { users: [found[0].user_id] });
      }),
      `${email} now has this role.`,
      () => {
        this.memberEmail = '';
        form.$setPristine();
        return this.loadMembers();
      },
    );
  }

  removeMember(user: User): void {
    const roles = [this.role!.id];
    this.run(
      this.management.delete(`users/${segment(user.user_id)}/roles`, { roles }),
      `${user.email} no longer has this role.`,
      () => this.loadMembers(),
    );
  }

  remove(): void {
    this.removeAndGo(this.path, '/roles');
  }
}

export const roleComponent: angular.IComponentOptions = {
  template,
  bindings: { tab: '@' },
  controller: RoleController,
  controllerAs: 'vm',
};
