// The session across page loads and tabs: silent restore (hidden iframe, then a top-level prompt=none
// redirect when the iframe cannot tell), the "was signed in" hint, sign-out in every tab, a sign-in in
// another tab picked up on focus, and the callback's fixed message for a sign-in this tab did not start.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it, mock } from 'node:test';
import { AuthService } from '../src/auth/auth.service.ts';
import { saveLoginState } from '../src/auth/login-state-store.ts';
import { type OidcClient, SignInError, type Tokens } from '../src/auth/oidc-client.ts';
import { SilentAuthTimeout } from '../src/auth/silent-authorize.ts';
import {
  type Broadcast,
  fakeBroadcastChannel,
  fakeQ,
  fakeRootScope,
  fakeTimeout,
  fakeWindow,
  MemoryStorage,
  settle,
} from './fakes.ts';

const HINT = 'calling-api.was-signed-in';
const options = {
  issuer: 'http://localhost:4000/',
  clientId: 'angularjs-spa',
  audience: 'http://localhost:3001/api',
  scope: 'openid offline_access read:messages',
  redirectUri: 'http://localhost:3000/callback',
  postLogoutRedirectUri: 'http://localhost:3000/',
};

const tokens = (n: number): Tokens => ({
  accessToken: `at${n}`,
  tokenType: 'Bearer',
  expiresIn: 3600,
  expiresAt: Date.now() + 3_600_000,
  refreshToken: `rt${n}`,
  idToken: `id${n}`,
  idClaims: { sub: 'auth0|alice', email: 'alice@example.com' },
});

type Frame = () => Promise<URLSearchParams>;

/** A tab of the app at `href`, with a scripted server: the iframe's answer and the code exchange. */
function tab(
  href: string,
  script: { frame?: Frame; exchange?: () => Promise<Tokens>; refresh?: () => Promise<Tokens> },
  shared: { localStorage?: MemoryStorage; Channel?: typeof BroadcastChannel } = {},
) {
  const events: Broadcast[] = [];
  const fake = fakeWindow(
    href,
    new MemoryStorage(),
    shared.localStorage ?? new MemoryStorage(),
    shared.Channel,
  );
  const auth = new AuthService(fakeQ, fakeRootScope(events), fakeTimeout(), fake.window, {
    ...options,
    issuer: href.startsWith('https://app.example') ? 'https://login.example/' : options.issuer,
  });
  const calls = {
    frames: 0,
    requests: [] as { returnTo: string; prompt?: string; responseMode: string }[],
    revoked: [] as string[],
  };
  (auth as unknown as { oidc: Partial<OidcClient> }).oidc = {
    issuer: href.startsWith('https://app.example') ? 'https://login.example/' : options.issuer,
    createAuthorizationRequest: async (returnTo, mode = { responseMode: 'query' }) => {
      calls.requests.push({ returnTo, ...mode });
      return {
        url: `http://localhost:4000/authorize?prompt=${mode.prompt ?? ''}`,
        state: {
          codeVerifier: 'v'.repeat(43),
          state: 's',
          nonce: 'n',
          returnTo,
          createdAt: Date.now(),
          ...(mode.prompt ? { silent: true } : {}),
        },
      };
    },
    exchangeCode: async () => (script.exchange ?? (async () => tokens(1)))(),
    refresh: async () => (script.refresh ?? (async () => tokens(2)))(),
    revoke: async (token) => {
      calls.revoked.push(token);
    },
    endSessionUrl: async () => 'http://localhost:4000/v2/logout',
  } as Partial<OidcClient>;
  (auth as unknown as { frame: Frame }).frame = async () => {
    calls.frames++;
    if (!script.frame) throw new Error('no iframe expected');
    return script.frame();
  };
  return { auth, events, calls, ...fake };
}

const answer =
  (params: Record<string, string>): Frame =>
  async () =>
    new URLSearchParams(params);

// Renewal timers are an hour away: fake time, so nothing keeps the test process waiting for them.
beforeEach(() => mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_800_000_000_000 }));
afterEach(() => mock.timers.reset());

