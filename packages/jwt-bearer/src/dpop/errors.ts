// RFC 9449 §7.1: a DPoP-bound request whose proof is missing or wrong is answered 401 with a DPoP challenge
// (`DPoP error="invalid_dpop_proof", algs="..."`), whatever other scheme the API takes.
import { type AuthScheme, BearerError, RetryLaterError } from '../errors.ts';

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

/**
 * Proofs used recently cannot be recorded (the replay memory is full): the proof can be neither trusted nor
 * refused as a replay, so the request is turned away for now (503 with Retry-After), never let through
 * unchecked.
 */
export class DpopReplayFullError extends RetryLaterError {
  readonly status = 503;
  readonly error = 'temporarily_unavailable';
  constructor() {
    super('ERR_DPOP_REPLAY_FULL', 'Too many DPoP proofs to remember right now; retry shortly.');
  }
}

/**
 * This key made more proofs in the proof window than the replay memory keeps for one key (2,000 by default:
 * far more than a browser makes): the client is asked to slow down (429 with Retry-After), the others are
 * not affected.
 */
export class DpopKeyBusyError extends RetryLaterError {
  readonly status = 429;
  readonly error = 'too_many_requests';
  constructor() {
    super('ERR_DPOP_KEY_BUSY', 'Too many DPoP proofs by this key in the last minute; retry shortly.');
  }
}
