// Fuzzing the authorization server's inputs (issue 5, item 2) with a seeded PRNG (SEED=<n> replays):
// /authorize, /oauth/token, the login and consent forms, and the admin command line.
// Every answer must be a standard OAuth error or a 4xx: never a 5xx, never a stack trace, never a
// Location outside the issuer and the registered callbacks, never a token; a refused CLI command
// exits non-zero with a one-line error and leaves the database as it was.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, before, test } from 'node:test';
import {
  AUDIENCE,
  type AuthServerProcess,
  CookieJar,
  cli,
  cliOk,
  decodeJwt,
  formFields,
  M2M,
  M2M_SECRET,
  OAuthTestClient,
  pkcePair,
  type RawResponse,
  type Rng,
  removeDir,
  SPA,
  SPA_CALLBACK,
  seeded,
  size,
  startQuietServer,
  Tally,
  tempDir,
  USERS,
} from '../support/auth-harness.ts';

const THIRD = 'fuzz-third-party';
const THIRD_CALLBACK = 'http://localhost:3000/third/callback';
const REGISTERED = [SPA_CALLBACK, THIRD_CALLBACK, 'http://localhost:3000/'];
const EVIL = 'evil.example';

let server: AuthServerProcess;
let dataDir: string;
const rng: Rng = seeded('auth-fuzz');
const byStatus = new Tally();
const perEndpoint = new Map<string, Tally>();
let fiveXX = 0;
let tokensIssued = 0;

before(async () => {
  dataDir = tempDir('res-auth-fuzz-');
  // A third-party application, so the consent page exists (the CLI seeds the fresh DATA_DIR first).
  await cliOk(dataDir, [
    'create-app',
    '--type',
    'spa',
    '--client-id',
    THIRD,
    '--name',
    'Fuzz third party',
    '--callback',
    THIRD_CALLBACK,
    '--web-origin',
    'http://localhost:3000',
    '--third-party',
  ]);
  // TRUST_PROXY so each case can come from its own X-Forwarded-For address: the per-network limits
  // (50 failed sign-ins, 60 new interactions at once) would otherwise answer 429 before the parsing is
  // exercised.
  server = await startQuietServer({ dataDir, env: { TRUST_PROXY: 'true' } });
});

after(async () => {
  await server?.stop();
  if (dataDir) removeDir(dataDir);
});

let addresses = 0;
/** A network of its own for each case (X-Forwarded-For, believed with TRUST_PROXY). */
const ownNetwork = () => {
  addresses++;
  return { 'x-forwarded-for': `203.0.${(addresses >> 8) & 255}.${addresses & 255}` };
};

/** The invariants every HTTP answer must hold. */
function check(endpoint: string, label: string, res: RawResponse, tokenAllowed = false): void {
  byStatus.add(res.status);
  const tally = perEndpoint.get(endpoint) ?? new Tally();
  perEndpoint.set(endpoint, tally);
  tally.add(res.status);
  const what = `${endpoint} ${label} -> ${res.status} (SEED=${rng.seed})`;
  if (res.status >= 500) fiveXX++;
  assert.ok(res.status < 500, `${what}: 5xx\n${res.body.slice(0, 500)}`);
  if (!tokenAllowed) {
    if (/"access_token"|"refresh_token"|"id_token"/.test(res.body)) tokensIssued++;
    assert.ok(!/"access_token"/.test(res.body), `${what}: a token was issued`);
  }
  assert.ok(
    !/\n\s+at [^\n]*[(/]|node_modules|&nbsp;at /.test(res.body),
    `${what}: stack trace in the body\n${res.body.slice(0, 500)}`,
  );
  // A redirect is a Location header, or a self-posting form (response_mode=form_post).
  const formAction = /<form[^>]*action="([^"]*)"/i.exec(res.body)?.[1]?.replaceAll('&amp;', '&');
  for (const location of [res.headers.get('location'), formAction ?? null]) {
    if (location === null) continue;
    const target = new URL(location, server.issuer);
    const registered = REGISTERED.some((r) => {
      const u = new URL(r);
      return target.origin === u.origin && target.pathname === u.pathname;
    });
    assert.ok(
      target.origin === new URL(server.issuer).origin || registered,
      `${what}: redirect to an unregistered URI ${location}`,
    );
    assert.ok(['http:', 'https:'].includes(target.protocol), `${what}: redirect to ${location}`);
  }
}

async function send(url: string, init: RequestInit & { jar?: CookieJar } = {}): Promise<RawResponse> {
  const headers = new Headers(init.headers);
  if (init.jar) {
    const cookie = init.jar.header();
    if (cookie) headers.set('cookie', cookie);
  }
  const res = await fetch(new URL(url, server.issuer), { ...init, headers, redirect: 'manual' });
  init.jar?.store(res.headers);
  return { status: res.status, headers: res.headers, body: await res.text() };
}

