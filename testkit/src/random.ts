// Randomness a failing test can replay: mulberry32 from SEED=<n>, or a fresh seed that is printed.

/** mulberry32: small, fast, and the same sequence for the same seed on every machine. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The seed from SEED (replay) or a fresh one. */
export function seedFromEnv(): number {
  const given = process.env.SEED;
  return given !== undefined && given !== '' ? Number(given) >>> 0 : (Math.random() * 2 ** 32) >>> 0;
}

export type Rng = {
  seed: number;
  next(): number;
  int(maxExclusive: number): number;
  pick<T>(items: readonly T[]): T;
  chance(p: number): boolean;
  bytes(n: number): Buffer;
};

/** A seeded generator; its seed is printed under `label` so that the run can be replayed. */
export function seededRng(label: string): Rng {
  const seed = seedFromEnv();
  console.log(`# ${label}: SEED=${seed} (set SEED=${seed} to replay)`);
  const next = prng(seed);
  const int = (max: number) => Math.floor(next() * max);
  return {
    seed,
    next,
    int,
    pick: (items) => items[int(items.length)]!,
    chance: (p) => next() < p,
    bytes: (n) => Buffer.from(Array.from({ length: n }, () => int(256))),
  };
}
