import type angular from 'angular';
import { clearLoginState, safeReturnPath, saveLoginState, takeLoginState } from './login-state-store.ts';
import {
  OidcClient,
  type OidcClientOptions,
  SignInError,
  type Tokens,
  toSignInError,
} from './oidc-client.ts';

/** Broadcast on $rootScope when the user must sign in (again); see session-notice.service.ts. */
export const UNAUTHENTICATED_EVENT = 'unauthenticated';

export interface UnauthenticatedEvent {
  /** `expired`: there was a session and it ended; `signed-out`: there never was one. */
  readonly reason: 'expired' | 'signed-out';
  readonly description: string;
}

/** Renew at this fraction of the access token's lifetime (20 s lifetime: at 16 s). */
const RENEW_AT = 0.8;
/** Never schedule sooner than this, so a server handing out tiny lifetimes cannot make us spin. */
const MIN_RENEW_DELAY_MS = 1000;
/** A token this close to expiry is renewed before use rather than sent to fail. */
const EXPIRY_MARGIN_MS = 5000;
const REVOKE_TIMEOUT_MS = 1500;

/**
 * The signed-in session: tokens in memory only (a reload loses them, by design: no token is
 * ever written to localStorage, sessionStorage or a cookie), renewal with the rotating refresh
 * token before expiry and after a 401, serialised so two refreshes never race (with rotation and
 * reuse detection, a second use of the same refresh token would revoke the whole family).
 */
export class AuthService {
  static $inject = ['$q', '$rootScope', '$timeout', '$window', 'authOptions'];

  /** Why the last login() could not start (e.g. the authorization server is unreachable). */
  loginError: SignInError | undefined;
  private readonly oidc: OidcClient;
  private tokens: Tokens | undefined;
  private refreshing: Promise<Tokens> | undefined;
  private renewTimer: angular.IPromise<void> | undefined;
  private readonly $q: angular.IQService;
  private readonly $rootScope: angular.IRootScopeService;
  private readonly $timeout: angular.ITimeoutService;
  private readonly $window: angular.IWindowService;

  constructor(
    $q: angular.IQService,
    $rootScope: angular.IRootScopeService,
    $timeout: angular.ITimeoutService,
    $window: angular.IWindowService,
    authOptions: OidcClientOptions,
  ) {
    this.$q = $q;
    this.$rootScope = $rootScope;
    this.$timeout = $timeout;
    this.$window = $window;
    this.oidc = new OidcClient(authOptions);
  }

  isAuthenticated(): boolean {
    return this.tokens !== undefined;
  }

  /**
   * Sends the browser to the authorization server; `returnTo` is a path of this app.
   * If that cannot start, `loginError` says why (shown by the notices area).
   */
  login(returnTo?: string): angular.IPromise<void> {
    const path = safeReturnPath(returnTo ?? this.$window.location.pathname + this.$window.location.search);
    this.loginError = undefined;
    return this.$q
      .when(this.oidc.createAuthorizationRequest(path))
      .then(({ url, state }) => {
        saveLoginState(this.$window.sessionStorage, state); // throws if storage is unavailable
        this.$window.location.assign(url);
      })
      .catch((error: unknown) => {
        this.loginError = toSignInError(error);
      });
  }

  /** Completes the sign-in on /callback; resolves with the path to return to. */
  handleRedirectCallback(): angular.IPromise<string> {
    const callbackUrl = new URL(this.$window.location.href);
    const saved = takeLoginState(this.$window.sessionStorage);
    if (!saved) {
      const error = callbackUrl.searchParams.get('error');
      return this.$q.reject(
        error
          ? new SignInError(error, callbackUrl.searchParams.get('error_description') ?? '')
          : new SignInError(
              'invalid_state',
              'No sign-in is pending in this tab (the link was used already, or opened in another tab).',
            ),
      );
    }
    return this.$q.when(this.oidc.exchangeCode(callbackUrl, saved)).then((tokens) => {
      this.setTokens(tokens);
      return saved.returnTo;
    });
  }

