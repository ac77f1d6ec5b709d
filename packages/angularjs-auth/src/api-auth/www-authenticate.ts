// Parses an HTTP `WWW-Authenticate` header (RFC 9110 §11.6.1) into challenges, so the app can
// show which scope a 403 asked for (RFC 6750 §3: `error="insufficient_scope", scope="..."`).
// oauth4webapi has such a parser but does not export it; this one is small and tested.

export interface AuthChallenge {
  /** Lower-cased scheme, e.g. `bearer`. */
  readonly scheme: string;
  /** Parameter names lower-cased; values unquoted. */
  readonly params: Readonly<Record<string, string>>;
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+/;

/** Returns the challenges in order, or `[]` when the header is absent or malformed. */
export function parseWwwAuthenticate(header: string | null | undefined): AuthChallenge[] {
  if (!header) return [];
  const challenges: AuthChallenge[] = [];
  let rest = header.trim();
  try {
    while (rest !== '') {
      const scheme = TOKEN.exec(rest)?.[0];
      if (!scheme) return [];
      rest = rest.slice(scheme.length);
      const params: Record<string, string> = {};
      if (/^[ \t]+/.test(rest)) {
        rest = rest.trimStart();
        rest = parseParams(rest, params);
      }
      challenges.push({ scheme: scheme.toLowerCase(), params });
      rest = skipCommas(rest);
    }
  } catch {
    return [];
  }
  return challenges;
}

function skipCommas(input: string): string {
  return input.replace(/^[ \t]*(,[ \t]*)*/, '');
}

// Reads one token68 or `name=value` pairs until the next challenge's scheme or the end.
function parseParams(input: string, params: Record<string, string>): string {
  const token68 = /^([A-Za-z0-9._~+/-]+=*)[ \t]*(?:,|$)/.exec(input);
  if (token68?.[1]) {
    params['token68'] = token68[1];
    return input.slice(token68[1].length);
  }
  let rest = input;
  while (rest !== '') {
    const name = TOKEN.exec(rest)?.[0];
    if (!name) throw new Error('malformed');
    const afterName = rest.slice(name.length).replace(/^[ \t]*/, '');
    // A token not followed by `=` is the next challenge's scheme.
    if (!afterName.startsWith('=')) return rest;
    let after = afterName.slice(1).replace(/^[ \t]*/, '');
    let value = '';
    if (after.startsWith('"')) {
      let i = 1;
      for (; i < after.length; i++) {
        const c = after[i];
        if (c === '\\') {
          i++;
          value += after[i] ?? '';
        } else if (c === '"') break;
        else value += c;
      }
      if (i >= after.length) throw new Error('unterminated quoted-string');
      after = after.slice(i + 1);
    } else {
      const token = TOKEN.exec(after)?.[0];
      if (!token) throw new Error('malformed');
      value = token;
      after = after.slice(token.length);
    }
    const key = name.toLowerCase();
    // RFC 6750 §3: each parameter at most once; keep the first rather than let a later one win.
    if (!(key in params)) params[key] = value;
    if (!/^[ \t]*(,|$)/.test(after)) throw new Error('malformed');
    rest = skipCommas(after);
  }
  return rest;
}

/** The parameters of the refusal: the `Bearer` challenge, or the `DPoP` one that carries an error. */
export function bearerChallenge(
  header: string | null | undefined,
): Readonly<Record<string, string>> | undefined {
  // A DPoP-bound token's refusals come as a DPoP challenge (RFC 9449 §7.1), with the same parameters.
  const challenges = parseWwwAuthenticate(header);
  return (
    challenges.find((c) => c.scheme === 'bearer' && c.params['error'] !== undefined) ??
    challenges.find((c) => c.scheme === 'dpop' && c.params['error'] !== undefined) ??
    challenges.find((c) => c.scheme === 'bearer')
  )?.params;
}
