// The transient state of one sign-in (PKCE verifier, state, nonce, return path). It must
// survive the full-page redirect to the authorization server, so it lives in sessionStorage
// (this tab only), and it is removed as soon as the callback reads it. Tokens never go here.

export interface LoginState {
  readonly codeVerifier: string;
  readonly state: string;
  readonly nonce: string;
  readonly returnTo: string;
  readonly createdAt: number;
  /** A prompt=none request (silent session restore): login_required then means "signed out", not an error. */
  readonly silent?: boolean;
}

const KEY = 'calling-api.login-state';
/** A sign-in that takes longer than this is treated as abandoned. */
const MAX_AGE_MS = 15 * 60 * 1000;

export function saveLoginState(storage: Storage, state: LoginState): void {
  storage.setItem(KEY, JSON.stringify(state));
}

/** Reads and removes the pending sign-in; `undefined` when none, stale or unreadable. */
export function takeLoginState(storage: Storage, now = Date.now()): LoginState | undefined {
  const raw = storage.getItem(KEY);
  storage.removeItem(KEY);
  if (raw === null) return undefined;
  try {
    const value = JSON.parse(raw) as Partial<LoginState>;
    const fields = [value.codeVerifier, value.state, value.nonce, value.returnTo];
    if (!fields.every((f) => typeof f === 'string' && f !== '') || typeof value.createdAt !== 'number') {
      return undefined;
    }
    if (now - value.createdAt > MAX_AGE_MS || value.createdAt > now + 60_000) return undefined;
    return value as LoginState;
  } catch {
    return undefined;
  }
}

export function clearLoginState(storage: Storage): void {
  storage.removeItem(KEY);
}

/**
 * Only a path of this app, never another origin (open redirect): the candidate must start
 * with `/` and still resolve to the same origin, which refuses `//host`, `/\\host` and
 * tab-or-newline tricks the URL parser would strip.
 */
export function safeReturnPath(candidate: string | undefined): string {
  if (!candidate?.startsWith('/')) return '/';
  const base = 'https://app.invalid';
  let url: URL;
  try {
    url = new URL(candidate, base);
  } catch {
    return '/';
  }
  if (url.origin !== base || candidate.startsWith('//') || candidate.startsWith('/\\')) return '/';
  if (url.pathname === '/callback') return '/';
  return url.pathname + url.search + url.hash;
}
