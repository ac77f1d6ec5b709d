// Every outbound fetch (discovery, JWKS) is bounded in time and size and never follows redirects.
import { BearerConfigError } from './errors.ts';

export type FetchLimits = { timeoutMs: number; maxBytes: number };

/** The server answered, with another status than 200. */
export class FetchStatusError extends Error {
  readonly status: number;
  constructor(url: string, status: number) {
    super(`GET ${url} answered ${status}`);
    this.status = status;
  }
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

/** https everywhere; plain http only for loopback hosts (the embedded dev issuer, tests). */
export function assertFetchableUrl(value: string, what: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new BearerConfigError(`${what} is not a URL: ${JSON.stringify(value)}`);
  }
  if (url.username !== '' || url.password !== '') {
    throw new BearerConfigError(`${what} must not carry a user name or password`);
  }
  const loopback = LOOPBACK.has(url.hostname) || url.hostname.endsWith('.localhost');
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) {
    throw new BearerConfigError(`${what} must use https (http is accepted for localhost only): ${value}`);
  }
  return url;
}

export async function fetchJson(url: string, { timeoutMs, maxBytes }: FetchLimits): Promise<unknown> {
  let response: Response;
  try {
    response = await fetch(url, {
      headers: { accept: 'application/json' },
      redirect: 'error',
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    // undici says "fetch failed"; the cause (ECONNREFUSED, timeout...) is what an operator needs.
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    const reason = cause?.code ?? cause?.message ?? (error as Error).message;
    throw new Error(`GET ${url} failed: ${reason}`, { cause: error });
  }
  if (response.status !== 200) {
    await response.body?.cancel();
    throw new FetchStatusError(url, response.status);
  }
  const declared = Number(response.headers.get('content-length') ?? '0');
  if (declared > maxBytes) {
    await response.body?.cancel();
    throw new Error(`GET ${url} answered ${declared} bytes, more than ${maxBytes}`);
  }
  const body = await response.arrayBuffer();
  if (body.byteLength > maxBytes) throw new Error(`GET ${url} answered more than ${maxBytes} bytes`);
  return JSON.parse(new TextDecoder().decode(body));
}
