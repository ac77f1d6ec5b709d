// RFC 9449 §7.1: a DPoP-bound request whose proof is missing or wrong is answered 401 with a DPoP challenge
// (`DPoP error="invalid_dpop_proof", algs="..."`), not a Bearer one.
import { BearerError } from '../errors.ts';
import { DPOP_ALGORITHMS } from './algorithms.ts';

const quote = (value: string): string => value.replace(/["\\]/g, '').replace(/[^\x20-\x7e]/g, '?');

export class InvalidDpopProofError extends BearerError {
  readonly status = 401;
  readonly error = 'invalid_dpop_proof';
  constructor(description: string, options?: { cause?: unknown }) {
    super('ERR_DPOP_PROOF', description, options);
  }
  override headers(realm = 'api'): Record<string, string> {
    return {
      'WWW-Authenticate': `DPoP realm="${quote(realm)}", error="invalid_dpop_proof", error_description="${quote(this.description)}", algs="${DPOP_ALGORITHMS.join(' ')}"`,
    };
  }
}
