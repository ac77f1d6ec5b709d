import type angular from 'angular';
import { type ManagementApi, messageOf, segment } from '../management/management-api.service.ts';
import type { Permission, Role, User } from '../shared/types.ts';
import template from './user.html';

/** One user: blocked or not, their roles (assign, remove) and the permissions those give. */
class UserController implements angular.IController {
  static $inject = ['management', '$routeParams', '$location', '$q'];

  user: User | undefined;
  roles: Role[] = [];
  allRoles: Role[] = [];
  permissions: Permission[] = [];
  chosenRole = '';
  error: string | undefined;
  saved: string | undefined;
  busy = false;
  confirmingDelete = false;
  private readonly management: ManagementApi;
  private readonly path: string;
  private readonly $location: angular.ILocationService;
  private readonly $q: angular.IQService;

  constructor(
    management: ManagementApi,
    $routeParams: Record<string, string>,
    $location: angular.ILocationService,
    $q: angular.IQService,
  ) {
    this.management = management;
    this.path = `users/${segment($routeParams['id']!)}`;
    this.$location = $location;
    this.$q = $q;
  }

  $onInit(): void {
    this.management.get<User>(this.path).then(
      (user) => {
        this.user = user;
        this.loadRoles();
      },
      (error: unknown) => {
        this.error = messageOf(error);
      },
    );
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
      .then(
        ([mine, all, permissions]) => {
          this.roles = mine;
          this.allRoles = all;
          this.permissions = permissions;
          this.chosenRole = this.assignable()[0]?.id ?? '';
        },
        (error: unknown) => {
          this.error = messageOf(error);
        },
      );
  }

  private run(call: angular.IPromise<unknown>, done: string): void {
    this.busy = true;
    this.error = undefined;
    this.saved = undefined;
    call
      .then(() => this.loadRoles())
      .then(
        () => {
          if (!this.error) this.saved = done;
        },
        (error: unknown) => {
          this.error = messageOf(error);
        },
      )
      .finally(() => {
        this.busy = false;
      });
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
    this.busy = true;
    this.management.delete(this.path).then(
      () => this.$location.url('/users'),
      (error: unknown) => {
        this.error = messageOf(error);
        this.busy = false;
      },
    );
  }
}

export const userComponent: angular.IComponentOptions = {
  template,
  controller: UserController,
  controllerAs: 'vm',
};
