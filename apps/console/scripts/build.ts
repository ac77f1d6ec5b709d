// Bundles the console into dist/ as the SPA's build does (packages/angularjs-shell/src/build.ts).
// `node scripts/build.ts` builds and prints the sizes.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BuildResult, buildApp, describeBuild } from '@calling-api/angularjs-shell/build';

export type { BuildResult } from '@calling-api/angularjs-shell/build';

export const consoleRoot = fileURLToPath(new URL('..', import.meta.url));
export const distDir = path.join(consoleRoot, 'dist');

export function build(options: { outDir?: string } = {}): Promise<BuildResult> {
  return buildApp({
    root: consoleRoot,
    outDir: options.outDir,
    banner:
      'AngularJS 1.8.3 and angular-route (c) Google LLC, MIT License; oauth4webapi and jose (c) Filip Skokan, MIT License',
  });
}

if (import.meta.main) console.log(describeBuild(await build()));
