// How big a test run is: FULL=1 (`npm run test:full`) runs the issues' sizes, otherwise reduced ones
// that keep `npm test` within its time on a 2-core machine.
export const FULL = process.env.FULL === '1' || process.env.FULL === 'true';

/** `full` with FULL=1, otherwise `reduced`. */
export const size = <T>(full: T, reduced: T): T => (FULL ? full : reduced);
