import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type angular from 'angular';
import { parseAllowList } from '../src/api-auth/allow-list.ts';
import {
  ApiAuthInterceptor,
  type ApiRejection,
  type ApiRequestConfig,
} from '../src/api-auth/api-auth.interceptor.ts';
import type { ApiAuthSettings } from '../src/api-auth/api-auth.provider.ts';
import { UNAUTHENTICATED_EVENT } from '../src/auth/auth.service.ts';
import { type Broadcast, fakeQ, fakeRootScope, fakeWindow } from './fakes.ts';

const API = 'http://localhost:3001';

interface Answer {
  readonly status: number;
  readonly wwwAuthenticate?: string;
}

/**
 * An interceptor wired to a fake $http that runs the interceptor like AngularJS does and answers
 * from a script: 401 for any token in `rejectedTokens`, else 200.
 */
function setUp(options: {
  token?: string;
  renewedToken?: string;
  renewFails?: boolean;
  rejectedTokens?: string[];
}) {
  const events: Broadcast[] = [];
  const sent: { url: string; authorization: string | undefined; headers?: unknown }[] = [];
  let currentToken = options.token;
  let renewals = 0;
  const auth = {
    getAccessToken: () => currentToken,
    renewAfterRejection: async (rejected: string) => {
      renewals++;
      assert.equal(rejected, options.token);
      if (options.renewFails)
        throw Object.assign(new Error('x'), { errorDescription: 'grant request is invalid' });
      currentToken = options.renewedToken;
      return currentToken;
    },
  };
  const settings: ApiAuthSettings = {
    tokenGetter: [
      'auth',
      (a: typeof auth) => a.getAccessToken(),
    ] as unknown as ApiAuthSettings['tokenGetter'],
    tokenRenewer: [
      'auth',
      'rejectedToken',
      (a: typeof auth, t: string) => a.renewAfterRejection(t),
    ] as unknown as ApiAuthSettings['tokenRenewer'],
    allowList: parseAllowList([API]),
  };
  const answer = (config: ApiRequestConfig): Answer => {
    const authorization = config.headers?.['Authorization'] as string | undefined;
    const token = authorization?.replace(/^Bearer /, '');
    if (config.url?.endsWith('/scoped')) {
      return {
        status: 403,
        wwwAuthenticate: 'Bearer realm="api", error="insufficient_scope", scope="read:messages"',
      };
    }
    if (!token || options.rejectedTokens?.includes(token)) {
      return {
        status: 401,
        wwwAuthenticate: token ? 'Bearer realm="api", error="invalid_token"' : 'Bearer realm="api"',
      };
    }
    return { status: 200 };
  };
  const $http = async (config: ApiRequestConfig): Promise<unknown> => {
    const ready = await interceptor.request(config);
    const authorization = ready.headers?.['Authorization'] as string | undefined;
    sent.push({ url: ready.url, authorization, ...(authorization ? {} : { headers: ready.headers }) });
    const { status, wwwAuthenticate } = answer(ready);
    const response = {
      status,
      config: ready,
      data: status === 200 ? { message: 'ok' } : { error: 'e', error_description: 'refused' },
      headers: (name: string) =>
        name.toLowerCase() === 'www-authenticate' ? (wwwAuthenticate ?? null) : null,
    } as unknown as ApiRejection;
    if (status < 400) return response;
    return interceptor.responseError(response);
  };
  const $injector = {
    invoke: (annotated: unknown[], _self: unknown, locals: Record<string, unknown>) => {
      const fn = annotated.at(-1) as (...args: unknown[]) => unknown;
      const names = annotated.slice(0, -1) as string[];
      return fn(...names.map((name) => (name === 'auth' ? auth : locals[name])));
    },
    get: (name: string) => {
      assert.equal(name, '$http');
      return $http;
    },
  } as unknown as angular.auto.IInjectorService;
  const { window } = fakeWindow('http://localhost:3000/ping');
  const interceptor = new ApiAuthInterceptor($injector, fakeQ, fakeRootScope(events), window, settings);
  const get = (url: string) =>
    $http({ method: 'GET', url }).then(
      (r) => r as ApiRejection,
      (r: ApiRejection) => r,
    );
  return { get, request: $http, sent, events, renewals: () => renewals };
}

