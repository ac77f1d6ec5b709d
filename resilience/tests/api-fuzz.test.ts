// Token fuzzing against the real API over HTTP (issue 5, item 1). Tokens are derived from
// valid ones minted by the local test issuer by a seeded PRNG (SEED=<n> replays the same
// mutation choices), sent to /api/private-scoped, and a share in the wrong place (query,
// form body, twice). What an attacker must see: never a 2xx (nor a 403, which would mean
// the token authenticated), never a 5xx, the RFC 6750 challenge on every 400/401, and a
// server that is still healthy with its memory back near where it started.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { startTestIssuer, type TestIssuer } from '@calling-api/jwt-bearer/testing';
import {
  type ApiProcess,
  FULL,
  type Memory,
  memoryOf,
  pool,
  prng,
  seedFromEnv,
  size,
  startRealApi,
  tally,
} from '../support/api-harness.ts';

const CASES = Number(process.env['FUZZ_CASES'] ?? size(10_000, 2_000));
const SEED = seedFromEnv();

type Placement = 'header' | 'query' | 'form' | 'header+query' | 'two-headers' | 'two-header-lines';
type Case = { family: string; token: string; placement: Placement; raw?: boolean };

const enc = (value: unknown) =>
  Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
const dec = (segment: string) => Buffer.from(segment, 'base64url');

/** The item whose cumulative weight first exceeds `draw`. */
function weighted<T>(items: readonly T[], draw: number, weight: (item: T) => number): T {
  let left = draw;
  for (const item of items) {
    left -= weight(item);
    if (left < 0) return item;
  }
  return items.at(-1)!;
}

const isLatin1 = (text: string) => [...text].every((ch) => ch.codePointAt(0)! <= 0xff);
/** Characters a header value cannot hold at all (control characters other than tab). */
const hasControl = (text: string) =>
  [...text].some((ch) => (ch.codePointAt(0)! < 0x20 && ch !== '\t') || ch.codePointAt(0) === 0x7f);

/**
 * What each placement may answer (status/challenge error): a token in the header is invalid
 * (401) or malformed (400); a token in the query or sent twice is a malformed request (400);
 * a form body is never read for a token, so that request simply has no credentials (bare 401).
 * Never a 2xx or a 403 (which would mean the token authenticated).
 * 431: the request line or headers exceeded Node's 16 KiB limit before reaching the API.
 */
const EXPECTED: Record<Placement, RegExp> = {
  header: /^(401\/invalid_token|400\/invalid_request|431\/.*)$/,
  query: /^(400\/invalid_request|431\/.*)$/,
  'header+query': /^(400\/invalid_request|431\/.*)$/,
  // Two headers travel as one value "Bearer <x>, Bearer <y>"; with an empty <x> it starts with
  // "Bearer," which is no Bearer credential at all: answered as "no credentials".
  'two-headers': /^(400\/invalid_request|401\/bare|431\/.*)$/,
  // Two separate Authorization lines (the mutated token, then a valid one): always refused as
  // a malformed request, whichever the server might have preferred.
  'two-header-lines': /^(400\/invalid_request|431\/.*)$/,
  form: /^401\/bare$/,
};

/** fetch() folds repeated headers into one value; node:http sends each array item as its own line. */
function twoHeaderLines(url: string, values: string[]): Promise<Response> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { headers: ['host', new URL(url).host, ...values.flatMap((value) => ['authorization', value])] },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const headers = new Headers();
          for (const [name, value] of Object.entries(res.headers)) {
            if (typeof value === 'string') headers.set(name, value);
          }
          resolve(new Response(Buffer.concat(chunks), { status: res.statusCode ?? 0, headers }));
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end();
  });
}

// No credentials: a bare challenge for each scheme the API takes (Bearer, and DPoP with its algorithms).
const CHALLENGE_401 =
  /^Bearer realm="api"(, error="invalid_token", error_description="[^"\\]+"|, DPoP realm="api", algs="[A-Za-z0-9 ]+")?$/;
const CHALLENGE_400 = /^Bearer realm="api", error="invalid_request", error_description="[^"\\]+"$/;

