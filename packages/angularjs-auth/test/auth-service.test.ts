import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it, mock } from 'node:test';
import { AuthService, UNAUTHENTICATED_EVENT } from '../src/auth/auth.service.ts';
import { saveLoginState } from '../src/auth/login-state-store.ts';
import { type OidcClient, SignInError, type Tokens } from '../src/auth/oidc-client.ts';
import { type Broadcast, fakeQ, fakeRootScope, fakeTimeout, fakeWindow, settle } from './fakes.ts';

const options = {
  issuer: 'http://localhost:4000',
  clientId: 'angularjs-spa',
  audience: 'http://localhost:3001/api',
  scope: 'openid offline_access read:messages',
  redirectUri: 'http://localhost:3000/callback',
  postLogoutRedirectUri: 'http://localhost:3000/',
};

function tokens(n: number, lifetimeSeconds = 20, refreshToken: string | null = `rt${n}`): Tokens {
  return {
    accessToken: `at${n}`,
    tokenType: 'Bearer',
    expiresIn: lifetimeSeconds,
    expiresAt: Date.now() + lifetimeSeconds * 1000,
    idToken: `id${n}`,
    idClaims: { sub: 'auth0|alice', email: 'alice@example.com' },
    ...(refreshToken ? { refreshToken } : {}),
  };
}

/** An AuthService whose protocol client is a programmable fake; signed in with `first`. */
async function signedIn(first: Tokens, refresh: (current: Tokens) => Promise<Tokens>) {
  const events: Broadcast[] = [];
  const { window, assigned, sessionStorage } = fakeWindow('http://localhost:3000/callback?code=c&state=s');
  const auth = new AuthService(fakeQ, fakeRootScope(events), fakeTimeout(), window, options);
  const calls = { refresh: 0, revoke: [] as string[], exchange: 0 };
  const oidc: Partial<OidcClient> = {
    exchangeCode: async () => {
      calls.exchange++;
      return first;
    },
    refresh: async (current) => {
      calls.refresh++;
      return refresh(current);
    },
    revoke: async (token) => {
      calls.revoke.push(token);
    },
    endSessionUrl: async (idToken) => `http://localhost:4000/oidc/logout?id_token_hint=${idToken}`,
  };
  (auth as unknown as { oidc: Partial<OidcClient> }).oidc = oidc;
  saveLoginState(sessionStorage, {
    codeVerifier: 'v'.repeat(43),
    state: 's',
    nonce: 'n',
    returnTo: '/ping',
    createdAt: Date.now(),
  });
  const returnTo = await auth.handleRedirectCallback();
  return { auth, events, assigned, sessionStorage, calls, returnTo };
}

