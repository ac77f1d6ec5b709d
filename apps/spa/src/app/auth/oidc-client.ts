// The protocol side of sign-in, on oauth4webapi (discovery, PKCE S256, state, nonce, the
// code exchange, ID token claim validation, refresh, userinfo, revocation). Framework-free:
// the Angular service in auth.service.ts wraps these promises in $q.
import * as oauth from 'oauth4webapi';
import { isLoopbackHost } from '../api-auth/allow-list.ts';
import type { LoginState } from './login-state-store.ts';

export interface OidcClientOptions {
  readonly issuer: string;
  readonly clientId: string;
  readonly audience: string;
  readonly scope: string;
  readonly redirectUri: string;
  readonly postLogoutRedirectUri: string;
  readonly auth0Domain?: string;
}

export interface Tokens {
  readonly accessToken: string;
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

  constructor(options: OidcClientOptions) {
    this.options = options;
    this.client = { client_id: options.clientId };
    // oauth4webapi refuses http unless told; we allow it only for a loopback issuer (development).
    const issuer = new URL(options.issuer);
    this.httpOptions =
      issuer.protocol === 'http:' && isLoopbackHost(issuer.hostname)
        ? { [oauth.allowInsecureRequests]: true }
        : {};
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

  /** Builds the /authorize URL and the state to keep until the callback. */
  async createAuthorizationRequest(returnTo: string): Promise<{ url: string; state: LoginState }> {
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
    url.searchParams.set('response_mode', 'query');
    url.searchParams.set('scope', this.options.scope);
    url.searchParams.set('audience', this.options.audience);
    url.searchParams.set('code_challenge', await oauth.calculatePKCECodeChallenge(codeVerifier));
    url.searchParams.set('code_challenge_method', 'S256');
    url.searchParams.set('state', state);
    url.searchParams.set('nonce', nonce);
    return { url: url.href, state: { codeVerifier, state, nonce, returnTo, createdAt: Date.now() } };
  }

  /** Checks the callback URL against the saved state (state, iss, error) and redeems the code. */
  async exchangeCode(callbackUrl: URL, saved: LoginState): Promise<Tokens> {
    try {
      const as = await this.discover();
      const params = oauth.validateAuthResponse(as, this.client, callbackUrl, saved.state);
      const response = await oauth.authorizationCodeGrantRequest(
        as,
        this.client,
        this.clientAuth,
        params,
        this.options.redirectUri,
        saved.codeVerifier,
        this.httpOptions,
      );
      const result = await oauth.processAuthorizationCodeResponse(as, this.client, response, {
        expectedNonce: saved.nonce,
        requireIdToken: true,
      });
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
      const response = await oauth.refreshTokenGrantRequest(
        as,
        this.client,
        this.clientAuth,
        current.refreshToken,
        this.httpOptions,
      );
      const result = await oauth.processRefreshTokenResponse(as, this.client, response);
      return this.toTokens(result, current);
    } catch (error) {
      throw toSignInError(error);
    }
  }

  async userInfo(tokens: Tokens): Promise<Record<string, unknown>> {
    try {
      const as = await this.discover();
      const response = await oauth.userInfoRequest(as, this.client, tokens.accessToken, this.httpOptions);
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
      expiresIn,
      expiresAt: Date.now() + expiresIn * 1000,
      ...(refreshToken ? { refreshToken } : {}),
      ...(idToken ? { idToken } : {}),
      ...(claims ? { idClaims: claims } : {}),
      ...(scope ? { scope } : {}),
    };
  }
}