describe('api-auth interceptor', () => {
  it('adds the token to the allowed origin only', async () => {
    const { get, sent } = setUp({ token: 'at1' });
    await get(`${API}/api/private`);
    await get('http://localhost.evil.localhost:3001/api/private');
    await get('http://localhost:3002/api/private');
    await get('/config.json');
    assert.deepEqual(
      sent.map((s) => s.authorization),
      ['Bearer at1', undefined, undefined, undefined],
    );
  });

  it('keeps an Authorization header the caller set itself', async () => {
    const { request, sent, renewals } = setUp({ token: 'at1' });
    await request({
      method: 'GET',
      url: `${API}/api/private`,
      headers: { authorization: 'Bearer chosen' },
    }).catch((rejection: ApiRejection) => rejection);
    assert.equal(renewals(), 0, 'a token we did not send is not ours to renew');
    assert.deepEqual(sent, [
      { url: `${API}/api/private`, authorization: undefined, headers: { authorization: 'Bearer chosen' } },
    ]);
  });

  it('after a 401, renews once and retries once with the new token', async () => {
    const { get, sent, events, renewals } = setUp({
      token: 'at1',
      renewedToken: 'at2',
      rejectedTokens: ['at1'],
    });
    const response = await get(`${API}/api/private`);
    assert.equal(response.status, 200);
    assert.equal(renewals(), 1);
    assert.deepEqual(
      sent.map((s) => s.authorization),
      ['Bearer at1', 'Bearer at2'],
    );
    assert.equal(events.length, 0);
  });

  it('raises `unauthenticated` when the retry is refused too, without looping', async () => {
    const { get, sent, events, renewals } = setUp({
      token: 'at1',
      renewedToken: 'at2',
      rejectedTokens: ['at1', 'at2'],
    });
    const response = await get(`${API}/api/private`);
    assert.equal(response.status, 401);
    assert.equal(renewals(), 1);
    assert.equal(sent.length, 2);
    assert.deepEqual(
      events.map((e) => [e.name, (e.detail as { reason: string }).reason]),
      [[UNAUTHENTICATED_EVENT, 'expired']],
    );
  });

  it('raises `unauthenticated` when the renewal fails, and does not retry', async () => {
    const { get, sent, events } = setUp({ token: 'at1', renewFails: true, rejectedTokens: ['at1'] });
    const response = await get(`${API}/api/private`);
    assert.equal(response.status, 401);
    assert.equal(sent.length, 1);
    assert.match((events[0]!.detail as { description: string }).description, /grant request is invalid/);
  });

  it('signed out: a 401 is reported as such, with no renewal attempt', async () => {
    const { get, events, renewals } = setUp({});
    const response = await get(`${API}/api/private`);
    assert.equal(response.status, 401);
    assert.equal(renewals(), 0);
    assert.equal((events[0]!.detail as { reason: string }).reason, 'signed-out');
  });

  it('a 403 carries the parsed challenge (the missing scope) and signs nobody out', async () => {
    const { get, events, renewals } = setUp({ token: 'at1' });
    const response = await get(`${API}/api/scoped`);
    assert.equal(response.status, 403);
    assert.equal(response.bearerChallenge?.['scope'], 'read:messages');
    assert.equal(renewals(), 0);
    assert.equal(events.length, 0);
  });

  it('leaves 401s from origins that got no token alone', async () => {
    const { get, events, renewals } = setUp({ token: 'at1' });
    const response = await get('http://localhost:3002/api/private');
    assert.equal(response.status, 401);
    assert.equal(response.bearerChallenge, undefined);
    assert.equal(renewals(), 0);
    assert.equal(events.length, 0);
  });
});

describe('api-auth interceptor with DPoP-bound tokens', () => {
  /** An API that wants a nonce (RFC 9449 §9) `nonceRounds` times before it accepts a proof. */
  function dpopSetUp(nonceRounds: number) {
    const sent: { authorization?: unknown; dpop?: unknown }[] = [];
    const asked: { url: string; nonce: string | undefined }[] = [];
    let rounds = 0;
    const settings: ApiAuthSettings = {
      tokenGetter: [
        'url',
        'nonce',
        (url: string, nonce: string | undefined) => {
          asked.push({ url, nonce });
          return {
            scheme: 'DPoP',
            token: 'at1',
            proof: `proof for GET ${url}${nonce ? ` with ${nonce}` : ''}`,
          };
        },
      ] as unknown as ApiAuthSettings['tokenGetter'],
      tokenRenewer: undefined,
      allowList: parseAllowList([API]),
    };
    const $http = async (config: ApiRequestConfig): Promise<unknown> => {
      const ready = await interceptor.request(config);
      sent.push({ authorization: ready.headers?.['Authorization'], dpop: ready.headers?.['DPoP'] });
      const wantsNonce = rounds++ < nonceRounds;
      const response = {
        status: wantsNonce ? 401 : 200,
        config: ready,
        data: {},
        headers: (name: string) =>
          wantsNonce
            ? ((
                {
                  'www-authenticate':
                    'DPoP error="use_dpop_nonce", error_description="Resource server requires nonce in DPoP proof"',
                  'dpop-nonce': `n${rounds}`,
                } as Record<string, string>
              )[name.toLowerCase()] ?? null)
            : null,
      } as unknown as ApiRejection;
      return wantsNonce ? interceptor.responseError(response) : response;
    };
    const $injector = {
      invoke: (annotated: unknown[], _self: unknown, locals: Record<string, unknown>) => {
        const fn = annotated.at(-1) as (...args: unknown[]) => unknown;
        return fn(...(annotated.slice(0, -1) as string[]).map((name) => locals[name]));
      },
      get: () => $http,
    } as unknown as angular.auto.IInjectorService;
    const events: Broadcast[] = [];
    const { window } = fakeWindow('http://localhost:3000/ping');
    const interceptor = new ApiAuthInterceptor($injector, fakeQ, fakeRootScope(events), window, settings);
    const get = (url: string) =>
      $http({ method: 'GET', url }).catch((r: ApiRejection) => r) as Promise<ApiRejection>;
    return { get, sent, asked, events };
  }

  it('sends Authorization: DPoP with a proof for this request, to the allowed origin only', async () => {
    const { get, sent, asked } = dpopSetUp(0);
    await get(`${API}/api/private?page=2`);
    await get('http://localhost:3002/api/private');
    assert.deepEqual(sent, [
      { authorization: 'DPoP at1', dpop: `proof for GET ${API}/api/private?page=2` },
      { authorization: undefined, dpop: undefined },
    ]);
    assert.deepEqual(asked, [{ url: `${API}/api/private?page=2`, nonce: undefined }]);
  });

  it("retries once with the server's nonce when it asks for one (use_dpop_nonce), and no more", async () => {
    const once = dpopSetUp(1);
    assert.equal((await once.get(`${API}/api/private`)).status, 200);
    assert.deepEqual(
      once.sent.map((s) => s.dpop),
      [`proof for GET ${API}/api/private`, `proof for GET ${API}/api/private with n1`],
    );
    const stubborn = dpopSetUp(5);
    assert.equal((await stubborn.get(`${API}/api/private`)).status, 401);
    assert.equal(stubborn.sent.length, 2, 'one retry, not a loop');
  });
});
