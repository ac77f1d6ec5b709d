// RS256 signing with node:crypto's callback API (libuv thread pool) through oidc-provider's ExternalSigningKey hook.
// jose signs through WebCrypto, whose per-call work on the main thread is about three times that of node:crypto's
// async sign; on the token endpoint that overhead was a quarter of the event loop's time.
import { createPrivateKey, createPublicKey, type JsonWebKey, type KeyObject, sign } from 'node:crypto';
import type { JWK } from 'jose';
import { ExternalSigningKey } from 'oidc-provider';

export class NodeSigningKey extends ExternalSigningKey {
  readonly #privateKey: KeyObject;
  readonly #publicKey: KeyObject;
  readonly #kid: string;

  constructor(jwk: JWK) {
    super();
    if (jwk.kty !== 'RSA' || jwk.alg !== 'RS256' || !jwk.kid)
      throw new Error('an RS256 RSA JWK with a kid is required');
    this.#privateKey = createPrivateKey({ key: jwk as JsonWebKey, format: 'jwk' });
    this.#publicKey = createPublicKey(this.#privateKey);
    this.#kid = jwk.kid;
  }

  override get kid(): string {
    return this.#kid;
  }

  override get alg(): string {
    return 'RS256';
  }

  /** The public key: oidc-provider publishes and verifies with it; the private key never leaves this object. */
  override keyObject(): KeyObject {
    return this.#publicKey;
  }

  override sign(data: Uint8Array): Promise<Uint8Array> {
    return new Promise((resolve, reject) => {
      sign('sha256', data, this.#privateKey, (err, signature) => (err ? reject(err) : resolve(signature)));
    });
  }
}