describe('session restore', () => {
  it('makes no silent request for a visitor who never signed in', async () => {
    const t = tab('http://localhost:3000/ping', {});
    t.auth.start();
    await settle();
    assert.equal(t.auth.status, 'signed-out');
    assert.equal(t.calls.frames, 0);
    assert.deepEqual(t.calls.requests, []);
  });

  it('restores the session in a hidden iframe on a reload or deep link, and stays on that page', async () => {
    const t = tab('http://localhost:3000/ping?x=1', { frame: answer({ code: 'c', state: 's' }) });
    t.localStorage.setItem(HINT, '1');
    t.auth.start();
    assert.equal(t.auth.status, 'restoring');
    assert.equal(await t.auth.getAccessToken(), 'at1', 'a call made meanwhile waits for the restore');
    assert.equal(t.auth.status, 'signed-in');
    assert.deepEqual(t.calls.requests, [{ returnTo: '/', prompt: 'none', responseMode: 'web_message' }]);
    assert.deepEqual(t.assigned, [], 'no navigation');
  });

  it('signs out quietly on login_required when the iframe shares the server site, and forgets the hint', async () => {
    const t = tab('http://localhost:3000/ping', { frame: answer({ error: 'login_required', state: 's' }) });
    t.localStorage.setItem(HINT, '1');
    (t.auth as unknown as { oidc: { exchangeCode: () => Promise<Tokens> } }).oidc.exchangeCode = async () => {
      throw new SignInError('login_required', 'End-User authentication is required');
    };
    t.auth.start();
    await settle(10);
    assert.equal(t.auth.status, 'signed-out');
    assert.deepEqual(t.events, [], 'no notice');
    assert.equal(t.localStorage.getItem(HINT), null);
    assert.deepEqual(t.assigned, []);
  });

  it('falls back to a top-level prompt=none redirect when the iframe cannot see the session (another site)', async () => {
    const t = tab('https://app.example/ping?x=1', { frame: answer({ error: 'login_required', state: 's' }) });
    t.localStorage.setItem(HINT, '1');
    (t.auth as unknown as { oidc: { exchangeCode: () => Promise<Tokens> } }).oidc.exchangeCode = async () => {
      throw new SignInError('login_required', 'third-party cookies blocked');
    };
    t.auth.start();
    await settle(10);
    assert.equal(t.calls.requests.at(-1)?.prompt, 'none');
    assert.equal(t.calls.requests.at(-1)?.responseMode, 'query');
    assert.equal(t.calls.requests.at(-1)?.returnTo, '/ping?x=1', 'back to the deep link');
    assert.equal(t.assigned.length, 1, 'the page goes to the authorization server');
    assert.equal(t.auth.status, 'restoring');
  });

  it('falls back to the redirect when the iframe does not answer', async () => {
    const t = tab('http://localhost:3000/', {
      frame: async () => {
        throw new SilentAuthTimeout('no answer');
      },
    });
    t.localStorage.setItem(HINT, '1');
    t.auth.start();
    await settle(10);
    assert.equal(t.assigned.length, 1);
  });

  it('completes a silent redirect that finds no session quietly, back to the saved page', async () => {
    const t = tab('http://localhost:3000/callback?error=login_required&state=s', {
      exchange: async () => {
        throw new SignInError('login_required', 'End-User authentication is required');
      },
    });
    t.localStorage.setItem(HINT, '1');
    saveLoginState(t.sessionStorage, {
      codeVerifier: 'v'.repeat(43),
      state: 's',
      nonce: 'n',
      returnTo: '/ping',
      createdAt: Date.now(),
      silent: true,
    });
    assert.equal(await t.auth.handleRedirectCallback(), '/ping');
    assert.equal(t.auth.status, 'signed-out');
    assert.equal(t.localStorage.getItem(HINT), null);
  });

  it("shows a fixed message for a callback this tab did not start, never the query's text", async () => {
    const t = tab(
      'http://localhost:3000/callback?error=access_denied&error_description=Your%20account%20is%20locked%2C%20call%20%2B1-555',
      {},
    );
    await assert.rejects(Promise.resolve(t.auth.handleRedirectCallback()), (error: SignInError) => {
      assert.equal(error.error, 'invalid_state');
      assert.doesNotMatch(error.errorDescription, /locked|555/);
      return true;
    });
  });
});