describe('AuthService', () => {
  beforeEach(() => mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_800_000_000_000 }));
  afterEach(() => mock.timers.reset());

  it('completes the callback once: tokens in memory, login state gone, back to the saved path', async () => {
    const { auth, sessionStorage, returnTo, calls } = await signedIn(tokens(1), async () => tokens(2));
    assert.equal(returnTo, '/ping');
    assert.equal(sessionStorage.length, 0);
    assert.equal(auth.isAuthenticated(), true);
    assert.equal(await auth.getAccessToken(), 'at1');
    assert.equal(auth.getProfile()?.['email'], 'alice@example.com');
    await assert.rejects(
      Promise.resolve(auth.handleRedirectCallback()),
      (error: SignInError) => error.error === 'invalid_state',
    );
    assert.equal(calls.exchange, 1);
  });

  it('renews at 80 % of a 20 s lifetime, every time, without spinning', async () => {
    let n = 1;
    const { auth, calls } = await signedIn(tokens(1), async () => tokens(++n));
    mock.timers.tick(15_999);
    await settle();
    assert.equal(calls.refresh, 0);
    mock.timers.tick(1);
    await settle();
    assert.equal(calls.refresh, 1);
    assert.equal(await auth.getAccessToken(), 'at2');
    for (let s = 0; s < 64; s++) {
      mock.timers.tick(1000);
      await settle();
    }
    assert.equal(calls.refresh, 5, 'one refresh per 16 s over 80 s');
    assert.equal(await auth.getAccessToken(), 'at6');
  });

  it('shares one refresh among concurrent 401 renewals (rotation must never see a reused token)', async () => {
    let n = 1;
    const { auth, calls } = await signedIn(tokens(1, 3600), async () => {
      await new Promise((resolve) => setTimeout(resolve, 50));
      return tokens(++n, 3600);
    });
    const renewed = Promise.all([
      auth.renewAfterRejection('at1'),
      auth.renewAfterRejection('at1'),
      auth.renewAfterRejection('at1'),
    ]);
    await settle();
    mock.timers.tick(50);
    assert.deepEqual(await renewed, ['at2', 'at2', 'at2']);
    assert.equal(calls.refresh, 1);
    assert.equal(
      await auth.renewAfterRejection('at1'),
      'at2',
      'a late 401 for the old token reuses the new one',
    );
    assert.equal(calls.refresh, 1);
  });

  it('renews a token about to expire before handing it out', async () => {
    const { auth, calls } = await signedIn(tokens(1, 3600), async () => tokens(2, 3600));
    mock.timers.tick(3_596_000);
    assert.equal(await auth.getAccessToken(), 'at2');
    assert.equal(calls.refresh, 1);
  });

  it('ends the session and says so when the refresh token is refused', async () => {
    const { auth, events } = await signedIn(tokens(1), async () => {
      throw new SignInError('invalid_grant', 'grant request is invalid');
    });
    await assert.rejects(
      Promise.resolve(auth.renewAfterRejection('at1')),
      (error: SignInError) => error.error === 'invalid_grant',
    );
    assert.equal(auth.isAuthenticated(), false);
    assert.equal(await auth.getAccessToken(), undefined);
    assert.deepEqual(
      events.map((e) => [e.name, (e.detail as { reason: string }).reason]),
      [[UNAUTHENTICATED_EVENT, 'expired']],
    );
    mock.timers.tick(60_000);
    await settle();
    assert.equal(events.length, 1, 'no timer left behind');
  });

  it('without a refresh token, renews in the hidden iframe at 80 % of the lifetime', async () => {
    const { auth, calls } = await signedIn(tokens(1, 20, null), async () => tokens(2));
    let frames = 0;
    (auth as unknown as { frame: () => Promise<URLSearchParams> }).frame = async () => {
      frames++;
      return new URLSearchParams({ code: 'c2', state: 's' });
    };
    const oidc = (auth as unknown as { oidc: Partial<OidcClient> }).oidc;
    oidc.createAuthorizationRequest = async (returnTo) => ({
      url: 'http://localhost:4000/authorize?prompt=none',
      state: {
        codeVerifier: 'v'.repeat(43),
        state: 's',
        nonce: 'n',
        returnTo,
        createdAt: Date.now(),
        silent: true,
      },
    });
    oidc.exchangeCode = async () => tokens(3, 20, null);
    mock.timers.tick(16_000);
    await settle();
    assert.equal(calls.refresh, 0, 'no refresh token to use');
    assert.equal(frames, 1);
    assert.equal(await auth.getAccessToken(), 'at3');
  });

  it('starts a login with the state saved for the callback, or says why it cannot', async () => {
    const events: Broadcast[] = [];
    const { window, assigned, sessionStorage } = fakeWindow('http://localhost:3000/profile?tab=1');
    const auth = new AuthService(fakeQ, fakeRootScope(events), fakeTimeout(), window, options);
    const saved = {
      codeVerifier: 'v'.repeat(43),
      state: 's',
      nonce: 'n',
      returnTo: '/profile?tab=1',
      createdAt: Date.now(),
    };
    let asked: string | undefined;
    (auth as unknown as { oidc: Partial<OidcClient> }).oidc = {
      createAuthorizationRequest: async (returnTo) => {
        asked = returnTo;
        return { url: 'http://localhost:4000/authorize?x=1', state: saved };
      },
    };
    await auth.login();
    assert.equal(asked, '/profile?tab=1', 'returns to the page the user was on');
    assert.deepEqual(assigned, ['http://localhost:4000/authorize?x=1']);
    assert.equal(sessionStorage.length, 1);
    await auth.login('https://evil.example/');
    assert.equal(asked, '/', 'never to another origin');
    (auth as unknown as { oidc: Partial<OidcClient> }).oidc = {
      createAuthorizationRequest: async () => {
        throw new TypeError('Failed to fetch');
      },
    };
    await auth.login();
    assert.equal(auth.loginError?.error, 'network_error');
    assert.equal(assigned.length, 2);
  });

  it('logs out: memory cleared, refresh token revoked, server session ended with id_token_hint', async () => {
    const { auth, calls, assigned } = await signedIn(tokens(1), async () => tokens(2));
    await auth.logout();
    assert.equal(auth.isAuthenticated(), false);
    assert.deepEqual(calls.revoke, ['rt1']);
    assert.deepEqual(assigned, ['http://localhost:4000/oidc/logout?id_token_hint=id1']);
    mock.timers.tick(60_000);
    await settle();
    assert.equal(calls.refresh, 0, 'the renewal timer died with the session');
  });
});