// ---------------------------------------------------------------- value mutations

const junk = (n: number) => {
  const alphabet = 'abcXYZ019-._~%+&=?#/\\:@;,"\'<>{}[]|^` \t\u0000\u0001\u007f\u00e9\u2028\ud83d\ude00';
  const chars = Array.from(alphabet); // code points: no lone surrogates
  let s = '';
  for (let i = 0; i < n; i++) s += chars[rng.int(chars.length)];
  return s;
};

function mutate(value: string): string {
  switch (rng.int(9)) {
    case 0: {
      if (value.length === 0) return 'x';
      const b = Buffer.from(value);
      const i = rng.int(b.length);
      b[i] = b[i]! ^ (1 << rng.int(8));
      return b.toString('latin1');
    }
    case 1:
      return value.slice(0, rng.int(Math.max(1, value.length)));
    case 2:
      return value + junk(1 + rng.int(8));
    case 3:
      return value.toUpperCase() === value ? value.toLowerCase() : value.toUpperCase();
    case 4:
      return ` ${value} `;
    case 5:
      return value + 'A'.repeat(5000 + rng.int(20_000));
    case 6:
      return junk(1 + rng.int(64));
    case 7:
      return '';
    default:
      return encodeURIComponent(value);
  }
}

/** Encodes pairs as a form body; `rawTail` appends bytes that are not valid UTF-8. */
function formBody(pairs: [string, string][], badUtf8 = false): Buffer {
  const text = pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');
  if (!badUtf8) return Buffer.from(text);
  // Invalid UTF-8 both raw and percent-encoded inside the values.
  const bad = [
    Buffer.from([0xff, 0xfe]),
    Buffer.from('%C0%AF'),
    Buffer.from([0xc3]),
    Buffer.from('%ED%A0%80'),
  ];
  const parts = pairs.map(([k, v]) =>
    Buffer.concat([Buffer.from(`${encodeURIComponent(k)}=${encodeURIComponent(v)}`), rng.pick(bad)]),
  );
  const out: Buffer[] = [];
  parts.forEach((p, i) => {
    if (i > 0) out.push(Buffer.from('&'));
    out.push(p);
  });
  return Buffer.concat(out);
}

// ---------------------------------------------------------------- /authorize

const REDIRECT_VARIANTS = [
  `http://${EVIL}/callback`,
  'http://localhost:3001/callback',
  'http://localhost:3000/callback/evil',
  'http://localhost:3000/callbackx',
  'http://localhost:3000/callback?next=http://evil.example',
  'http://localhost:3000/callback#frag',
  `http://localhost:3000@${EVIL}/callback`,
  `http://${EVIL}\\@localhost:3000/callback`,
  `http://${EVIL}#@localhost:3000/callback`,
  `http://localhost:3000.${EVIL}/callback`,
  `//${EVIL}/callback`,
  encodeURIComponent(SPA_CALLBACK),
  'http%3A%2F%2Flocalhost%3A3000%2Fcallback',
  'http://localhost:3000/%2e%2e/callback',
  'http://localhost:3000/x/../callback',
  'http://LOCALHOST:3000/callback',
  'https://localhost:3000/callback',
  'http://127.0.0.1:3000/callback',
  'http://localhost:3000/callback/',
  'javascript:alert(document.domain)//http://localhost:3000/callback',
  'javascript://localhost:3000/callback%0aalert(1)',
  'data:text/html,<script>alert(1)</script>',
  'http://localhost:3000/other',
  `http://${EVIL}/`,
  'http://localhost:3000/callback\u0000',
  'http://localhost:3000/callback%00',
  ' http://localhost:3000/callback',
  THIRD_CALLBACK, // registered, but for another client
];

function authorizeBase(clientId = SPA): [string, string][] {
  const { challenge } = pkcePair();
  return [
    ['client_id', clientId],
    ['response_type', 'code'],
    ['redirect_uri', clientId === THIRD ? THIRD_CALLBACK : SPA_CALLBACK],
    ['scope', 'openid profile email offline_access read:messages'],
    ['audience', AUDIENCE],
    ['state', 'st'],
    ['nonce', 'nn'],
    ['code_challenge', challenge],
    ['code_challenge_method', 'S256'],
  ];
}