describe('tabs', () => {
  it('signs every tab out when one signs out, and keeps no hint', async () => {
    const localStorage = new MemoryStorage();
    const Channel = fakeBroadcastChannel();
    const one = tab(
      'http://localhost:3000/',
      { frame: answer({ code: 'c', state: 's' }) },
      { localStorage, Channel },
    );
    const two = tab(
      'http://localhost:3000/ping',
      { frame: answer({ code: 'c', state: 's' }) },
      { localStorage, Channel },
    );
    localStorage.setItem(HINT, '1');
    one.auth.start();
    two.auth.start();
    await settle(10);
    assert.equal(one.auth.status, 'signed-in');
    assert.equal(two.auth.status, 'signed-in');
    await one.auth.logout();
    await settle();
    assert.equal(two.auth.isAuthenticated(), false);
    assert.equal(two.auth.status, 'signed-out');
    assert.equal(localStorage.getItem(HINT), null);
    assert.deepEqual(one.calls.revoked, ['rt1']);
  });

  it('picks up a sign-in made in another tab when this tab gets the focus', async () => {
    const localStorage = new MemoryStorage();
    const Channel = fakeBroadcastChannel();
    const idle = tab(
      'http://localhost:3000/',
      { frame: answer({ code: 'c', state: 's' }) },
      { localStorage, Channel },
    );
    idle.auth.start();
    await settle();
    assert.equal(idle.auth.status, 'signed-out');
    assert.equal(idle.calls.frames, 0);
    const other = tab('http://localhost:3000/callback?code=c&state=s', {}, { localStorage, Channel });
    saveLoginState(other.sessionStorage, {
      codeVerifier: 'v'.repeat(43),
      state: 's',
      nonce: 'n',
      returnTo: '/',
      createdAt: Date.now(),
    });
    await other.auth.handleRedirectCallback();
    await settle();
    assert.equal(idle.calls.frames, 0, 'nothing while in the background');
    idle.fire('focus');
    await settle(10);
    assert.equal(idle.calls.frames, 1);
    assert.equal(idle.auth.status, 'signed-in');
  });
});

describe('renewal', () => {
  it('falls back to the iframe when the refresh token is refused, and keeps the session', async () => {
    const t = tab('http://localhost:3000/', {
      frame: answer({ code: 'c2', state: 's' }),
      refresh: async () => {
        throw new SignInError('invalid_grant', 'grant request is invalid');
      },
    });
    t.localStorage.setItem(HINT, '1');
    let exchanged = 0;
    (t.auth as unknown as { oidc: { exchangeCode: () => Promise<Tokens> } }).oidc.exchangeCode = async () =>
      tokens(++exchanged * 10);
    t.auth.start();
    await settle(10);
    assert.equal(await t.auth.getAccessToken(), 'at10');
    assert.equal(await t.auth.renewAfterRejection('at10'), 'at20');
    assert.deepEqual(t.events, []);
  });

  it('signs out with a one-line reason when neither the refresh token nor the iframe can renew', async () => {
    const t = tab('http://localhost:3000/', {
      frame: answer({ code: 'c', state: 's' }),
      refresh: async () => {
        throw new SignInError('invalid_grant', 'grant request is invalid');
      },
    });
    t.localStorage.setItem(HINT, '1');
    t.auth.start();
    await settle(10);
    (t.auth as unknown as { frame: Frame }).frame = async () => {
      throw new SignInError('login_required', 'End-User authentication is required');
    };
    await assert.rejects(Promise.resolve(t.auth.renewAfterRejection('at1')));
    assert.equal(t.auth.status, 'signed-out');
    assert.equal(t.events.length, 1);
    assert.match(
      (t.events[0]!.detail as { description: string }).description,
      /^The session could not be renewed: grant request is invalid$/,
    );
    assert.equal(t.localStorage.getItem(HINT), null);
  });
});