describe(`token fuzzing against the API (seed ${SEED}, ${CASES} cases${FULL ? ', full' : ', reduced'})`, () => {
  let issuer: TestIssuer;
  let api: ApiProcess;
  let valid: string[] = [];

  before(async () => {
    issuer = await startTestIssuer();
    api = await startRealApi({ ISSUER_BASE_URL: issuer.issuer, AUDIENCE: issuer.audience });
    await api.waitForLog(/signing keys loaded/);
    valid = await Promise.all([
      issuer.mint(),
      issuer.mint({ sub: 'auth0|bob', scope: 'read:messages' }),
      issuer.mint({ permissions: ['read:messages'], scope: 'openid read:messages' }),
    ]);
  });
  after(async () => {
    await api?.stop();
    await issuer?.close();
  });

  it('the unmutated tokens are accepted (so a refusal below is the mutation, not the setup)', async () => {
    for (const token of valid) {
      const res = await fetch(`${api.url}/api/private-scoped`, {
        headers: { authorization: `Bearer ${token}` },
      });
      assert.equal(res.status, 200, await res.text());
    }
  });

  it('accepts none of the mutated tokens, answers no 5xx, and stays healthy and bounded in memory', async () => {
    console.log(`# api-fuzz: seed ${SEED} (replay with SEED=${SEED}), ${CASES} cases`);
    const rand = prng(SEED);
    const int = (n: number) => Math.floor(rand() * n);
    const pick = <T>(items: readonly T[]): T => items[int(items.length)]!;
    const past = () => Math.floor(Date.now() / 1000) - 3600 - int(100_000);
    const future = () => Math.floor(Date.now() / 1000) + 3600 + int(100_000);

    const flipBit = (bytes: Buffer) => {
      const copy = Buffer.from(bytes);
      if (copy.length > 0) copy[int(copy.length)]! ^= 1 << int(8);
      return copy;
    };
    const withSegment = (token: string, index: number, segment: string) => {
      const parts = token.split('.');
      parts[index] = segment;
      return parts.join('.');
    };
    const randomJson = (depth = 0): unknown => {
      const kind = int(depth > 2 ? 5 : 7);
      if (kind === 0) return null;
      if (kind === 1) return rand() < 0.5;
      if (kind === 2) return pick([0, -1, 1e308, -1e308, 2 ** 53 + 1, 1.5, 1e-300]);
      if (kind === 3) return pick(['', 'a', '\u0000', '\ud800', 'é'.repeat(50), 'x'.repeat(2000)]);
      if (kind === 4) return pick([[], {}, [null]]);
      if (kind === 5) return Array.from({ length: int(4) }, () => randomJson(depth + 1));
      return Object.fromEntries(Array.from({ length: int(4) }, (_, i) => [`k${i}`, randomJson(depth + 1)]));
    };

    // Claim edits that make a token invalid even when the issuer's own key signs it.
    const badClaims: Array<() => { claims?: Record<string, unknown>; omit?: string[] }> = [
      () => ({ claims: { iss: `${issuer.issuer}/` } }),
      () => ({ claims: { iss: issuer.issuer.replace('127.0.0.1', 'localhost') } }),
      () => ({ claims: { iss: 'https://evil.example' } }),
      () => ({ claims: { iss: [issuer.issuer] } }),
      () => ({ omit: ['iss'] }),
      () => ({ claims: { aud: 'http://localhost:3001/api/' } }),
      () => ({ claims: { aud: 'https://other.example/api' } }),
      () => ({ claims: { aud: [] } }),
      () => ({ claims: { aud: { 0: issuer.audience } } }),
      () => ({ omit: ['aud'] }),
      () => ({ claims: { exp: past() } }),
      () => ({ claims: { exp: String(future()) } }),
      () => ({ claims: { exp: pick([null, true, 'soon', [future()], {}]) } }),
      () => ({ omit: ['exp'] }),
      () => ({ claims: { nbf: future() } }),
      () => ({ claims: { nbf: 'now' } }),
      () => ({ claims: { iat: 'yesterday' } }),
      () => ({ omit: ['sub'] }),
      () => ({ claims: { sub: pick([42, null, true, ['auth0|alice'], { id: 'auth0|alice' }]) } }),
    ];
    const attackerHeader = (): Record<string, unknown> =>
      pick([
        {},
        { jwk: issuer.publicJwks().keys[0] },
        { jku: 'https://evil.example/jwks' },
        { x5u: 'https://evil.example/cert' },
        { crit: ['b64'], b64: true },
        { kid: pick(['', '../../../../dev/null', "' OR '1'='1", 'x'.repeat(3000), '\u0000']) },
      ]);

    const families: Array<[string, number, () => Promise<Case['token']> | Case['token']]> = [
      ['bitflip-header', 6, () => withSegment(pick(valid), 0, enc(flipBit(dec(pick(valid).split('.')[0]!))))],
      [
        'bitflip-payload',
        8,
        () => withSegment(pick(valid), 1, enc(flipBit(dec(pick(valid).split('.')[1]!)))),
      ],
      [
        'bitflip-signature',
        10,
        () => withSegment(pick(valid), 2, enc(flipBit(dec(pick(valid).split('.')[2]!)))),
      ],
      [
        'char-flip',
        8,
        () => {
          const token = pick(valid);
          const at = int(token.length);
          const code = token.charCodeAt(at) ^ (1 << int(7));
          return token.slice(0, at) + String.fromCharCode(code) + token.slice(at + 1);
        },
      ],
      [
        // The last character of a segment carries unused low bits (2 or 4): flipping them gives
        // another string that a lenient base64url decoder maps to the same bytes.
        'non-canonical-tail',
        3,
        () => {
          const token = pick(valid);
          const i = int(3);
          const segment = token.split('.')[i]!;
          const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
          const last = alphabet.indexOf(segment.at(-1)!);
          const unused = segment.length % 4 === 2 ? 4 : segment.length % 4 === 3 ? 2 : 0;
          const flipped = unused === 0 ? last ^ 1 : last ^ (1 + int((1 << unused) - 1));
          return withSegment(token, i, segment.slice(0, -1) + alphabet[flipped]);
        },
      ],
      [
        'truncate',
        6,
        () => {
          const token = pick(valid);
          return token.slice(0, int(token.length));
        },
      ],
      [
        'segments',
        8,
        () => {
          const [h, p, s] = pick(valid).split('.') as [string, string, string];
          const other = valid.filter((t) => !t.startsWith(`${h}.`));
          const [h2, p2, s2] = pick(other.length > 0 ? other : valid).split('.') as [string, string, string];
          return pick([
            `${p}.${h}.${s}`,
            `${h}.${s}.${p}`,
            `${h}.${h}.${s}`,
            `${h}.${p}.${p}`,
            `${h}.${p}`,
            `${h}.${p}.${s}.${s}`,
            `${h}.${p}.${s}.${h}.${p}`,
            `${h}.${p2}.${s}`,
            `${h2}.${p}.${s2}`,
            `${h}..${s}`,
            `.${p}.${s}`,
            `${h}.${p}.`,
            `${h}.${p}.${s}.`,
            '..',
            '.',
          ]);
        },
      ],
      [
        'header-edit-unsigned',
        6,
        () => {
          const [h, p, s] = pick(valid).split('.') as [string, string, string];
          const header = JSON.parse(dec(h).toString()) as Record<string, unknown>;
          const edits: Array<Record<string, unknown>> = [
            { alg: 'none' },
            { alg: pick(['RS512', 'PS256', 'ES256', 'HS256', 'EdDSA', 'rs256', '']) },
            { typ: pick(['JWT', 'jwt', 'at+jwt ', 'application/jwt', null]) },
            { kid: pick(['', 'other', null, 1]) },
            { zip: 'DEF' },
            { b64: false, crit: ['b64'] },
            { enc: 'A256GCM' },
          ];
          return `${enc({ ...header, ...pick(edits) })}.${p}.${s}`;
        },
      ],
      [
        'payload-edit-unsigned',
        6,
        () => {
          const [h, p, s] = pick(valid).split('.') as [string, string, string];
          const payload = JSON.parse(dec(p).toString()) as Record<string, unknown>;
          const key = pick(['sub', 'scope', 'exp', 'aud', 'iss', 'permissions', 'admin']);
          return `${h}.${enc({ ...payload, [key]: key === 'exp' ? future() : randomJson() })}.${s}`;
        },
      ],
      [
        'alg-none',
        5,
        () => {
          const [, p] = pick(valid).split('.');
          const alg = pick(['none', 'None', 'NONE', 'nOnE']);
          const h = enc({ alg, typ: 'at+jwt', ...(rand() < 0.5 ? { kid: issuer.currentKid } : {}) });
          const token = `${h}.${p}.`;
          return pick([token, `${h}.${p}.${pick(valid).split('.')[2]}`, `${h}.${p}`]);
        },
      ],
      [
        'hs256-confusion',
        5,
        () =>
          issuer.mint(
            {},
            {
              alg: pick(['HS256', 'HS384', 'HS512']),
              hmacSecret: pick([
                undefined, // the current public key's PEM: the classic confusion
                new TextEncoder().encode(JSON.stringify(issuer.publicJwks().keys[0])),
                new TextEncoder().encode(issuer.publicJwks().keys[0]!['n'] as string),
                new Uint8Array(32),
              ]),
            },
          ),
      ],
      [
        'attacker-key',
        8,
        () =>
          issuer.mint(rand() < 0.5 ? {} : (pick(badClaims)().claims ?? {}), {
            signWith: 'attacker',
            kid: pick([
              undefined,
              issuer.currentKid,
              `${issuer.currentKid} `,
              issuer.currentKid.toUpperCase(),
            ]),
            typ: pick([undefined, 'at+jwt', 'JWT', null, 'application/at+jwt']),
            header: attackerHeader(),
          }),
      ],
      [
        'real-key-bad-claims',
        6,
        () => {
          const edit = pick(badClaims)();
          return issuer.mint(edit.claims ?? {}, { omit: edit.omit ?? [] });
        },
      ],
      [
        'real-key-bad-typ',
        2,
        () => issuer.mint({}, { typ: pick(['JWT', null, 'at+jwt+x', 'id_token', 'JOSE']) }),
      ],
      [
        're-encoding',
        8,
        () => {
          const token = pick(valid);
          const parts = token.split('.');
          const i = int(3);
          return pick([
            () => withSegment(token, i, `${parts[i]}${'='.repeat(1 + int(3))}`),
            () => withSegment(token, i, dec(parts[i]!).toString('base64')),
            () => withSegment(token, i, parts[i]!.replace(/-/g, '+').replace(/_/g, '/')),
            () =>
              token.slice(0, int(token.length)) +
              pick([' ', '\t', '%20', '+']) +
              token.slice(int(token.length)),
            () => token.replace(/[A-Za-z]/, (c) => String.fromCharCode(c.charCodeAt(0) + 0xfee0)), // fullwidth
            () => token.replace('e', '\u0435'), // Cyrillic e
            () => token.replace('.', pick(['\u2024', '\uff0e', '%2E'])),
            () => `${token.normalize('NFKC')}\u200b`,
            () => ` ${token} `,
            () => token.toUpperCase(),
          ])();
        },
      ],
      [
        'huge',
        4,
        () =>
          pick([
            () => issuer.mint({ blob: 'x'.repeat(4000 + int(8000)) }, { signWith: 'attacker' }),
            () => issuer.mint({ blob: 'x'.repeat(7000) }),
            () => issuer.mint({ aud: Array.from({ length: 400 }, (_, i) => `https://a${i}.example`) }),
            () =>
              `${enc({ alg: 'RS256', kid: issuer.currentKid, typ: 'at+jwt', pad: '['.repeat(5000) })}.${enc({})}.AA`,
            () => `${enc('['.repeat(4000) + ']'.repeat(4000))}.${enc({})}.AA`,
            () => 'A'.repeat(8192 + int(3000)),
            () => `${'a'.repeat(3000)}.${'b'.repeat(3000)}.${'c'.repeat(2000)}`,
          ])(),
      ],
      [
        'random-json',
        4,
        () => `${enc(randomJson())}.${enc(randomJson())}.${enc(flipBit(Buffer.alloc(int(300))))}`,
      ],
    ];
    const totalWeight = families.reduce((sum, [, w]) => sum + w, 0);
    const placements: Array<[Placement, number]> = [
      ['header', 81],
      ['query', 7],
      ['form', 5],
      ['header+query', 3],
      ['two-headers', 2],
      ['two-header-lines', 2],
    ];

    const cases: Case[] = [];
    let noOps = 0;
    for (let i = 0; i < CASES; i++) {
      const [family, , make] = weighted(families, int(totalWeight), ([, w]) => w);
      const [placement] = weighted(placements, int(100), ([, w]) => w);
      let token = await make();
      // A "mutation" the server cannot see (HTTP trims the header value; a replace that matched
      // nothing) is the valid token itself: draw again.
      while (valid.includes(token.trim())) {
        noOps++;
        token = await make();
      }
      cases.push({ family, token, placement });
    }

    const start: Memory = await memoryOf(api);
    const statuses: number[] = [];
    const failures: string[] = [];
    const outcomes: string[] = [];
    const byFamily = new Map<string, number>();
    const target = `${api.url}/api/private-scoped`;
    const send = async (i: number) => {
      const c = cases[i]!;
      // Header values travel as bytes: a non-Latin-1 token goes out as its UTF-8 bytes.
      const wire = !isLatin1(c.token) ? Buffer.from(c.token, 'utf8').toString('latin1') : c.token;
      const headers = new Headers();
      let url = target;
      let init: RequestInit = {};
      const query = `?access_token=${encodeURIComponent(c.token)}`;
      // Control characters cannot travel in a header at all (the client refuses): those go in the query.
      const headerOk = !hasControl(wire);
      if (
        (c.placement === 'header' || c.placement === 'header+query' || c.placement === 'two-headers') &&
        headerOk
      ) {
        headers.set('authorization', `Bearer ${wire}`);
        if (c.placement === 'header+query') url += query;
        if (c.placement === 'two-headers') headers.append('authorization', `Bearer ${pick(valid)}`);
      } else if (c.placement === 'form') {
        url = `${api.url}/api/messages`;
        headers.set('content-type', 'application/x-www-form-urlencoded');
        init = { method: 'POST', body: `access_token=${encodeURIComponent(c.token)}` };
      } else {
        url += query;
      }
      const res =
        c.placement === 'two-header-lines' && headerOk
          ? await twoHeaderLines(target, [`Bearer ${wire}`, `Bearer ${pick(valid)}`])
          : await fetch(url, { ...init, headers });
      await res.arrayBuffer();
      statuses.push(res.status);
      const kind = /error="([a-z_]+)"/.exec(res.headers.get('www-authenticate') ?? '')?.[1] ?? 'bare';
      outcomes.push(`${c.placement}:${res.status}/${res.status === 401 || res.status === 400 ? kind : '-'}`);
      byFamily.set(c.family, (byFamily.get(c.family) ?? 0) + 1);
      const challenge = res.headers.get('www-authenticate') ?? '';
      const why = `case ${i} (${c.family}, ${c.placement}, seed ${SEED}): ${res.status} ${challenge} token ${JSON.stringify(c.token.slice(0, 200))}`;
      if (res.status < 300 || res.status === 403 || res.status >= 500) failures.push(why);
      else if (res.status === 401 && !CHALLENGE_401.test(challenge)) failures.push(`bad challenge: ${why}`);
      else if (res.status === 400 && !CHALLENGE_400.test(challenge)) failures.push(`bad challenge: ${why}`);
      else if (!EXPECTED[c.placement].test(`${res.status}/${kind}`))
        failures.push(`unexpected answer: ${why}`);
    };
    // The first tenth warms the code paths up; memory is compared from there to the end.
    const warm = Math.floor(cases.length / 10);
    await pool(warm, 16, send);
    const before: Memory = await memoryOf(api);
    await pool(cases.length - warm, 16, (i) => send(warm + i));
    const health = await fetch(`${api.url}/healthz`);
    const afterMem: Memory = await memoryOf(api);

    const accepted = statuses.filter((s) => s < 300 || s === 403).length;
    const fiveXx = statuses.filter((s) => s >= 500).length;
    console.log(
      `# api-fuzz summary: seed ${SEED}, cases tried ${statuses.length}, accepted ${accepted}, 5xx ${fiveXx}, by status ${tally(statuses)}`,
    );
    console.log(`# api-fuzz outcomes (placement:status/challenge): ${tally(outcomes)}`);
    console.log(`# api-fuzz families: ${[...byFamily].map(([f, n]) => `${f}:${n}`).join(' ')}`);
    console.log(
      `# api-fuzz placements: ${tally(cases.map((c) => c.placement))}; no-op mutations redrawn: ${noOps}`,
    );
    console.log(
      `# api-fuzz memory: at start heap ${start.heapMb} MB, VmRSS ${start.vmRssMb} MB; after warm-up -> end: heap ${before.heapMb} -> ${afterMem.heapMb} MB, rss ${before.rssMb} -> ${afterMem.rssMb} MB, VmRSS ${before.vmRssMb} -> ${afterMem.vmRssMb} MB; /healthz ${health.status}`,
    );

    assert.equal(statuses.length, CASES);
    assert.deepEqual(failures.slice(0, 10), [], `${failures.length} failures, first ones listed`);
    assert.equal(health.status, 200);
    // Bounded caches (bad-signature memo of 1000 hashes; the token cache holds only valid ones):
    // after a full gc the heap is back within a few MB; RSS may keep allocator slack.
    assert.ok(afterMem.heapMb - before.heapMb < 16, `heap grew ${before.heapMb} -> ${afterMem.heapMb} MB`);
    assert.ok(
      afterMem.vmRssMb - before.vmRssMb < 96,
      `VmRSS grew ${before.vmRssMb} -> ${afterMem.vmRssMb} MB`,
    );

    // And valid tokens still work after the storm.
    const res = await fetch(target, { headers: { authorization: `Bearer ${valid[0]}` } });
    assert.equal(res.status, 200);
  });
});
