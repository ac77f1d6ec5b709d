/** Algorithms a DPoP proof may use: asymmetric only (RFC 9449 §4.3), ES256 first (what browsers make). */
export const DPOP_ALGORITHMS: readonly string[] = [
  'ES256',
  'ES384',
  'ES512',
  'PS256',
  'PS384',
  'PS512',
  'RS256',
  'EdDSA',
  'Ed25519',
];
