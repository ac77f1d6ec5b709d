// Shared pieces of the authorization-server resilience suites: sizes (FULL=1), a seeded PRNG,
// the real server and its admin CLI as child processes, and raw HTTP helpers that never follow redirects.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import {
  AUTH_SERVER_DIR,
  type AuthServerProcess,
  removeDir,
  startAuthServer,
  tempDir,
} from '@calling-api/testkit/auth-server';
import { formFields, OAuthTestClient, pkcePair } from '@calling-api/testkit/oauth-client';

export { FULL, type Rng, seededRng as seeded, size } from '@calling-api/testkit';
export {
  CookieJar,
  decodeJwt,
  formFields,
  OAuthTestClient,
  pkcePair,
  type TokenResponse,
} from '@calling-api/testkit/oauth-client';
export { type AuthServerProcess, removeDir, startAuthServer, tempDir };

export const SPA = 'angularjs-spa';
export const SPA_CALLBACK = 'http://localhost:3000/callback';
export const M2M = 'messages-m2m';
export const M2M_SECRET = 'dev-m2m-secret';
export const AUDIENCE = 'http://localhost:3001/api';
export const USERS = {
  alice: { email: 'alice@example.com', password: 'Alice-password-1' },
  bob: { email: 'bob@example.com', password: 'Bob-password-1' },
  carol: { email: 'carol@example.com', password: 'Carol-password-1' },
} as const;

export type CliResult = { code: number | null; stdout: string; stderr: string };

/** Runs the admin command line (`node src/cli/main.ts`) on a DATA_DIR, as an operator would. */
export function cli(dataDir: string, args: string[], stdin?: string): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(AUTH_SERVER_DIR, 'src/cli/main.ts'), ...args], {
      cwd: AUTH_SERVER_DIR,
      env: { PATH: process.env.PATH, DATA_DIR: dataDir, LOG_LEVEL: 'silent' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin ?? '');
  });
}

export async function cliOk(dataDir: string, args: string[], stdin?: string): Promise<string> {
  const r = await cli(dataDir, args, stdin);
  if (r.code !== 0) throw new Error(`CLI ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
  return r.stdout;
}

export type RawResponse = { status: number; headers: Headers; body: string };

/** One request, redirects never followed. */
export async function raw(url: string, init: RequestInit = {}): Promise<RawResponse> {
  const res = await fetch(url, { ...init, redirect: 'manual' });
  return { status: res.status, headers: res.headers, body: await res.text() };
}

/** Percentile of a sorted-or-not list of numbers (nearest rank). */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** Counts by key, printed as `200×3 400×12`. */
export class Tally {
  readonly counts = new Map<string, number>();
  add(key: string | number): void {
    const k = String(key);
    this.counts.set(k, (this.counts.get(k) ?? 0) + 1);
  }
  get total(): number {
    let n = 0;
    for (const v of this.counts.values()) n += v;
    return n;
  }
  toString(): string {
    return [...this.counts]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, v]) => `${k}×${v}`)
      .join(' ');
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Starts a server with quiet logs; the caller stops it and removes its DATA_DIR. */
export async function startQuietServer(
  opts: { dataDir?: string; port?: number; env?: Record<string, string> } = {},
): Promise<AuthServerProcess> {
  return startAuthServer({ ...opts, env: { LOG_LEVEL: 'warn', ...opts.env } });
}

/** A login page opened from `address` (X-Forwarded-For, believed by a server with TRUST_PROXY=true). */
export type LoginPage = { c: OAuthTestClient; form: { action: string; fields: Record<string, string> } };

export async function openLoginPage(
  issuer: string,
  address: string,
  c = new OAuthTestClient(issuer),
): Promise<LoginPage> {
  const page = await c.follow(
    c.authorizeUrl({
      client_id: SPA,
      response_type: 'code',
      redirect_uri: SPA_CALLBACK,
      scope: 'openid',
      code_challenge: pkcePair().challenge,
      code_challenge_method: 'S256',
    }),
    { headers: { 'x-forwarded-for': address } },
  );
  const form = formFields(page.body, '/login');
  if (!form) throw new Error(`no login page from ${address}: ${page.status} ${page.body.slice(0, 200)}`);
  return { c, form };
}

/** One post of a login form from `address` (a failed one shows the same form again: one page serves many tries). */
export async function postLogin(
  { c, form }: LoginPage,
  email: string,
  password: string,
  address: string,
): Promise<{ status: number; body: string; retryAfter: string | null }> {
  const res = await c.request(form.action, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': address },
    body: new URLSearchParams({ ...form.fields, email, password }).toString(),
  });
  return { status: res.status, body: res.body, retryAfter: res.headers.get('retry-after') };
}

/** One client_credentials request: its status and how long it took. */
export async function timedClientCredentials(issuer: string): Promise<{ status: number; ms: number }> {
  const start = performance.now();
  const res = await fetch(new URL('/oauth/token', issuer), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: M2M,
      client_secret: M2M_SECRET,
      audience: AUDIENCE,
    }),
  });
  await res.arrayBuffer();
  return { status: res.status, ms: performance.now() - start };
}
