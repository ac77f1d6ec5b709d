import type angular from 'angular';
import type { ManagementApi } from '../management/management-api.service.ts';
import { ManagementPage } from '../shared/management-page.ts';
import type { User } from '../shared/types.ts';
import template from './users.html';

const PER_PAGE = 25;

/** The users of the database connection: search by email, pages, and "Create User". */
class UsersController extends ManagementPage {
  static override $inject = ['management', '$location'];

  users: User[] | undefined;
  total = 0;
  page = 0;
  readonly perPage = PER_PAGE;
  search = '';
  /** Why "Create" was refused, shown in the form beside what to fix. */
  createError: string | undefined;
  creating = false;
  form = { email: '', name: '', password: '' };

  constructor(management: ManagementApi, $location: angular.ILocationService) {
    super(management, $location);
  }

  $onInit(): void {
    const query = this.$location.search() as { q?: string; page?: string };
    this.search = typeof query.q === 'string' ? query.q : '';
    this.page = Math.max(0, Number.parseInt(query.page ?? '0', 10) || 0);
    this.load();
  }

  find(): void {
    this.page = 0;
    this.load();
  }

  go(page: number): void {
    this.page = page;
    this.load();
  }

  get lastPage(): number {
    return Math.max(0, Math.ceil(this.total / PER_PAGE) - 1);
  }

  private load(): void {
    const term = this.search.trim();
    // Auth0's search syntax: an exact address, or the start of one.
    const q = term === '' ? undefined : term.includes('@') ? `email:"${term}"` : `email:${term}*`;
    this.$location
      .search({ ...(term ? { q: term } : {}), ...(this.page ? { page: String(this.page) } : {}) })
      .replace();
    this.error = undefined;
    this.management
      .get<{ users: User[]; total: number }>('users', {
        include_totals: true,
        per_page: PER_PAGE,
        page: this.page,
        ...(q ? { q, search_engine: 'v3' } : {}),
      })
      .then((answer) => {
        this.users = answer.users;
        this.total = answer.total;
      }, this.failed);
  }

  create(form: angular.IFormController): void {
    if (form.$invalid || this.busy) return;
    this.createError = undefined;
    void this.change(
      this.management.post<User>('users', {
        connection: 'Username-Password-Authentication',
        email: this.form.email.trim(),
        password: this.form.password,
        ...(this.form.name.trim() ? { name: this.form.name.trim() } : {}),
      }),
      (user) => this.$location.url(`/users/${encodeURIComponent(user.user_id)}`),
      {
        // Auth0's messages name their error class ("PasswordStrengthError: …"): people need only the reason.
        refused: (message) => {
          this.createError = message.replace(/^[A-Za-z]+Error: /, '');
        },
      },
    );
  }
}

export const usersComponent: angular.IComponentOptions = {
  template,
  controller: UsersController,
  controllerAs: 'vm',
};
