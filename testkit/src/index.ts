// The test kit every harness uses; the programs' starters, the OAuth client and PostgreSQL are sub-paths.
export { freePort } from './free-port.ts';
export { API_DIR, AUTH_SERVER_DIR, REPO_ROOT } from './paths.ts';
export { prng, type Rng, seededRng, seedFromEnv } from './random.ts';
export { FULL, size } from './sizes.ts';
export { type SpawnAndWaitOptions, type Spawned, spawnAndWait } from './spawn-and-wait.ts';
