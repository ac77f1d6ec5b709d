import type angular from 'angular';
import { type ManagementApi, messageOf } from '../management/management-api.service.ts';
import type { Role } from '../shared/types.ts';
import template from './roles.html';

class RolesController implements angular.IController {
  static $inject = ['management', '$location'];

  roles: Role[] | undefined;
  error: string | undefined;
  creating = false;
  busy = false;
  form = { name: '', description: '' };
  private readonly management: ManagementApi;
  private readonly $location: angular.ILocationService;

  constructor(management: ManagementApi, $location: angular.ILocationService) {
    this.management = management;
    this.$location = $location;
  }

  $onInit(): void {
    this.management.get<Role[]>('roles').then(
      (roles) => {
        this.roles = roles;
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
      .post<Role>('roles', { name: this.form.name.trim(), description: this.form.description.trim() })
      .then(
        (role) => this.$location.path(`/roles/${role.id}/permissions`),
        (error: unknown) => {
          this.error = messageOf(error);
        },
      )
      .finally(() => {
        this.busy = false;
      });
  }
}

export const rolesComponent: angular.IComponentOptions = {
  template,
  controller: RolesController,
  controllerAs: 'vm',
};
