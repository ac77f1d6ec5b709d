import type angular from 'angular';

/**
 * What both apps' navbars do besides their links: on narrow screens (base.css) the links and session
 * controls collapse into a disclosure menu, a button with aria-expanded that opens a panel over the page,
 * closed again by navigation, Escape, a click elsewhere or focus leaving the navbar. An app's navbar
 * controller extends it, injecting `$location`, `$element` and `$scope` after its own services.
 */
export class NavbarMenu implements angular.IController {
  menuOpen = false;
  protected readonly $location: angular.ILocationService;
  private readonly $element: JQLite;
  private readonly $scope: angular.IScope;

  constructor($location: angular.ILocationService, $element: JQLite, $scope: angular.IScope) {
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

  /** A section is current on its page and on every page under it (/apis/abc is APIs); `/` only on itself. */
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