const AUTHORIZE_VALUES: Record<string, string[]> = {
  response_type: ['token', 'id_token', 'code token', 'code id_token', 'none', 'CODE', ''],
  response_mode: ['fragment', 'form_post', 'web_message', 'query.jwt', 'bogus'],
  code_challenge_method: ['plain', 's256', 'RS256', ''],
  code_challenge: ['', 'short', 'x'.repeat(200), '%%%', '=='],
  client_id: ['nope', '', M2M, `${SPA} `, 'ANGULARJS-SPA'],
  scope: ['', 'read:messages', 'admin', 'openid '.repeat(500)],
  audience: ['urn:unknown', '', 'http://localhost:3001/api/', 'javascript:alert(1)'],
  resource: ['http://evil.example/', 'not a uri', AUDIENCE],
  prompt: ['none', 'login consent', 'select_account', 'bogus', 'none login'],
  max_age: ['-1', 'abc', '99999999999999999999'],
  request: ['eyJhbGciOiJub25lIn0.e30.', 'garbage'],
  request_uri: [`http://${EVIL}/req`, 'urn:ietf:params:oauth:request_uri:x'],
  id_token_hint: ['garbage', 'a.b.c'],
  claims: ['{', '{"userinfo":{"email":null}}', '[]'],
  ui_locales: ['x'.repeat(3000)],
  login_hint: ['<script>alert(1)</script>', '\u0000'],
};

function authorizeCase(): { label: string; query: string; anonymous: boolean } {
  const pairs = authorizeBase(rng.chance(0.15) ? THIRD : SPA);
  const labels: string[] = [];
  const defects = 1 + rng.int(3);
  for (let d = 0; d < defects; d++) {
    const kind = rng.int(8);
    if (kind <= 1) {
      const variant = rng.pick(REDIRECT_VARIANTS);
      pairs.forEach((p) => {
        if (p[0] === 'redirect_uri') p[1] = variant;
      });
      labels.push(`redirect_uri=${variant.slice(0, 60)}`);
    } else if (kind === 2) {
      const i = rng.int(pairs.length);
      labels.push(`missing ${pairs[i]![0]}`);
      pairs.splice(i, 1);
    } else if (kind === 3 && pairs.length > 0) {
      const p = rng.pick(pairs);
      pairs.push([p[0], rng.chance(0.5) ? p[1] : mutate(p[1])]);
      labels.push(`repeated ${p[0]}`);
    } else if (kind === 4) {
      const name = rng.pick(Object.keys(AUTHORIZE_VALUES));
      const value = rng.pick(AUTHORIZE_VALUES[name]!);
      const existing = pairs.find((p) => p[0] === name);
      if (existing) existing[1] = value;
      else pairs.push([name, value]);
      labels.push(`${name}=${value.slice(0, 40)}`);
    } else if (kind === 5 && pairs.length > 0) {
      const p = rng.pick(pairs);
      p[1] = mutate(p[1]);
      labels.push(`mutated ${p[0]}`);
    } else if (kind === 6) {
      const n = rng.pick([2000, 8000, 40_000]);
      pairs.push([rng.chance(0.5) ? 'state' : junk(4), 'x'.repeat(n)]);
      labels.push(`oversized ${n}`);
    } else {
      labels.push('junk parameter');
      pairs.push([junk(1 + rng.int(10)), junk(rng.int(30))]);
    }
  }
  let query = pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');
  if (rng.chance(0.1)) {
    query += rng.pick(['&%', '&%zz=1', '&a=%ff%fe', '&%C0%AF=1', '&=', '&&&', '&a[b]=1', '&redirect_uri']);
    labels.push('malformed query');
  }
  return { label: labels.join(', '), query, anonymous: rng.chance(0.5) };
}

// ---------------------------------------------------------------- the tests

test('fuzzing /authorize: OAuth errors or 4xx, no redirect to an unregistered URI', async () => {
  const signedIn = new OAuthTestClient(server.issuer);
  await signedIn.signIn(USERS.alice);
  const n = size(2500, 200);
  for (let i = 0; i < n; i++) {
    const c = authorizeCase();
    const res = await send(`/authorize?${c.query}`, {
      headers: ownNetwork(),
      ...(c.anonymous ? {} : { jar: signedIn.jar }),
    });
    check('/authorize', c.label, res);
    // A redirect carrying a code may only go to the requesting client's own registered callback.
    const location = res.headers.get('location');
    if (location && /[?&]code=/.test(location)) {
      assert.ok(
        location.startsWith(`${SPA_CALLBACK}?`) || location.startsWith(`${THIRD_CALLBACK}?`),
        `code sent to ${location} (${c.label})`,
      );
    }
  }
});

