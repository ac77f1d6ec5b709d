// npm run bench: runs every bench/*.bench.ts in turn, each in its own process so one
// section's servers and heap never skew the next. `npm run bench -- api spa` runs a subset.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const wanted = process.argv.slice(2);
const sections = readdirSync(here)
  .filter((f) => f.endsWith('.bench.ts'))
  .sort()
  .filter((f) => wanted.length === 0 || wanted.some((w) => f.startsWith(w)));

let failed = 0;
for (const file of sections) {
  console.log(`\n=== ${file.replace('.bench.ts', '')} ===`);
  const run = spawnSync(process.execPath, [`${here}${file}`], { stdio: 'inherit' });
  if (run.status !== 0) {
    failed++;
    console.error(`${file} failed with exit code ${run.status}`);
  }
}
process.exitCode = failed === 0 ? 0 : 1;
