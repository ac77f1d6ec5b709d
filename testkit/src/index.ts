export { freePort } from './free-port.ts';
export { type SpawnAndWaitOptions, type Spawned, spawnAndWait } from './spawn-and-wait.ts';
