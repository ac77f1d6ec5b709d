// The protocol side of sign-in, on oauth4webapi (discovery, PKCE S256, state, nonce, the
// code exchange, ID token claim validation, refresh, userinfo, revocation). Framework-free:
// the Angular service in auth.service.ts wraps these promises in $q.
import * as oauth from 'oauth4webapi';
import { isLoopbackHost } from '../api-auth/allow-list.ts';
import type { DpopKey } from './dpop-key.ts';
import type { LoginState } from './login-state-store.ts';

export interface OidcClientOptions {
  readonly issuer: string;
  readonly clientId: string;
  readonly audience: string;
  readonly scope: string;
  readonly redirectUri: string;
  readonly postLogoutRedirectUri: string;
  readonly auth0Domain?: string;
  /** Bind tokens to the page's DPoP key when the authorization server offers DPoP (ES256). */
  readonly dpop?: boolean;
}

/** How an authorization request is answered: a redirect of the page, or a message from a hidden iframe. */
export type AuthorizationMode = { prompt?: 'none'; responseMode: 'query' | 'web_message' };

export interface Tokens {
  readonly accessToken: string;
  /** `DPoP` when the access token is bound to the page's key (then every call needs a proof). */
  readonly tokenType: 'Bearer' | 'DPoP';
  /** Epoch milliseconds. */
  readonly expiresAt: number;
  /** Lifetime the server gave, in seconds. */
  readonly expiresIn: number;
  readonly refreshToken?: string;
  readonly idToken?: string;
  readonly idClaims?: Readonly<Record<string, unknown>>;
  readonly scope?: string;
}

/** An error the user should see, with the OAuth error code when there is one. */
export class SignInError extends Error {
  readonly error: string;
  readonly errorDescription: string;
  constructor(error: string, errorDescription: string, options?: { cause?: unknown }) {
    super(`${error}: ${errorDescription}`, options);
    this.name = 'SignInError';
    this.error = error;
    this.errorDescription = errorDescription;
  }
}

/** Maps whatever oauth4webapi threw onto a SignInError with an OAuth-style code. */
export function toSignInError(error: unknown): SignInError {
  if (error instanceof SignInError) return error;
  if (error instanceof oauth.AuthorizationResponseError || error instanceof oauth.ResponseBodyError) {
    return new SignInError(error.error, error.error_description ?? error.message, { cause: error });
  }
  if (error instanceof oauth.WWWAuthenticateChallengeError) {
    const challenge = error.cause[0];
    return new SignInError(
      challenge?.parameters.error ?? 'invalid_token',
      challenge?.parameters.error_description ?? error.message,
      { cause: error },
    );
  }
  // fetch() rejects with a bare TypeError when the server cannot be reached (or CORS refuses).
  if (error instanceof TypeError && !('code' in error)) {
    return new SignInError(
      'network_error',
      `The authorization server could not be reached (${error.message}).`,
      {
        cause: error,
      },
    );
  }
  return new SignInError('sign_in_failed', (error as Error | undefined)?.message ?? String(error), {
    cause: error,
  });
}

export class OidcClient {
  private readonly options: OidcClientOptions;
  private readonly client: oauth.Client;
  private readonly clientAuth = oauth.None();
  private readonly httpOptions: { [oauth.allowInsecureRequests]?: boolean };
  private metadata?: Promise<oauth.AuthorizationServer>;
  private readonly dpopKey: Promise<DpopKey | undefined>;
  private dpopHandle?: oauth.DPoPHandle;

  constructor(
    options: OidcClientOptions,
    dpopKey: Promise<DpopKey | undefined> = Promise.resolve(undefined),
  ) {
    this.options = options;
    this.dpopKey = dpopKey;
    this.client = { client_id: options.clientId };
    // oauth4webapi refuses http unless told; we allow it only for a loopback issuer (development).
    const issuer = new URL(options.issuer);
    this.httpOptions =
      issuer.protocol === 'http:' && isLoopbackHost(issuer.hostname)
        ? { [oauth.allowInsecureRequests]: true }
        : {};
  }