test('fuzzing /oauth/token: every grant type, content types, invalid UTF-8, huge bodies, repeats, bad PKCE', async () => {
  const alice = new OAuthTestClient(server.issuer);
  const first = await alice.signIn(USERS.alice);
  const refreshToken = first.tokens.refresh_token!;
  assert.ok(refreshToken, 'a refresh token to fuzz with');

  /** A fresh, unused code from alice's session (no login needed) and its verifier. */
  async function freshCode(): Promise<{ code: string; verifier: string }> {
    const { verifier, challenge } = pkcePair();
    const res = await send(
      `/authorize?${new URLSearchParams({
        client_id: SPA,
        response_type: 'code',
        redirect_uri: SPA_CALLBACK,
        scope: 'openid offline_access read:messages',
        audience: AUDIENCE,
        code_challenge: challenge,
        code_challenge_method: 'S256',
      })}`,
      { jar: alice.jar },
    );
    const code = new URL(res.headers.get('location') ?? 'http://x/').searchParams.get('code');
    assert.ok(code, `a code from the session (${res.status} ${res.headers.get('location')})`);
    return { code, verifier };
  }

  const grantTypes = [
    'password',
    'implicit',
    'urn:ietf:params:oauth:grant-type:device_code',
    'urn:ietf:params:oauth:grant-type:jwt-bearer',
    'urn:ietf:params:oauth:grant-type:token-exchange',
    'urn:openid:params:grant-type:ciba',
    'http://auth0.com/oauth/grant-type/password-realm',
    '',
    'CLIENT_CREDENTIALS',
  ];
  const badVerifiers = (verifier: string, challenge?: string) => [
    pkcePair().verifier,
    verifier.slice(0, 42),
    verifier + 'x'.repeat(100),
    `${verifier.slice(0, -1)}!`,
    '',
    challenge ?? 'x',
    verifier.toUpperCase(),
    'a'.repeat(43),
  ];

  let narrowedTokens = 0;
  const n = size(2500, 200);
  for (let i = 0; i < n; i++) {
    const grant = rng.pick(['client_credentials', 'authorization_code', 'refresh_token', 'other'] as const);
    let pairs: [string, string][];
    let critical: string[];
    if (grant === 'client_credentials') {
      pairs = [
        ['grant_type', 'client_credentials'],
        ['client_id', M2M],
        ['client_secret', M2M_SECRET],
        ['audience', AUDIENCE],
      ];
      critical = ['client_id', 'client_secret', 'grant_type'];
    } else if (grant === 'authorization_code') {
      const { code, verifier } = await freshCode();
      pairs = [
        ['grant_type', 'authorization_code'],
        ['client_id', SPA],
        ['code', code],
        ['redirect_uri', SPA_CALLBACK],
        ['code_verifier', verifier],
      ];
      critical = ['code', 'code_verifier', 'client_id', 'redirect_uri', 'grant_type'];
    } else if (grant === 'refresh_token') {
      pairs = [
        ['grant_type', 'refresh_token'],
        ['client_id', SPA],
        ['refresh_token', refreshToken],
      ];
      critical = ['refresh_token', 'client_id', 'grant_type'];
    } else {
      pairs = [
        ['grant_type', rng.pick(grantTypes)],
        ['client_id', rng.chance(0.5) ? M2M : SPA],
        ['client_secret', M2M_SECRET],
        ['username', USERS.alice.email],
        ['password', USERS.alice.password],
        ['audience', AUDIENCE],
      ];
      critical = [];
    }
    // Exactly one defect that must stop the request (the unsupported grant types are their own defect).
    let contentType = 'application/x-www-form-urlencoded';
    let body: Buffer | string | undefined;
    const headers: Record<string, string> = {};
    let label = grant;
    // Asking an M2M app for scopes outside its client grant: the server narrows (RFC 6749 §3.3) rather than
    // refuses; the token must then carry no scope beyond the grant.
    let narrowed = false;
    const kinds =
      grant === 'other'
        ? ['none', 'content-type', 'json', 'huge', 'utf8']
        : ['content-type', 'json', 'huge', 'utf8', 'repeat', 'missing', 'mutate', 'special'];
    const kind = rng.pick(kinds);
    const target = critical.length > 0 ? rng.pick(critical) : 'grant_type';
    label += ` ${kind}`;
    switch (kind) {
      case 'content-type':
        contentType = rng.pick([
          'text/plain',
          'multipart/form-data; boundary=x',
          'application/xml',
          'application/x-www-form-urlencoded; charset=utf-16',
          'application/x-www-form-urlencoded; charset=latin9',
          '',
          'application/x-www-form-urlencoded, application/json',
        ]);
        label += ` ${contentType}`;
        if (!contentType.startsWith('application/x-www-form-urlencoded')) break;
        // A declared charset the body is not in: the body in UTF-16.
        body = Buffer.from(formBody(pairs).toString(), 'utf16le');
        break;
      case 'json':
        contentType = rng.pick(['application/json', 'application/json; charset=utf-8', 'text/json']);
        body = JSON.stringify(Object.fromEntries(pairs));
        break;
      case 'huge':
        if (rng.chance(0.5)) {
          body = Buffer.concat([formBody(pairs), Buffer.from(`&pad=${'x'.repeat(1_200_000)}`)]);
          label += ' 1.2 MB body';
          // An oversized body carrying a valid request must be refused as a whole, so nothing else is wrong:
          // that is the defect. oidc-provider's limit is 56 kB.
        } else {
          const p = pairs.find((x) => x[0] === target)!;
          p[1] = p[1] + 'A'.repeat(100_000);
          label += ` 100 kB ${target}`;
        }
        break;
      case 'utf8': {
        const bad = rng.pick([
          Buffer.from([0xff]),
          Buffer.from([0xc0, 0xaf]),
          Buffer.from('%FF%FE'),
          Buffer.from('%ED%A0%80'),
        ]);
        const text = pairs
          .map(([k, v]) => `${encodeURIComponent(k)}=${k === target ? '\u0001' : ''}${encodeURIComponent(v)}`)
          .join('&');
        const at = text.indexOf('\u0001');
        body = Buffer.concat([Buffer.from(text.slice(0, at)), bad, Buffer.from(text.slice(at + 1))]);
        label += ` in ${target}`;
        break;
      }
      case 'repeat': {
        const p = pairs.find((x) => x[0] === target)!;
        pairs.push([p[0], rng.chance(0.5) ? p[1] : mutate(p[1])]);
        label += ` ${target}`;
        break;
      }
      case 'missing': {
        // Not redirect_uri: oidc-provider fills in a client's single registered callback when the token request
        // omits it (allowOmittingSingleRegisteredRedirectUri), the very URI the code was bound to.
        const dropped = target === 'redirect_uri' ? 'code_verifier' : target;
        pairs = pairs.filter((x) => x[0] !== dropped);
        label += ` ${dropped}`;
        break;
      }
      case 'mutate': {
        const p = pairs.find((x) => x[0] === target)!;
        let m = mutate(p[1]);
        // An empty value counts as absent, and an absent redirect_uri is the single registered one (see 'missing').
        if (m === p[1] || m.trim() === p[1] || m === '') m = `${p[1]}x`;
        p[1] = m;
        label += ` ${target}`;
        break;
      }
      case 'special': {
        if (grant === 'authorization_code') {
          const verifier = pairs.find((x) => x[0] === 'code_verifier')!;
          const choice = rng.int(4);
          if (choice === 0) {
            verifier[1] = rng.pick(badVerifiers(verifier[1]));
            label += ' bad PKCE verifier';
          } else if (choice === 1) {
            pairs = pairs.filter((x) => x[0] !== 'client_id');
            pairs.push(['client_id', M2M], ['client_secret', M2M_SECRET]);
            label += ' code redeemed by another client';
          } else if (choice === 2) {
            pairs.find((x) => x[0] === 'redirect_uri')![1] = rng.pick(REDIRECT_VARIANTS);
            label += ' other redirect_uri';
          } else {
            pairs.find((x) => x[0] === 'client_id')![1] = THIRD;
            label += ' code redeemed by the third-party client';
          }
        } else if (grant === 'client_credentials') {
          const choice = rng.int(4);
          if (choice === 0) {
            // oidc-provider accepts either secret method for a secret-based client; the secret must still be right.
            headers.authorization = `Basic ${Buffer.from(`${M2M}:${mutate(M2M_SECRET)}x`).toString('base64')}`;
            pairs = pairs.filter((x) => x[0] !== 'client_secret');
            label += ' client_secret_basic with a wrong secret';
          } else if (choice === 1) {
            pairs.find((x) => x[0] === 'audience')![1] = rng.pick([
              'urn:unknown',
              'http://localhost:3001/api/',
            ]);
            label += ' unknown audience';
          } else if (choice === 2) {
            pairs.push(['scope', rng.pick(['delete:messages', 'openid', 'read:messages admin'])]);
            label += ' scope not granted';
            narrowed = true;
          } else {
            pairs.find((x) => x[0] === 'client_id')![1] = SPA;
            label += ' client_credentials for a public client';
          }
        } else {
          const choice = rng.int(2);
          if (choice === 0) {
            pairs.find((x) => x[0] === 'client_id')![1] = THIRD;
            label += ' refresh token of another client';
          } else {
            pairs.push(['scope', 'openid write:messages admin']);
            label += ' refresh with wider scope';
          }
        }
        break;
      }
      default:
        break;
    }
    if (body === undefined) body = formBody(pairs);
    const init: RequestInit = { method: 'POST', headers: { ...headers }, body };
    if (contentType !== '') (init.headers as Record<string, string>)['content-type'] = contentType;
    const res = await send('/oauth/token', init);
    check('/oauth/token', label, res, narrowed);
    if (narrowed && res.status === 200) {
      narrowedTokens++;
      const { payload } = decodeJwt((JSON.parse(res.body) as { access_token: string }).access_token);
      const scopes = String(payload.scope ?? '')
        .split(' ')
        .filter(Boolean);
      for (const s of scopes)
        assert.ok(['read:messages', 'write:messages'].includes(s), `${label}: scope ${s}`);
      continue;
    }
    if (res.headers.get('content-type')?.includes('json')) {
      const json = JSON.parse(res.body) as { error?: string };
      assert.match(
        String(json.error),
        /^(invalid_request|invalid_client|invalid_grant|unauthorized_client|unsupported_grant_type|invalid_scope|invalid_target|access_denied)$/,
        `${label}: non-standard error ${res.body}`,
      );
    }
  }
  console.log(
    `# token endpoint: ${narrowedTokens} client_credentials requests for ungranted scopes got a narrowed token`,
  );
  // The refresh token was never rotated by a fuzz case: it still works once, now.
  const still = await alice.token({
    grant_type: 'refresh_token',
    client_id: SPA,
    refresh_token: refreshToken,
  });
  assert.equal(
    still.status,
    200,
    `the untouched refresh token still refreshes: ${JSON.stringify(still.body)}`,
  );
});

