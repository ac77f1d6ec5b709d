import type { AuthService } from '@calling-api/angularjs-auth';
import type angular from 'angular';
import template from './navbar.html';

/**
 * The navbar. On narrow screens (see styles.css) its links and session controls collapse into a
 * disclosure menu: a button with aria-expanded that opens a panel over the page, closed again by
 * navigation, Escape, a click elsewhere or focus leaving the navbar.
 */
class NavbarController implements angular.IController {
  static $inject = ['auth', '$location', '$element', '$scope'];

  readonly auth: AuthService;
  menuOpen = false;
  private readonly $location: angular.ILocationService;
  private readonly $element: JQLite;
  private readonly $scope: angular.IScope;

  constructor(
    auth: AuthService,
    $location: angular.ILocationService,
    $element: JQLite,
    $scope: angular.IScope,
  ) {
    this.auth = auth;
    this.$location = $location;
    this.$element = $element;
    this.$scope = $scope;
  }

  $onInit(): void {
    this.$scope.$on('$locationChangeSuccess', () => {
      this.menuOpen = false;
    });
  }

  $postLink(): void {
    this.document.addEventListener('keydown', this.onKeydown);
    this.document.addEventListener('click', this.onDocumentClick);
    this.$element[0]!.addEventListener('focusout', this.onFocusOut);
  }

  $onDestroy(): void {
    this.document.removeEventListener('keydown', this.onKeydown);
    this.document.removeEventListener('click', this.onDocumentClick);
    this.$element[0]!.removeEventListener('focusout', this.onFocusOut);
  }

  email(): string {
    const profile = this.auth.getProfile();
    const email = profile?.['email'] ?? profile?.['name'] ?? profile?.['sub'];
    return typeof email === 'string' ? email : '';
  }

  isActive(path: string): boolean {
    return this.$location.path() === path;
  }

  toggleMenu(): void {
    this.menuOpen = !this.menuOpen;
  }

  closeMenu(): void {
    this.menuOpen = false;
  }

  login(): void {
    this.auth.login(this.$location.url());
  }

  logout(): void {
    this.auth.logout();
  }

  private get document(): Document {
    return this.$element[0]!.ownerDocument;
  }

  private contains(node: EventTarget | null): boolean {
    return node instanceof Node && this.$element[0]!.contains(node);
  }

  /** Outside AngularJS's digest: change the state only when it changes, then digest once. */
  private closeFromOutside(): void {
    if (!this.menuOpen) return;
    this.$scope.$apply(() => {
      this.menuOpen = false;
    });
  }

  // Escape closes the menu and gives focus back to its button, so keyboard users are not lost.
  private readonly onKeydown = (event: KeyboardEvent): void => {
    if (event.key !== 'Escape' || !this.menuOpen) return;
    this.closeFromOutside();
    this.$element[0]!.querySelector<HTMLButtonElement>('.navbar__toggle')?.focus();
  };

  private readonly onDocumentClick = (event: MouseEvent): void => {
    if (!this.contains(event.target)) this.closeFromOutside();
  };

  // The open panel covers the page: once focus moves to the page under it, it must not stay open.
  private readonly onFocusOut = (event: FocusEvent): void => {
    if (event.relatedTarget && !this.contains(event.relatedTarget)) this.closeFromOutside();
  };
}

export const navbarComponent: angular.IComponentOptions = {
  template,
  controller: NavbarController,
  controllerAs: 'vm',
};