  get issuer(): string {
    return this.options.issuer;
  }

  /** The discovery document, fetched once (a failure is not cached, so a retry can succeed). */
  discover(): Promise<oauth.AuthorizationServer> {
    if (!this.metadata) {
      const issuer = new URL(this.options.issuer);
      this.metadata = oauth
        .discoveryRequest(issuer, { ...this.httpOptions, algorithm: 'oidc' })
        .then((response) => oauth.processDiscoveryResponse(issuer, response))
        .catch((error: unknown) => {
          this.metadata = undefined;
          throw toSignInError(error);
        });
    }
    return this.metadata;
  }

  /** Builds the /authorize URL and the state to keep until its answer. */
  async createAuthorizationRequest(
    returnTo: string,
    mode: AuthorizationMode = { responseMode: 'query' },
  ): Promise<{ url: string; state: LoginState }> {
    const as = await this.discover();
    if (!as.authorization_endpoint)
      throw new SignInError('invalid_configuration', 'no authorization_endpoint');
    const codeVerifier = oauth.generateRandomCodeVerifier();
    const state = oauth.generateRandomState();
    const nonce = oauth.generateRandomNonce();
    const url = new URL(as.authorization_endpoint);
    url.searchParams.set('client_id', this.options.clientId);
    url.searchParams.set('redirect_uri', this.options.redirectUri);
    url.searchParams.set('response_type', 'code');
    url.searchParams.set('response_mode', mode.responseMode);
    if (mode.prompt) url.searchParams.set('prompt', mode.prompt);
    url.searchParams.set('scope', this.options.scope);
    url.searchParams.set('audience', this.options.audience);
    url.searchParams.set('code_challenge', await oauth.calculatePKCECodeChallenge(codeVerifier));
    url.searchParams.set('code_challenge_method', 'S256');
    url.searchParams.set('state', state);
    url.searchParams.set('nonce', nonce);
    return {
      url: url.href,
      state: {
        codeVerifier,
        state,
        nonce,
        returnTo,
        createdAt: Date.now(),
        ...(mode.prompt ? { silent: true } : {}),
      },
    };
  }

  /** Checks an authorization answer (the callback URL, or a web message's parameters) and redeems the code. */
  async exchangeCode(answer: URL | URLSearchParams, saved: LoginState): Promise<Tokens> {
    try {
      const as = await this.discover();
      const params = oauth.validateAuthResponse(as, this.client, answer, saved.state);
      const options = await this.requestOptions(as);
      const result = await this.withDpopNonceRetry(async () =>
        oauth.processAuthorizationCodeResponse(
          as,
          this.client,
          await oauth.authorizationCodeGrantRequest(
            as,
            this.client,
            this.clientAuth,
            params,
            this.options.redirectUri,
            saved.codeVerifier,
            options,
          ),
          { expectedNonce: saved.nonce, requireIdToken: true },
        ),
      );
      return this.toTokens(result);
    } catch (error) {
      throw toSignInError(error);
    }
  }

  /** Redeems a refresh token; with rotation the answer carries the next one. */
  async refresh(current: Tokens): Promise<Tokens> {
    if (!current.refreshToken)
      throw new SignInError('login_required', 'no refresh token (offline_access not granted)');
    try {
      const as = await this.discover();
      const options = await this.requestOptions(as);
      const refreshToken = current.refreshToken;
      const result = await this.withDpopNonceRetry(async () =>
        oauth.processRefreshTokenResponse(
          as,
          this.client,
          await oauth.refreshTokenGrantRequest(as, this.client, this.clientAuth, refreshToken, options),
        ),
      );
      return this.toTokens(result, current);
    } catch (error) {
      throw toSignInError(error);
    }
  }