/** A fresh interaction at the login prompt: its form action, CSRF token and cookies. */
async function loginInteraction(clientId = SPA) {
  const jar = new CookieJar();
  const base = authorizeBase(clientId);
  const start = await send(`/authorize?${new URLSearchParams(base)}`, { jar, headers: ownNetwork() });
  const page = await send(start.headers.get('location')!, { jar });
  const form = formFields(page.body, '/login');
  assert.ok(form, `login form (${page.status})`);
  return { jar, action: form.action, csrf: form.fields._csrf!, fields: form.fields };
}

function formDefect(
  fields: [string, string][],
  csrf: string,
): { label: string; body: Buffer | string; contentType: string; dropCookies: boolean } {
  let contentType = 'application/x-www-form-urlencoded';
  let dropCookies = false;
  let label: string;
  const pairs = fields.map((p) => [p[0], p[1]] as [string, string]);
  const set = (name: string, value: string) => {
    const p = pairs.find((x) => x[0] === name);
    if (p) p[1] = value;
    else pairs.push([name, value]);
  };
  const kind = rng.int(10);
  switch (kind) {
    case 0:
      label = 'missing _csrf';
      return { label, body: formBody(pairs.filter((p) => p[0] !== '_csrf')), contentType, dropCookies };
    case 1: {
      const forged = rng.pick([mutate(csrf), pkcePair().challenge, '', csrf.slice(1), `${csrf}=`]);
      set('_csrf', forged === csrf ? `${csrf}x` : forged);
      label = 'forged _csrf';
      return { label, body: formBody(pairs), contentType, dropCookies };
    }
    case 2:
      pairs.push(['_csrf', csrf]);
      label = 'repeated _csrf';
      return { label, body: formBody(pairs), contentType, dropCookies };
    case 3:
      contentType = rng.pick(['application/json', 'text/plain', 'multipart/form-data; boundary=zz']);
      label = `content-type ${contentType}`;
      return {
        label,
        body:
          contentType === 'application/json' ? JSON.stringify(Object.fromEntries(pairs)) : formBody(pairs),
        contentType,
        dropCookies,
      };
    case 4:
      contentType = 'application/x-www-form-urlencoded; charset=latin9';
      label = 'unsupported charset';
      return { label, body: formBody(pairs), contentType, dropCookies };
    case 5:
      label = 'no cookies (CSRF token stolen from the page)';
      dropCookies = true;
      return { label, body: formBody(pairs), contentType, dropCookies };
    case 6: {
      const n = rng.pick([20_000, 200_000]);
      pairs.push(['pad', 'x'.repeat(n)]);
      label = `oversized body ${n}`;
      return { label, body: formBody(pairs), contentType, dropCookies };
    }
    case 7:
      for (let i = 0; i < 25; i++) pairs.push([`p${i}`, '1']);
      label = 'too many parameters';
      return { label, body: formBody(pairs), contentType, dropCookies };
    case 8:
      label = 'invalid UTF-8';
      return { label, body: formBody(pairs, true), contentType, dropCookies };
    default:
      label = 'random body bytes';
      return { label, body: rng.bytes(rng.int(400)), contentType, dropCookies };
  }
}

