import type angular from 'angular';
import { DpopKey } from './dpop-key.ts';
import { clearLoginState, safeReturnPath, saveLoginState, takeLoginState } from './login-state-store.ts';
import {
  OidcClient,
  type OidcClientOptions,
  SignInError,
  type Tokens,
  toSignInError,
} from './oidc-client.ts';
import { type SessionSignal, SessionSignals } from './session-signals.ts';
import { authorizeInIframe, SilentAuthTimeout } from './silent-authorize.ts';

/** Broadcast on $rootScope when the user must sign in (again); see session-notice.service.ts. */
export const UNAUTHENTICATED_EVENT = 'unauthenticated';

export interface UnauthenticatedEvent {
  /** `expired`: there was a session and it ended; `signed-out`: there never was one. */
  readonly reason: 'expired' | 'signed-out';
  readonly description: string;
}

/** `restoring` while the page finds out whether the browser still has a session (after a reload, in a new tab). */
export type SessionStatus = 'restoring' | 'signed-in' | 'signed-out';

/** What an API request carries: the token, its scheme, and for a DPoP-bound token a proof for that request. */
export interface ApiCredentials {
  readonly scheme: 'Bearer' | 'DPoP';
  readonly token: string;
  readonly proof?: string;
}

/** Renew at this fraction of the access token's lifetime (20 s lifetime: at 16 s). */
const RENEW_AT = 0.8;
/** Never schedule sooner than this, so a server handing out tiny lifetimes cannot make us spin. */
const MIN_RENEW_DELAY_MS = 1000;
/** A token this close to expiry is renewed before use rather than sent to fail. */
const EXPIRY_MARGIN_MS = 5000;
const REVOKE_TIMEOUT_MS = 1500;
/** How long the hidden iframe may take to answer before the app stops waiting for it. */
const SILENT_TIMEOUT_MS = 5000;
/** The answers of prompt=none that mean "no usable session", not a failure (OIDC Core §3.1.2.6). */
const NO_SESSION = new Set([
  'login_required',
  'interaction_required',
  'consent_required',
  'account_selection_required',
]);

/**
 * The signed-in session of this tab. Tokens live in this tab's memory only (never in localStorage,
 * sessionStorage, IndexedDB or a cookie); what survives a reload is the authorization server's own
 * session, asked for silently (prompt=none, in a hidden iframe) when the page loads, and a hint that
 * this browser was signed in, so a visitor who never signed in causes no such request. Tokens are
 * renewed before expiry (refresh token, else the iframe), one renewal at a time per tab; each tab holds
 * its own refresh token, so a renewal in one tab never trips reuse detection in another. A sign-out in
 * one tab signs every tab out; a sign-in in another tab is picked up when this one gets the focus.
 */
export class AuthService {
  static $inject = ['$q', '$rootScope', '$timeout', '$window', 'authOptions'];

