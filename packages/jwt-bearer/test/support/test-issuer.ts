// A real local issuer for tests and benchmarks: serves OIDC discovery and a JWKS over HTTP,
// mints access tokens with its own keys (and forged ones on request), rotates keys, can go
// down, and counts every fetch. Importable by other workspaces as
// "@calling-api/jwt-bearer/testing".
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CompactSign, exportJWK, exportSPKI, generateKeyPair, type JWK } from 'jose';

type SigningKey = { kid: string; privateKey: CryptoKeyLike; publicJwk: JWK; publicPem: string };
type CryptoKeyLike = Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];

export type MintOptions = {
  /** Header alg (default RS256). "none" yields an unsigned token; HS256 signs with `hmacSecret`. */
  alg?: string;
  /** Header kid (default: the current key's). */
  kid?: string | null;
  /** Header typ (default "at+jwt"); null leaves it out. */
  typ?: string | null;
  /** Extra header parameters (jwk, jku, x5u, crit...). */
  header?: Record<string, unknown>;
  /** Sign with this issuer's current key (default), an unpublished attacker key, or a given kid's key. */
  signWith?: 'current' | 'attacker' | string;
  /** Secret for HS* algorithms (default: the current public key's PEM, the classic confusion attack). */
  hmacSecret?: Uint8Array;
  /** Claims removed from the default set. */
  omit?: string[];
};

export type IssuerDownMode = 'up' | 'error' | 'hang' | 'garbage';

export type TestIssuer = {
  /** The exact issuer string tokens carry and discovery states. */
  readonly issuer: string;
  readonly baseUrl: string;
  readonly jwksUri: string;
  readonly audience: string;
  readonly currentKid: string;
  readonly counts: { discovery: number; jwks: number };
  /** A token with default claims (overridden/extended by `claims`), signed per `options`. */
  mint(claims?: Record<string, unknown>, options?: MintOptions): Promise<string>;
  /** Publishes a new current key; `dropOld` removes the previous ones from the JWKS. */
  rotate(options?: { dropOld?: boolean }): Promise<string>;
  /** "error": 503 on every route; "hang": never answers; "garbage": 200 with a non-JSON body. */
  setMode(mode: IssuerDownMode): void;
  publicJwks(): { keys: JWK[] };
  close(): Promise<void>;
};

export type TestIssuerOptions = {
  audience?: string;
  /** Issuer with a trailing slash, like Auth0's "https://tenant/". */
  trailingSlash?: boolean;
  /** Discovery states this issuer instead of the real one (mix-up tests). */
  advertisedIssuer?: string;
  /** Where the metadata is served: OIDC discovery (default) or only RFC 8414's location. */
  metadata?: 'openid-configuration' | 'oauth-authorization-server';
};

async function newKey(): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  const kid = randomUUID();
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' };
  return { kid, privateKey, publicJwk, publicPem: await exportSPKI(publicKey) };
}

const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

export async function startTestIssuer(options: TestIssuerOptions = {}): Promise<TestIssuer> {
  const keys: SigningKey[] = [await newKey()];
  const attacker = await newKey();
  const counts = { discovery: 0, jwks: 0 };
  let mode: IssuerDownMode = 'up';
  const hanging = new Set<import('node:http').ServerResponse>();
  let issuer = '';
  let baseUrl = '';

  const metadataPath = `/.well-known/${options.metadata ?? 'openid-configuration'}`;
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (path === metadataPath) counts.discovery++;
    else if (path === '/jwks') counts.jwks++;
    if (mode === 'hang') {
      hanging.add(res);
      return;
    }
    if (mode === 'error') {
      res.writeHead(503, { 'content-type': 'text/plain' }).end('down');
      return;
    }
    if (mode === 'garbage') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"keys": [not json');
      return;
    }
    if (path === metadataPath) {
      res.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          issuer: options.advertisedIssuer ?? issuer,
          jwks_uri: `${baseUrl}/jwks`,
          id_token_signing_alg_values_supported: ['RS256'],
        }),
      );
    } else if (path === '/jwks') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(publicJwks()));
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  issuer = options.trailingSlash ? `${baseUrl}/` : baseUrl;
  const audience = options.audience ?? 'http://localhost:3001/api';

  function publicJwks(): { keys: JWK[] } {
    return { keys: keys.map((k) => k.publicJwk) };
  }

  async function mint(claims: Record<string, unknown> = {}, mintOptions: MintOptions = {}): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    const current = keys.at(-1)!;
    const payload: Record<string, unknown> = {
      iss: issuer,
      aud: audience,
      sub: 'auth0|alice',
      client_id: 'angularjs-spa',
      iat: now,
      exp: now + 600,
      jti: randomUUID(),
      scope: 'openid profile read:messages write:messages',
      ...claims,
    };
    for (const name of mintOptions.omit ?? []) delete payload[name];
    const signer =
      mintOptions.signWith === 'attacker'
        ? attacker
        : mintOptions.signWith === undefined || mintOptions.signWith === 'current'
          ? current
          : (keys.find((k) => k.kid === mintOptions.signWith) ?? current);
    const alg = mintOptions.alg ?? 'RS256';
    const header: Record<string, unknown> = { alg };
    const kid = mintOptions.kid === undefined ? current.kid : mintOptions.kid;
    if (kid !== null) header['kid'] = kid;
    const typ = mintOptions.typ === undefined ? 'at+jwt' : mintOptions.typ;
    if (typ !== null) header['typ'] = typ;
    Object.assign(header, mintOptions.header);
    if (alg === 'none') return `${b64(header)}.${b64(payload)}.`;
    const key = alg.startsWith('HS')
      ? (mintOptions.hmacSecret ?? new TextEncoder().encode(current.publicPem))
      : signer.privateKey;
    return new CompactSign(new TextEncoder().encode(JSON.stringify(payload)))
      .setProtectedHeader(header as { alg: string })
      .sign(key);
  }

  return {
    issuer,
    baseUrl,
    jwksUri: `${baseUrl}/jwks`,
    audience,
    get currentKid() {
      return keys.at(-1)!.kid;
    },
    counts,
    mint,
    async rotate(rotateOptions = {}) {
      const next = await newKey();
      if (rotateOptions.dropOld) keys.splice(0, keys.length);
      keys.push(next);
      return next.kid;
    },
    setMode(next) {
      mode = next;
      if (next !== 'hang') {
        for (const res of hanging) res.destroy();
        hanging.clear();
      }
    },
    publicJwks,
    async close() {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
