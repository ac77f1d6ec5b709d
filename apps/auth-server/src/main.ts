// npm run start:auth: the authorization server on PORT (4000) with the tenant from TENANT_FILE.
//
// First, before anything can use it, the size of libuv's thread pool, where tokens are signed (node:crypto's
// async sign) and passwords hashed. Node's default of 4 threads on a machine with fewer spare cores makes
// the signing threads and the event loop take turns on the same cores: on 2 cores, 1 thread issued about
// a quarter more tokens per second than 4 (npm run bench -- token-endpoint). One core is left to the event loop.
import { availableParallelism } from 'node:os';

process.env.UV_THREADPOOL_SIZE ??= String(Math.max(1, availableParallelism() - 1));
await import('./start.ts');
