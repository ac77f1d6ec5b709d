// The origin allow-list of the API interceptor. Our own code rather than angular-jwt's
// `whiteListedDomains`: that list holds host names matched by an unanchored pattern, so a
// token for `localhost` also went to `localhost.attacker.example` and to every port and
// scheme of `localhost`. Here an entry is a whole origin (scheme, host, port), optionally
// with a path prefix, and a request URL must match one exactly after WHATWG URL parsing.

export interface AllowedOrigin {
  /** `scheme://host[:port]` as serialised by the URL parser (default ports dropped, host lower-cased). */
  readonly origin: string;
  /** `/` for the whole origin, else a prefix without a trailing slash, e.g. `/api`. */
  readonly pathPrefix: string;
}

export class AllowListError extends Error {
  readonly code = 'ERR_ALLOW_LIST_ENTRY';
  constructor(entry: string, reason: string) {
    super(`API allow-list entry ${JSON.stringify(entry)} refused: ${reason}`);
    this.name = 'AllowListError';
  }
}

/**
 * True for the loopback hosts that browsers treat as potentially trustworthy over plain http
 * (W3C Secure Contexts §3.2; RFC 6761 §6.3 reserves `.localhost` for loopback): `localhost`,
 * `*.localhost`, 127.0.0.0/8 and `[::1]`. `hostname` is as the URL parser serialises it.
 */
export function isLoopbackHost(hostname: string): boolean {
  return (
    hostname === 'localhost' ||
    hostname.endsWith('.localhost') ||
    hostname === '[::1]' ||
    /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname)
  );
}

/**
 * Parses one configured entry, refusing anything that is not a plain origin with an optional
 * path: relative URLs, user-info, query, fragment, schemes other than https, and plain http
 * to any host but loopback (a token sent over http to a real host is readable on the wire).
 */
export function parseAllowedOrigin(entry: string): AllowedOrigin {
  let url: URL;
  try {
    url = new URL(entry);
  } catch {
    throw new AllowListError(entry, 'not an absolute URL (write e.g. "https://api.example.com")');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new AllowListError(entry, `scheme ${url.protocol} is not http(s)`);
  }
  if (url.protocol === 'http:' && !isLoopbackHost(url.hostname)) {
    throw new AllowListError(
      entry,
      'plain http is allowed only for loopback (localhost, *.localhost, 127.0.0.0/8, [::1]); use https',
    );
  }
  if (url.username !== '' || url.password !== '' || entry.includes('@')) {
    throw new AllowListError(entry, 'user-info ("user@host") is not allowed');
  }
  if (url.search !== '' || url.hash !== '' || entry.includes('?') || entry.includes('#')) {
    throw new AllowListError(entry, 'a query or fragment is not allowed');
  }
  const path = url.pathname.replace(/\/+$/, '');
  return { origin: url.origin, pathPrefix: path === '' ? '/' : path };
}

export function parseAllowList(entries: readonly string[]): AllowedOrigin[] {
  return entries.map(parseAllowedOrigin);
}

/**
 * Whether a request to `requestUrl` (absolute, or relative to `baseUrl`) may carry the token.
 * Unparseable URLs, URLs with user-info, and every origin not listed get `false`.
 */
export function isAllowedUrl(
  allowList: readonly AllowedOrigin[],
  requestUrl: string,
  baseUrl: string,
): boolean {
  let url: URL;
  try {
    url = new URL(requestUrl, baseUrl);
  } catch {
    return false;
  }
  if (url.username !== '' || url.password !== '') return false;
  return allowList.some((entry) => {
    if (entry.origin !== url.origin) return false;
    if (entry.pathPrefix === '/') return true;
    // `/api` covers `/api` and `/api/...`, never `/apiary`; dot segments are already resolved.
    return url.pathname === entry.pathPrefix || url.pathname.startsWith(`${entry.pathPrefix}/`);
  });
}
