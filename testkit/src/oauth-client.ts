// A small OAuth test client over real HTTP: cookie jar, manual redirects, login-form posting, PKCE.
// Exported for other suites (resilience, e2e helpers); it only needs fetch.
import { createHash, randomBytes } from 'node:crypto';

export type TokenResponse = {
  access_token?: string;
  id_token?: string;
  refresh_token?: string;
  token_type?: string;
  expires_in?: number;
  scope?: string;
  error?: string;
  error_description?: string;
};

export type HttpResult = { status: number; headers: Headers; body: string; url: string };

export class CookieJar {
  private readonly cookies = new Map<string, string>();

  store(headers: Headers): void {
    for (const line of headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      const expired = attrs.some((a) => /^\s*max-age=0/i.test(a) || /^\s*expires=Thu, 01 Jan 1970/i.test(a));
      if (expired || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  header(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  clear(): void {
    this.cookies.clear();
  }
}

export function pkcePair(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

/** Hidden and visible form fields of the first form whose action contains `actionPart`. */
export function formFields(
  html: string,
  actionPart: string,
): { action: string; fields: Record<string, string> } | undefined {
  const forms = html.match(/<form[\s\S]*?<\/form>/g) ?? [];
  for (const f of forms) {
    const action = /action="([^"]*)"/.exec(f)?.[1]?.replaceAll('&amp;', '&');
    if (action === undefined || !action.includes(actionPart)) continue;
    const fields: Record<string, string> = {};
    for (const input of f.match(/<input[^>]*>/g) ?? []) {
      const name = /name="([^"]*)"/.exec(input)?.[1];
      if (name) fields[name] = /value="([^"]*)"/.exec(input)?.[1]?.replaceAll('&amp;', '&') ?? '';
    }
    return { action, fields };
  }
  return undefined;
}

export class OAuthTestClient {
  readonly issuer: string;
  readonly jar = new CookieJar();

  constructor(issuer: string) {
    this.issuer = issuer;
  }

  /** One request, no redirect following; cookies kept. */
  async request(url: string, init: RequestInit = {}): Promise<HttpResult> {
    const headers = new Headers(init.headers);
    const cookie = this.jar.header();
    if (cookie && new URL(url, this.issuer).origin === new URL(this.issuer).origin)
      headers.set('cookie', cookie);
    const res = await fetch(new URL(url, this.issuer), { ...init, headers, redirect: 'manual' });
    this.jar.store(res.headers);
    return {
      status: res.status,
      headers: res.headers,
      body: await res.text(),
      url: new URL(url, this.issuer).href,
    };
  }

  /** Follows redirects on the issuer; stops at the first response that is not a redirect or leaves the issuer. */
  async follow(url: string, init: RequestInit = {}): Promise<HttpResult> {
    let res = await this.request(url, init);
    for (let hops = 0; hops < 10 && res.status >= 300 && res.status < 400; hops++) {
      const next = new URL(res.headers.get('location')!, res.url);
      if (next.origin !== new URL(this.issuer).origin) return { ...res, url: next.href };
      res = await this.request(next.href);
    }
    return res;
  }

  async postForm(
    url: string,
    fields: Record<string, string>,
    headers: Record<string, string> = {},
  ): Promise<HttpResult> {
    return this.follow(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: new URLSearchParams(fields).toString(),
    });
  }

  /** Submits the hosted login form on a login page. */
  async login(page: HttpResult, email: string, password: string): Promise<HttpResult> {
    const form = formFields(page.body, '/login');
    if (!form) throw new Error(`no login form on ${page.url} (status ${page.status})`);
    return this.postForm(form.action, { ...form.fields, email, password });
  }

  authorizeUrl(params: Record<string, string>): string {
    return `/authorize?${new URLSearchParams(params)}`;
  }

  async token(
    params: Record<string, string>,
    headers: Record<string, string> = {},
  ): Promise<{ status: number; body: TokenResponse; headers: Headers }> {
    const res = await fetch(new URL('/oauth/token', this.issuer), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: new URLSearchParams(params).toString(),
    });
    return { status: res.status, body: (await res.json()) as TokenResponse, headers: res.headers };
  }

  /**
   * The SPA's whole sign-in: /authorize with PKCE, the login form, then the code exchange.
   * Returns the token response and the callback URL the browser would land on.
   */
  async signIn(opts: {
    email: string;
    password: string;
    clientId?: string;
    redirectUri?: string;
    audience?: string;
    scope?: string;
    /** Extra headers for the code exchange (a DPoP proof). */
    tokenHeaders?: Record<string, string>;
  }): Promise<{ tokens: TokenResponse; status: number; callback: URL }> {
    const clientId = opts.clientId ?? 'angularjs-spa';
    const redirectUri = opts.redirectUri ?? 'http://localhost:3000/callback';
    const { verifier, challenge } = pkcePair();
    const state = randomBytes(16).toString('base64url');
    const params: Record<string, string> = {
      client_id: clientId,
      response_type: 'code',
      redirect_uri: redirectUri,
      scope: opts.scope ?? 'openid profile email offline_access read:messages write:messages',
      state,
      nonce: randomBytes(16).toString('base64url'),
      code_challenge: challenge,
      code_challenge_method: 'S256',
    };
    if (opts.audience !== '') params.audience = opts.audience ?? 'http://localhost:3001/api';
    let res = await this.follow(this.authorizeUrl(params));
    if (res.status === 200 && formFields(res.body, '/login'))
      res = await this.login(res, opts.email, opts.password);
    const callback = new URL(res.url);
    if (!res.url.startsWith(redirectUri))
      throw new Error(
        `sign-in did not reach the callback: ${res.status} ${res.url}\n${res.body.slice(0, 500)}`,
      );
    if (callback.searchParams.get('state') !== state) throw new Error('state mismatch');
    const code = callback.searchParams.get('code');
    if (!code) throw new Error(`no code: ${callback.search}`);
    const { status, body } = await this.token(
      {
        grant_type: 'authorization_code',
        client_id: clientId,
        code,
        redirect_uri: redirectUri,
        code_verifier: verifier,
      },
      opts.tokenHeaders,
    );
    return { tokens: body, status, callback };
  }
}

export function decodeJwt(token: string): {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
} {
  const [h, p] = token.split('.');
  return {
    header: JSON.parse(Buffer.from(h!, 'base64url').toString()) as Record<string, unknown>,
    payload: JSON.parse(Buffer.from(p!, 'base64url').toString()) as Record<string, unknown>,
  };
}
