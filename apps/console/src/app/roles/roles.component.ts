import type angular from 'angular';
import type { ManagementApi } from '../management/management-api.service.ts';
import { ManagementPage } from '../shared/management-page.ts';
import type { Role } from '../shared/types.ts';
import template from './roles.html';

/** The tenant's roles, and "Create Role", which opens the new role's permissions. */
class RolesController extends ManagementPage {
  static override $inject = ['management', '$location'];

  roles: Role[] | undefined;
  creating = false;
  form = { name: '', description: '' };

  constructor(management: ManagementApi, $location: angular.ILocationService) {
    super(management, $location);
  }

  $onInit(): void {
    this.management.get<Role[]>('roles').then((roles) => {
      this.roles = roles;
    }, this.failed);
  }

  create(form: angular.IFormController): void {
    if (form.$invalid || this.busy) return;
    void this.change(
      this.management.post<Role>('roles', {
        name: this.form.name.trim(),
        description: this.form.description.trim(),
      }),
      (role) => this.$location.path(`/roles/${role.id}/permissions`),
    );
  }
}

export const rolesComponent: angular.IComponentOptions = {
  template,
  controller: RolesController,
  controllerAs: 'vm',
};
