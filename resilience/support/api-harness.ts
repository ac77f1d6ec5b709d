// Shared pieces of the API resilience tests: the real API process (@calling-api/testkit), its memory
// as the operating system and V8 see it, a bounded-concurrency runner; seeded random and sizes from the kit.
import { readFileSync } from 'node:fs';
import { type ApiProcess, startApi } from '@calling-api/testkit/api';

export { FULL, prng, seedFromEnv, size } from '@calling-api/testkit';

export type { ApiProcess };

/** The real API (`node src/main.ts`) with gc exposed (so /metrics heap figures compare) and no request log. */
export function startRealApi(
  env: Record<string, string>,
  options: { keepData?: string } = {},
): Promise<ApiProcess> {
  return startApi(
    { NODE_OPTIONS: '--expose-gc', LOG_REQUESTS: 'false', EXPOSE_METRICS: 'true', ...env },
    options,
  );
}

export type Memory = { rssMb: number; heapMb: number; vmRssMb: number };

/** Heap and RSS after a full gc (from /metrics), and VmRSS from /proc/<pid>/status. */
export async function memoryOf(api: ApiProcess): Promise<Memory> {
  const res = await fetch(`${api.url}/metrics`);
  const body = (await res.json()) as { memory: { heapUsed: number; rss: number } };
  const status = readFileSync(`/proc/${api.child.pid}/status`, 'utf8');
  const vmRssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN);
  const mb = (bytes: number) => Math.round((bytes / 1048576) * 10) / 10;
  return { rssMb: mb(body.memory.rss), heapMb: mb(body.memory.heapUsed), vmRssMb: mb(vmRssKb * 1024) };
}

/** Runs `job(i)` for i in [0, count) with at most `concurrency` in flight. */
export async function pool(
  count: number,
  concurrency: number,
  job: (i: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count) await job(next++);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Counts per key, printed sorted: "200:5 401:3". */
export function tally(values: Iterable<number | string>): string {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(String(v), (counts.get(String(v)) ?? 0) + 1);
  return [...counts.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, n]) => `${k}:${n}`)
    .join(' ');
}
