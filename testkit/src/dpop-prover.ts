// A DPoP key and its proofs (RFC 9449 §4.2), as a client makes them: for the tests of the server and of APIs.
import { createHash, randomUUID } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';

export type DpopProver = {
  readonly thumbprint: string;
  readonly publicJwk: JWK;
  /** A fresh proof for one request; `accessToken` adds its hash (`ath`), `claims` override anything. */
  proof(
    htm: string,
    htu: string,
    options?: { accessToken?: string; claims?: Record<string, unknown> },
  ): Promise<string>;
};

export async function dpopProver(): Promise<DpopProver> {
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  const publicJwk = await exportJWK(publicKey);
  return {
    thumbprint: await calculateJwkThumbprint(publicJwk),
    publicJwk,
    proof(htm, htu, options = {}) {
      return new SignJWT({
        htm,
        htu,
        jti: randomUUID(),
        iat: Math.floor(Date.now() / 1000),
        ...(options.accessToken
          ? { ath: createHash('sha256').update(options.accessToken).digest('base64url') }
          : {}),
        ...options.claims,
      })
        .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: publicJwk })
        .sign(privateKey);
    },
  };
}