  async userInfo(tokens: Tokens): Promise<Record<string, unknown>> {
    try {
      const as = await this.discover();
      const options = tokens.tokenType === 'DPoP' ? await this.requestOptions(as) : this.httpOptions;
      const response = await this.withDpopNonceRetry(() =>
        oauth.userInfoRequest(as, this.client, tokens.accessToken, options),
      );
      const subject =
        typeof tokens.idClaims?.['sub'] === 'string' ? tokens.idClaims['sub'] : oauth.skipSubjectCheck;
      return { ...(await oauth.processUserInfoResponse(as, this.client, subject, response)) };
    } catch (error) {
      throw toSignInError(error);
    }
  }

  /** Best effort: a refresh token outlives the browser session, so revoke it (RFC 7009). */
  async revoke(token: string): Promise<void> {
    const as = await this.discover();
    if (!as.revocation_endpoint) return;
    const response = await oauth.revocationRequest(as, this.client, this.clientAuth, token, this.httpOptions);
    await oauth.processRevocationResponse(response);
  }

  /** RP-initiated logout (OIDC RP-Initiated Logout 1.0 §2), or Auth0's /v2/logout. */
  async endSessionUrl(idToken: string | undefined): Promise<string | undefined> {
    const as = await this.discover();
    if (as.end_session_endpoint) {
      const url = new URL(as.end_session_endpoint);
      if (idToken) url.searchParams.set('id_token_hint', idToken);
      url.searchParams.set('client_id', this.options.clientId);
      url.searchParams.set('post_logout_redirect_uri', this.options.postLogoutRedirectUri);
      return url.href;
    }
    if (this.options.auth0Domain) {
      const url = new URL(`https://${this.options.auth0Domain}/v2/logout`);
      url.searchParams.set('client_id', this.options.clientId);
      url.searchParams.set('returnTo', this.options.postLogoutRedirectUri);
      return url.href;
    }
    return undefined;
  }

  /** The page's DPoP key, when tokens are to be bound to it: configured on, and offered by the server. */
  async dpopKeyFor(as: oauth.AuthorizationServer): Promise<DpopKey | undefined> {
    if (!this.options.dpop || !as.dpop_signing_alg_values_supported?.includes('ES256')) return undefined;
    return this.dpopKey;
  }

  private async requestOptions(as: oauth.AuthorizationServer) {
    const key = await this.dpopKeyFor(as);
    if (key) this.dpopHandle ??= oauth.DPoP(this.client, key.keyPair);
    return key ? { ...this.httpOptions, DPoP: this.dpopHandle } : this.httpOptions;
  }

  /** RFC 9449 §8: a server may ask for a nonce (use_dpop_nonce); oauth4webapi keeps it, one retry uses it. */
  private async withDpopNonceRetry<T>(request: () => Promise<T>): Promise<T> {
    try {
      return await request();
    } catch (error) {
      if (!oauth.isDPoPNonceError(error)) throw error;
      return request();
    }
  }

  private toTokens(result: oauth.TokenEndpointResponse, previous?: Tokens): Tokens {
    const expiresIn =
      typeof result.expires_in === 'number' && result.expires_in > 0 ? result.expires_in : 3600;
    const idClaims = oauth.getValidatedIdTokenClaims(result);
    const refreshToken = result.refresh_token ?? previous?.refreshToken;
    const idToken = result.id_token ?? previous?.idToken;
    const claims = idClaims ? { ...idClaims } : previous?.idClaims;
    const scope = result.scope ?? previous?.scope;
    return {
      accessToken: result.access_token,
      tokenType: result.token_type.toLowerCase() === 'dpop' ? 'DPoP' : 'Bearer',
      expiresIn,
      expiresAt: Date.now() + expiresIn * 1000,
      ...(refreshToken ? { refreshToken } : {}),
      ...(idToken ? { idToken } : {}),
      ...(claims ? { idClaims: claims } : {}),
      ...(scope ? { scope } : {}),
    };
  }
}
