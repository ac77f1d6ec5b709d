// RFC 9449 §7.1: a DPoP-bound request whose proof is missing or wrong is answered 401 with a DPoP challenge
// (`DPoP error="invalid_dpop_proof", algs="..."`), whatever other scheme the API takes.
import { type AuthScheme, BearerError } from '../errors.ts';

export class InvalidDpopProofError extends BearerError {
  readonly status = 401;
  readonly error = 'invalid_dpop_proof';
  constructor(description: string, options?: { cause?: unknown }) {
    super('ERR_DPOP_PROOF', description, options);
  }
  override challenges(realm = 'api', _schemes?: readonly AuthScheme[]): string[] {
    return super.challenges(realm, ['DPoP']);
  }
}