  /** Forgets the tokens, revokes the refresh token, and ends the server session. */
  logout(): angular.IPromise<void> {
    const previous = this.tokens;
    this.clearSession();
    clearLoginState(this.$window.sessionStorage);
    const revoked = previous?.refreshToken
      ? Promise.race([
          this.oidc.revoke(previous.refreshToken).catch(() => undefined),
          new Promise<void>((resolve) => setTimeout(resolve, REVOKE_TIMEOUT_MS)),
        ])
      : Promise.resolve();
    return this.$q
      .when(revoked.then(() => this.oidc.endSessionUrl(previous?.idToken)))
      .catch(() => undefined)
      .then((url) => {
        this.$window.location.assign(url ?? '/');
      });
  }

  /** The access token for an API call, renewed first if it is about to expire. */
  getAccessToken(): angular.IPromise<string | undefined> {
    const tokens = this.tokens;
    if (!tokens) return this.$q.resolve(undefined);
    if (tokens.refreshToken && tokens.expiresAt - Date.now() < EXPIRY_MARGIN_MS) {
      return this.$q.when(this.renew()).then(
        (renewed) => renewed.accessToken,
        () => undefined,
      );
    }
    return this.$q.resolve(tokens.accessToken);
  }

  /**
   * After an API answered 401 to `rejectedToken`: a new token, from a refresh already done by
   * another call or from one refresh now. Rejects when the session cannot be renewed.
   */
  renewAfterRejection(rejectedToken: string | undefined): angular.IPromise<string> {
    const tokens = this.tokens;
    if (tokens && rejectedToken !== undefined && tokens.accessToken !== rejectedToken) {
      return this.$q.resolve(tokens.accessToken);
    }
    return this.$q.when(this.renew()).then((renewed) => renewed.accessToken);
  }

  /** Claims of the validated ID token. */
  getProfile(): Readonly<Record<string, unknown>> | undefined {
    return this.tokens?.idClaims;
  }

  getUserInfo(): angular.IPromise<Record<string, unknown>> {
    const tokens = this.tokens;
    if (!tokens) return this.$q.reject(new SignInError('login_required', 'Not signed in.'));
    return this.$q.when(this.oidc.userInfo(tokens));
  }

  /** The current access token and its expiry, for display (the token panel). */
  currentAccessToken(): { readonly token: string; readonly expiresAt: number } | undefined {
    return this.tokens && { token: this.tokens.accessToken, expiresAt: this.tokens.expiresAt };
  }

  /** One refresh at a time: concurrent callers share the one in flight. */
  private renew(): Promise<Tokens> {
    const current = this.tokens;
    if (!current) return Promise.reject(new SignInError('login_required', 'Not signed in.'));
    if (!this.refreshing) {
      this.refreshing = this.oidc
        .refresh(current)
        .then(
          (renewed) => {
            if (this.tokens !== current)
              throw new SignInError('login_required', 'Signed out during renewal.');
            this.setTokens(renewed);
            return renewed;
          },
          (error: unknown) => {
            const failure = toSignInError(error);
            if (this.tokens === current) this.expireSession(failure);
            throw failure;
          },
        )
        .finally(() => {
          this.refreshing = undefined;
        });
    }
    return this.refreshing;
  }

  private setTokens(tokens: Tokens): void {
    this.tokens = tokens;
    this.scheduleRenewal(tokens);
  }

  private scheduleRenewal(tokens: Tokens): void {
    this.cancelRenewal();
    if (!tokens.refreshToken) return;
    const delay = Math.max(
      MIN_RENEW_DELAY_MS,
      tokens.expiresAt - Date.now() - tokens.expiresIn * 1000 * (1 - RENEW_AT),
    );
    this.renewTimer = this.$timeout(() => {
      this.renewTimer = undefined;
      // A failure is handled in renew() (the session ends with a notice); nothing to do here.
      this.renew().catch(() => undefined);
    }, delay);
  }

  private cancelRenewal(): void {
    if (this.renewTimer) this.$timeout.cancel(this.renewTimer);
    this.renewTimer = undefined;
  }

  private clearSession(): void {
    this.cancelRenewal();
    this.tokens = undefined;
  }

  private expireSession(cause: SignInError): void {
    this.clearSession();
    const event: UnauthenticatedEvent = {
      reason: 'expired',
      description: `The session could not be renewed: ${cause.errorDescription}`,
    };
    this.$rootScope.$broadcast(UNAUTHENTICATED_EVENT, event);
  }
}