  status: SessionStatus = 'restoring';
  /** Why the last login() could not start (e.g. the authorization server is unreachable). */
  loginError: SignInError | undefined;
  private readonly oidc: OidcClient;
  private readonly signals: SessionSignals;
  private readonly dpopKey: Promise<DpopKey | undefined>;
  private tokens: Tokens | undefined;
  private refreshing: Promise<Tokens> | undefined;
  private restoring: Promise<void> | undefined;
  private renewTimer: angular.IPromise<void> | undefined;
  /** The hidden-iframe request (a seam for the unit tests, which have no DOM). */
  private readonly frame = authorizeInIframe;
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
    // One key per page load, made before it is needed (a few ms) so no request waits for it.
    this.dpopKey = authOptions.dpop ? DpopKey.create().catch(() => undefined) : Promise.resolve(undefined);
    this.oidc = new OidcClient(authOptions, this.dpopKey);
    this.signals = new SessionSignals(localStorageOf($window), $window.BroadcastChannel);
    this.signals.onSignal((signal) => this.$rootScope.$applyAsync(() => this.onOtherTab(signal)));
  }

  /**
   * Once, when the app boots: restore the session unless this page is the sign-in callback (which
   * completes it), and from then on pick up a sign-in made in another tab when this tab gets the focus.
   */
  start(): void {
    const pickUp = () => {
      if (this.status === 'signed-out' && this.signals.wasSignedIn()) void this.restore({ redirect: false });
    };
    this.$window.addEventListener('focus', pickUp);
    this.$window.document?.addEventListener('visibilitychange', () => {
      if (this.$window.document.visibilityState === 'visible') pickUp();
    });
    if (this.$window.location.pathname !== '/callback') void this.restore({ redirect: true });
  }

  isAuthenticated(): boolean {
    return this.tokens !== undefined;
  }

  /**
   * Asks the authorization server, without showing anything, whether this browser is still signed in:
   * in a hidden iframe; when that cannot tell (the iframe cannot see the server's cookies because the
   * sites differ, or it does not answer), and `redirect` allows, with a top-level prompt=none redirect
   * that comes back to this very page. No session: signed out quietly, and the hint is forgotten.
   */
  restore(options: { redirect: boolean }): angular.IPromise<void> {
    if (this.restoring) return this.$q.when(this.restoring);
    if (!this.signals.wasSignedIn()) {
      this.status = this.tokens ? 'signed-in' : 'signed-out';
      return this.$q.resolve();
    }
    this.status = 'restoring';
    this.restoring = this.silentSignIn()
      .then((tokens) => this.signedIn(tokens))
      .catch((error: unknown) => {
        const timedOut = error instanceof SilentAuthTimeout;
        const noSession = !timedOut && NO_SESSION.has(toSignInError(error).error);
        // The iframe cannot tell when it did not answer, or when its site differs from the server's
        // (third-party cookies blocked): a top-level request can, and comes back to this page.
        if (options.redirect && (timedOut || (noSession && !this.iframeSeesTheSession()))) {
          return this.redirectSilently();
        }
        this.signedOutQuietly(noSession);
        return undefined;
      })
      .finally(() => {
        this.restoring = undefined;
        this.$rootScope.$applyAsync();
      });
    return this.$q.when(this.restoring);
  }

  /**
   * Sends the browser to the authorization server; `returnTo` is a path of this app.
   * If that cannot start, `loginError` says why (shown by the notices area).
   */
  login(returnTo?: string): angular.IPromise<void> {
    this.loginError = undefined;
    return this.$q.when(this.redirect(returnTo, { responseMode: 'query' })).catch((error: unknown) => {
      this.loginError = toSignInError(error);
    });
  }

  /**
   * Completes a sign-in on /callback; resolves with the path to return to. Only this tab's own pending
   * request is completed, and only then does the server's error_description reach the page: a callback
   * the app did not start shows a fixed message, whatever its query says.
   */
  handleRedirectCallback(): angular.IPromise<string> {
    const callbackUrl = new URL(this.$window.location.href);
    const saved = takeLoginState(this.$window.sessionStorage);
    if (!saved) {
      this.status = this.tokens ? 'signed-in' : 'signed-out';
      return this.$q.reject(
        new SignInError(
          'invalid_state',
          'No sign-in is pending in this tab (the link was used already, opened in another tab, or not made by this app).',
        ),
      );
    }
    return this.$q.when(
      this.oidc.exchangeCode(callbackUrl, saved).then(
        (tokens) => {
          this.signedIn(tokens);
          return saved.returnTo;
        },
        (error: unknown) => {
          const failure = toSignInError(error);
          if (saved.silent && NO_SESSION.has(failure.error)) {
            this.signedOutQuietly(true);
            return saved.returnTo;
          }
          this.status = 'signed-out';
          throw failure;
        },
      ),
    );
  }

  /** Forgets the tokens in every tab, revokes the refresh token, and ends the server session. */
  logout(): angular.IPromise<void> {
    const previous = this.tokens;
    this.clearSession();
    this.status = 'signed-out';
    this.signals.signedOut(true);
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

  /** The access token for an API call, after any restore in progress, renewed first if about to expire. */
  getAccessToken(): angular.IPromise<string | undefined> {
    return this.$q.when(this.restoring).then(() => {
      const tokens = this.tokens;
      if (!tokens) return undefined;
      if (tokens.expiresAt - Date.now() < EXPIRY_MARGIN_MS) {
        return this.$q.when(this.renew()).then(
          (renewed) => renewed.accessToken,
          () => undefined,
        );
      }
      return tokens.accessToken;
    });
  }

  /**
   * What an API request to `url` carries: `Bearer <token>`, or `DPoP <token>` with a proof signed by
   * the page's key for this method, URL and token (and the server's `nonce` when it asked for one).
   */
  credentialsFor(method: string, url: string, nonce?: string): angular.IPromise<ApiCredentials | undefined> {
    return this.getAccessToken().then(async (token) => {
      if (token === undefined) return undefined;
      if (this.tokens?.tokenType !== 'DPoP' || this.tokens.accessToken !== token)
        return { scheme: 'Bearer', token };
      const key = await this.dpopKey;
      if (!key) throw new SignInError('dpop_unavailable', 'The DPoP key of this page is unavailable.');
      return { scheme: 'DPoP', token, proof: await key.proof(method, url, token, nonce) };
    });
  }

  /**
   * After an API answered 401 to `rejectedToken`: a new token, from a renewal already done by
   * another call or from one renewal now. Rejects when the session cannot be renewed.
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
    return this.$q.when(this.restoring).then(() => {
      const tokens = this.tokens;
      if (!tokens) return this.$q.reject(new SignInError('login_required', 'Not signed in.'));
      return this.oidc.userInfo(tokens);
    });
  }

  /** The current access token, its type and expiry, for display (the token panel). */
  currentAccessToken():
    | { readonly token: string; readonly expiresAt: number; readonly tokenType: string }
    | undefined {
    return (
      this.tokens && {
        token: this.tokens.accessToken,
        expiresAt: this.tokens.expiresAt,
        tokenType: this.tokens.tokenType,
      }
    );
  }

  /** prompt=none in a hidden iframe (response_mode=web_message), then the code exchange. */
  private async silentSignIn(): Promise<Tokens> {
    const { url, state } = await this.oidc.createAuthorizationRequest('/', {
      prompt: 'none',
      responseMode: 'web_message',
    });
    const issuerOrigin = new URL(url).origin;
    const answer = await this.frame(
      url,
      issuerOrigin,
      state.state,
      SILENT_TIMEOUT_MS,
      this.$window.document,
      this.$window,
    );
    return this.oidc.exchangeCode(answer, state);
  }

  /** The same request as a top-level redirect, which sees the server's cookies whatever the sites. */
  private redirectSilently(): Promise<void> {
    const here = this.$window.location.pathname + this.$window.location.search + this.$window.location.hash;
    return this.redirect(here, { prompt: 'none', responseMode: 'query' }).catch(() => {
      this.signedOutQuietly(false);
    });
  }

  private async redirect(
    returnTo: string | undefined,
    mode: Parameters<OidcClient['createAuthorizationRequest']>[1],
  ) {
    const path = safeReturnPath(returnTo ?? this.$window.location.pathname + this.$window.location.search);
    const { url, state } = await this.oidc.createAuthorizationRequest(path, mode);
    saveLoginState(this.$window.sessionStorage, state); // throws if storage is unavailable
    this.$window.location.assign(url);
  }

  /** An iframe's login_required is the truth when the iframe shares the server's site (its cookies reach it). */
  private iframeSeesTheSession(): boolean {
    const issuer = new URL(this.oidc.issuer);
    const here = new URL(this.$window.location.href);
    return issuer.protocol === here.protocol && issuer.hostname === here.hostname;
  }

  private signedIn(tokens: Tokens): void {
    this.setTokens(tokens);
    this.status = 'signed-in';
    this.signals.signedIn();
  }

  /** No session (or none that can be found): signed out, with no error shown. */
  private signedOutQuietly(forgetHint: boolean): void {
    this.clearSession();
    this.status = 'signed-out';
    if (forgetHint) this.signals.signedOut(false);
  }

  private onOtherTab(signal: SessionSignal): void {
    if (signal === 'signed-out' && this.tokens) {
      this.clearSession();
      this.status = 'signed-out';
    }
    // 'signed-in' is picked up on focus (start()); a tab in the background makes no request for it.
  }

  /** One renewal at a time: concurrent callers share the one in flight; a refused refresh falls back to the iframe. */
  private renew(): Promise<Tokens> {
    const current = this.tokens;
    if (!current) return Promise.reject(new SignInError('login_required', 'Not signed in.'));
    if (!this.refreshing) {
      const renewed = current.refreshToken ? this.oidc.refresh(current) : this.silentSignIn();
      this.refreshing = renewed
        .catch(async (error: unknown) => {
          if (!current.refreshToken || this.tokens !== current) throw error;
          // A refresh token refused (expired, revoked, reused): the browser session may still be there.
          return this.silentSignIn().catch(() => {
            throw error;
          });
        })
        .then(
          (tokens) => {
            if (this.tokens !== current)
              throw new SignInError('login_required', 'Signed out during renewal.');
            this.setTokens(tokens);
            return tokens;
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
    this.signedOutQuietly(NO_SESSION.has(cause.error) || cause.error === 'invalid_grant');
    const event: UnauthenticatedEvent = {
      reason: 'expired',
      description: `The session could not be renewed: ${cause.errorDescription}`,
    };
    this.$rootScope.$broadcast(UNAUTHENTICATED_EVENT, event);
  }
}

/** localStorage, or nothing where the browser refuses it (then no hint, and no silent request). */
function localStorageOf($window: angular.IWindowService): Storage | undefined {
  try {
    return $window.localStorage;
  } catch {
    return undefined;
  }
}
