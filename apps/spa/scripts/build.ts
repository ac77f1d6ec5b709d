// Bundles the SPA into dist/ (packages/angularjs-shell/src/build.ts: hashed assets, gzip twins, the
// navbar in index.html). `node scripts/build.ts` builds and prints the sizes.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BuildResult, buildApp, describeBuild } from '@calling-api/angularjs-shell/build';

export type { BuildResult } from '@calling-api/angularjs-shell/build';

export const spaRoot = fileURLToPath(new URL('..', import.meta.url));
export const distDir = path.join(spaRoot, 'dist');

export type BuildOptions = {
  readonly outDir?: string;
  /** Another entry point, e.g. to measure @uirouter/angularjs in the bench. */
  readonly entry?: string;
};

export function build(options: BuildOptions = {}): Promise<BuildResult> {
  return buildApp({
    root: spaRoot,
    outDir: options.outDir,
    entry: options.entry,
    banner:
      'AngularJS 1.8.3 and angular-route (c) Google LLC, MIT License; oauth4webapi (c) Filip Skokan, MIT License',
  });
}

if (import.meta.main) console.log(describeBuild(await build()));
