import type angular from 'angular';
import type { Session } from '../shell/session.service.ts';
import template from './navbar.html';

/**
 * The navbar, as the SPA's: on narrow screens its links and session controls fold into a disclosure menu
 * (a button with aria-expanded) closed again by navigation, Escape, a click elsewhere or focus leaving it.
 */
class NavbarController implements angular.IController {
  static $inject = ['session', '$location', '$element', '$scope'];

  readonly session: Session;
  menuOpen = false;
  private readonly $location: angular.ILocationService;
  private readonly $element: JQLite;
  private readonly $scope: angular.IScope;

  constructor(
    session: Session,
    $location: angular.ILocationService,
    $element: JQLite,
    $scope: angular.IScope,
  ) {
    this.session = session;
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

  /** A section is current on its list and on every page under it (/apis/abc is APIs). */
  isActive(path: string): boolean {
    const here = this.$location.path();
    return here === path || here.startsWith(`${path}/`);
  }

  toggleMenu(): void {
    this.menuOpen = !this.menuOpen;
  }

  closeMenu(): void {
    this.menuOpen = false;
  }

  private get document(): Document {
    return this.$element[0]!.ownerDocument;
  }

  private contains(node: EventTarget | null): boolean {
    return node instanceof Node && this.$element[0]!.contains(node);
  }

  private closeFromOutside(): void {
    if (!this.menuOpen) return;
    this.$scope.$apply(() => {
      this.menuOpen = false;
    });
  }

  private readonly onKeydown = (event: KeyboardEvent): void => {
    if (event.key !== 'Escape' || !this.menuOpen) return;
    this.closeFromOutside();
    this.$element[0]!.querySelector<HTMLButtonElement>('.navbar__toggle')?.focus();
  };

  private readonly onDocumentClick = (event: MouseEvent): void => {
    if (!this.contains(event.target)) this.closeFromOutside();
  };

  private readonly onFocusOut = (event: FocusEvent): void => {
    if (event.relatedTarget && !this.contains(event.relatedTarget)) this.closeFromOutside();
  };
}

export const navbarComponent: angular.IComponentOptions = {
  template,
  controller: NavbarController,
  controllerAs: 'vm',
};