test('fuzzing the login form: missing or forged CSRF, oversized fields, invalid UTF-8, wrong content types', async () => {
  const n = size(800, 60);
  let signedIn = 0;
  for (let i = 0; i < n; i++) {
    const it = await loginInteraction();
    const address = `198.51.100.${rng.int(250)}`;
    // Half the cases carry alice's right password, to show the defect alone stops the sign-in.
    const good = rng.chance(0.5);
    const defect = formDefect(
      [
        ['_csrf', it.csrf],
        ['email', good ? USERS.alice.email : `fuzz${i}-${rng.int(1e9)}@example.com`],
        ['password', good ? USERS.alice.password : junk(1 + rng.int(40))],
      ],
      it.csrf,
    );
    // Fields that are themselves the defect, with a valid CSRF token and unknown users (no lock on alice).
    let body = defect.body;
    let label = defect.label;
    if (!good && rng.chance(0.3)) {
      const email = rng.pick([
        `${'x'.repeat(400)}@example.com`,
        `${'a'.repeat(5000)}`,
        'alice@example.com\u0000',
        '',
        ' ',
      ]);
      body = formBody([
        ['_csrf', it.csrf],
        ['email', email],
        ['password', rng.pick(['', 'p'.repeat(2000), junk(30)])],
      ]);
      label = 'oversized or empty fields';
    }
    const res = await send(it.action, {
      method: 'POST',
      headers: { 'content-type': defect.contentType, 'x-forwarded-for': address },
      body,
      ...(defect.dropCookies && label === defect.label ? {} : { jar: it.jar }),
    });
    check('login form', label, res);
    assert.ok(res.status >= 400 && res.status < 500, `login form ${label}: ${res.status}`);
    if (res.headers.get('location')) signedIn++;
  }
  assert.equal(signedIn, 0, 'no defective form signed anyone in');
});

