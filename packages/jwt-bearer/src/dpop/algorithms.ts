import { DPOP_CHALLENGE_ALGS } from '../errors.ts';

/** Algorithms a DPoP proof may use: asymmetric only (RFC 9449 §4.3), ES256 first (what browsers make). */
export const DPOP_ALGORITHMS: readonly string[] = DPOP_CHALLENGE_ALGS.split(' ');
