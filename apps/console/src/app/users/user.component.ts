import type angular from 'angular';
import { type ManagementApi, segment } from '../management/management-api.service.ts';
import { ManagementPage } from '../shared/management-page.ts';
import type { Permission, Role, User } from '../shared/types.ts';
import template from './user.html';

/** One user: blocked or not, their roles (assign, remove) and the permissions those give. */
class UserController extends ManagementPage {
  static override $inject = ['management', '$routeParams', '$location', '$q'];

  user: User | undefined;
  roles: Role[] = [];
  allRoles: Role[] = [];
  permissions: Permission[] = [];
  chosenRole = '';
  confirmingDelete = false;
  private readonly path: string;
  private readonly $q: angular.IQService;

  constructor(
    management: ManagementApi,
    $routeParams: Record<string, string>,
    $location: angular.ILocationService,
    $q: angular.IQService,
  ) {
    super(management, $location);
    this.path = `users/${segment($routeParams['id']!)}`;
    this.$q = $q;
  }

  $onInit(): void {
    this.management.get<User>(this.path).then((user) => {
      this.user = user;
      this.loadRoles();
    }, this.failed);
  }

  /** Roles not assigned yet, for the "Assign Roles" choice. */
  assignable(): Role[] {
    return this.allRoles.filter((r) => !this.roles.some((mine) => mine.id === r.id));
  }

  private loadRoles(): angular.IPromise<void> {
    return this.$q
      .all([
        this.management.get<Role[]>(`${this.path}/roles`),
        this.management.get<Role[]>('roles'),
        this.management.get<Permission[]>(`${this.path}/permissions`),
      ])
      .then(([mine, all, permissions]) => {
        this.roles = mine;
        this.allRoles = all;
        this.permissions = permissions;
        this.chosenRole = this.assignable()[0]?.id ?? '';
      }, this.failed);
  }

  /** A change to the user, then their roles and permissions again. */
  private run(call: angular.IPromise<unknown>, done: string): void {
    void this.change(call, () => this.loadRoles(), { done });
  }

  setBlocked(blocked: boolean): void {
    if (!this.user) return;
    this.run(
      this.management.patch<User>(this.path, { blocked }).then((user) => {
        this.user = user;
      }),
      blocked ? 'The user is blocked.' : 'The user is unblocked.',
    );
  }

  assign(): void {
    const role = this.allRoles.find((r) => r.id === this.chosenRole);
    if (!role) return;
    this.run(this.management.post(`${this.path}/roles`, { roles: [role.id] }), `Role ${role.name} assigned.`);
  }

  unassign(role: Role): void {
    this.run(
      this.management.delete(`${this.path}/roles`, { roles: [role.id] }),
      `Role ${role.name} removed.`,
    );
  }

  remove(): void {
    this.removeAndGo(this.path, '/users');
  }
}

export const userComponent: angular.IComponentOptions = {
  template,
  controller: UserController,
  controllerAs: 'vm',
};