test('fuzzing the consent form and the cancel button of a third-party application', async () => {
  // alice signs in once for the third-party app; every case then reaches its consent page without a password.
  const it = await loginInteraction(THIRD);
  const login = await send(it.action, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: formBody([
      ['_csrf', it.csrf],
      ['email', USERS.alice.email],
      ['password', USERS.alice.password],
    ]),
    jar: it.jar,
  });
  assert.equal(login.status, 303, 'alice signs in');
  const jar = it.jar;
  let next = login.headers.get('location');
  for (
    let hops = 0;
    next && new URL(next, server.issuer).origin === new URL(server.issuer).origin && hops < 5;
    hops++
  ) {
    next = (await send(next, { jar })).headers.get('location');
  }
  const n = size(400, 40);
  for (let i = 0; i < n; i++) {
    const start = await send(`/authorize?${new URLSearchParams(authorizeBase(THIRD))}`, {
      jar,
      headers: ownNetwork(),
    });
    const page = await send(start.headers.get('location')!, { jar });
    const form = formFields(page.body, '/confirm');
    assert.ok(form, `a consent page (${page.status}): ${page.body.slice(0, 200)}`);
    const csrf = form.fields._csrf!;
    const defect = formDefect(Object.entries(form.fields), csrf);
    const path = rng.chance(0.8) ? form.action : form.action.replace('/confirm', '/abort');
    const res = await send(path, {
      method: 'POST',
      headers: { 'content-type': defect.contentType },
      body: defect.body,
      ...(defect.dropCookies ? {} : { jar }),
    });
    check('consent form', `${path.endsWith('abort') ? 'abort' : 'confirm'} ${defect.label}`, res);
    assert.ok(res.status >= 400 && res.status < 500, `consent ${defect.label}: ${res.status}`);
  }
});

/** Every row of the tenant tables, and the key file: what a refused command must leave as it was. */
function snapshot(dir: string): string {
  const db = new DatabaseSync(join(dir, 'auth.sqlite'), { readOnly: true });
  try {
    const tables = [
      'apis',
      'api_scopes',
      'clients',
      'client_grants',
      'roles',
      'role_permissions',
      'users',
      'user_roles',
    ];
    const rows = tables.map(
      (t) => `${t}:${JSON.stringify(db.prepare(`SELECT * FROM ${t} ORDER BY 1, 2`).all())}`,
    );
    return rows.join('\n') + readFileSync(join(dir, 'keys.json'), 'utf8');
  } finally {
    db.close();
  }
}

