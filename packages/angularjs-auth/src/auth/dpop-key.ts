// The page's DPoP key (RFC 9449): a P-256 key pair made by WebCrypto once per page load, whose private half
// cannot be exported, so a token bound to it is useless to anyone who copies it out of the page. Proofs for
// API calls are signed here (jose); the token requests' proofs are made by oauth4webapi with the same key.
import { base64url, exportJWK, type JWK, SignJWT } from 'jose';

export class DpopKey {
  readonly keyPair: CryptoKeyPair;
  private readonly publicJwk: JWK;

  private constructor(keyPair: CryptoKeyPair, publicJwk: JWK) {
    this.keyPair = keyPair;
    this.publicJwk = publicJwk;
  }

  static async create(subtle: SubtleCrypto = crypto.subtle): Promise<DpopKey> {
    const keyPair = await subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, [
      'sign',
      'verify',
    ]);
    const { kty, crv, x, y } = await exportJWK(keyPair.publicKey);
    return new DpopKey(keyPair, { kty, crv, x, y });
  }

  /** A proof for one request: its method and URL (without query and fragment), the token's hash, a server nonce. */
  async proof(method: string, url: string, accessToken: string, nonce?: string): Promise<string> {
    const htu = new URL(url);
    htu.search = '';
    htu.hash = '';
    return new SignJWT({
      htm: method.toUpperCase(),
      htu: htu.href,
      jti: crypto.randomUUID(),
      ath: base64url.encode(
        new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(accessToken))),
      ),
      ...(nonce ? { nonce } : {}),
    })
      .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: this.publicJwk })
      .setIssuedAt()
      .sign(this.keyPair.privateKey);
  }
}