test('fuzzing the admin command line: clear error, non-zero exit, no stack trace, database unchanged', async () => {
  const fixed: string[][] = [
    ['nonsense'],
    ['list', 'bogus'],
    ['list', '--bogus'],
    ['create-api'],
    ['create-api', '--name', 'X', '--identifier', AUDIENCE],
    ['create-api', '--name', 'X', '--identifier', 'urn:x', '--lifetime', 'abc'],
    ['create-api', '--name', 'X', '--identifier', 'urn:x', '--lifetime', '5'],
    ['create-api', '--name', '', '--identifier', 'urn:x'],
    ['create-api', '--name', 'X', '--identifier', 'urn:x', '--rbac=yes'],
    ['add-scope', '--api', 'urn:none', '--scope', 'a:b', '--description', 'd'],
    ['add-scope', '--api', AUDIENCE, '--scope', 'bad scope', '--description', 'd'],
    ['create-app', '--type', 'bogus', '--client-id', 'x', '--name', 'x'],
    [
      'create-app',
      '--type',
      'spa',
      '--client-id',
      SPA,
      '--name',
      'dup',
      '--callback',
      'http://localhost:3000/cb',
    ],
    ['create-app', '--type', 'spa', '--client-id', 'y', '--name', 'y', '--callback', 'javascript:alert(1)'],
    ['create-app', '--type', 'spa', '--client-id', 'y', '--name', 'y', '--callback', 'not a url'],
    ['create-app', '--type', 'spa', '--client-id', 'y', '--name', 'y', '--callback', 'http://h/cb#frag'],
    ['create-app', '--type', 'm2m', '--client-id', 'z', '--name', 'z', '--auth-method', 'none'],
    ['create-app', '--type', 'spa', '--client-id', 'y', '--name', 'y', '--reuse-interval', '-x'],
    ['add-client-grant', '--client-id', SPA, '--api', AUDIENCE, '--scope', 'read:messages'],
    ['add-client-grant', '--client-id', 'nope', '--api', AUDIENCE, '--scope', 'read:messages'],
    ['add-client-grant', '--client-id', M2M, '--api', AUDIENCE, '--scope', 'delete:messages'],
    ['add-client-grant', '--client-id', M2M, '--api', AUDIENCE],
    ['create-user', '--email', USERS.alice.email, '--password', 'Another-password-1'],
    ['create-user', '--email', 'ALICE@EXAMPLE.COM', '--password', 'Another-password-1'],
    ['create-user', '--email', 'new@example.com', '--password', 'short'],
    ['create-user', '--email', 'not-an-email', '--password', 'Long-enough-pass-1'],
    ['create-user', '--email', 'new@example.com', '--password', 'Long-enough-pass-1', '--role', 'nope'],
    ['create-user', '--email', 'new@example.com'],
    ['create-role', '--name', 'editor'],
    ['create-role', '--name', 'bad name!'],
    ['create-role', '--name', 'r1', '--api', 'urn:none', '--scope', 'x'],
    ['add-permission', '--role', 'nope', '--api', AUDIENCE, '--scope', 'read:messages'],
    ['add-permission', '--role', 'editor', '--api', AUDIENCE, '--scope', 'nope'],
    ['assign-role', '--email', 'nobody@example.com', '--role', 'editor'],
    ['assign-role', '--email', USERS.alice.email, '--role', 'nope'],
    ['rotate-keys', '--activate', '--prune'],
    ['rotate-keys', '--activate'],
    ['rotate-keys', '--prune', '--older-than', 'abc'],
    ['rotate-keys', '--bogus'],
    ['create-api', '--name', 'X', '--identifier', 'urn:big', '--lifetime', '9'.repeat(100_000)],
    ['create-user', '--email', `${'a'.repeat(100_000)}`, '--password', 'Long-enough-pass-1'],
  ];
  // Each run is a node process (~1 s here), so the reduced mode takes a seeded sample of the fixed cases.
  // Random extra cases: a real command with one argument replaced by junk or dropped.
  const extra = size(40, 2);
  const pool = [...fixed];
  const cases: string[][] = [];
  for (let i = 0, n = size(fixed.length, 8); i < n; i++) cases.push(pool.splice(rng.int(pool.length), 1)[0]!);
  for (let i = 0; i < extra; i++) {
    const base = [...rng.pick(fixed)];
    const j = rng.int(base.length);
    if (rng.chance(0.5)) base[j] = junk(1 + rng.int(30)).replaceAll('\u0000', '');
    else base.splice(j, 1);
    cases.push(base);
  }
  const exits = new Tally();
  let changed = 0;
  let stacks = 0;
  let accepted = 0;
  for (const args of cases) {
    const before = snapshot(dataDir);
    const r = await cli(dataDir, args);
    const label = args.join(' ').slice(0, 120);
    exits.add(`exit ${r.code}`);
    if (r.code === 0) {
      // Only random cases can turn into valid commands (e.g. `list` with a junk option dropped).
      accepted++;
      assert.ok(!fixed.includes(args), `a refused command succeeded: ${label}`);
      continue;
    }
    if (/\n\s+at /.test(r.stderr)) stacks++;
    assert.ok(r.code === 1 || r.code === 2, `${label}: exit ${r.code}`);
    assert.ok(r.stderr.trim().length > 0, `${label}: no error message`);
    assert.ok(!/\n\s+at |node:internal|\.ts:\d+/.test(r.stderr), `${label}: stack trace\n${r.stderr}`);
    const echoed = args.reduce((n, a) => n + a.length, 0);
    assert.ok(
      r.stderr.length < 4000 + echoed,
      `${label}: an error message, not a dump (${r.stderr.length} chars)`,
    );
    const after = snapshot(dataDir);
    if (after !== before) changed++;
    assert.equal(after, before, `${label}: the database changed`);
  }
  console.log(
    `# CLI: ${cases.length} bad command lines: ${exits}; stack traces ${stacks}; database changed ${changed}; random cases that were valid ${accepted}`,
  );
});

test('summary', () => {
  const lines = [...perEndpoint].map(([e, t]) => `#   ${e}: ${t.total} cases: ${t}`);
  console.log(
    `# auth fuzz (SEED=${rng.seed}, ${size('full', 'reduced')}): ${byStatus.total} HTTP cases; by status ${byStatus}; 5xx ${fiveXX}; tokens issued ${tokensIssued}\n${lines.join('\n')}`,
  );
  assert.equal(fiveXX, 0);
  assert.equal(tokensIssued, 0);
});
