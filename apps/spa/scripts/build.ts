// Bundles the SPA with esbuild into dist/: one script and one stylesheet with content-hashed
// names (so they can be cached as immutable), their gzip twins (served when the browser
// accepts gzip, so nothing is compressed per request), and index.html pointing at them.
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import * as esbuild from 'esbuild';

export const spaRoot = fileURLToPath(new URL('..', import.meta.url));
export const srcDir = path.join(spaRoot, 'src');
export const distDir = path.join(spaRoot, 'dist');

export interface BuiltAsset {
  /** Path under dist, e.g. `assets/main-ABC123.js`. */
  readonly file: string;
  readonly bytes: number;
  readonly gzipBytes: number;
}

export interface BuildResult {
  readonly script: BuiltAsset;
  readonly stylesheet: BuiltAsset;
  readonly ms: number;
}

export interface BuildOptions {
  readonly outDir?: string;
  /** Replace module specifiers, e.g. to measure @uirouter/angularjs in the bench. */
  readonly entry?: string;
}

// The packages' `main` files are the unminified sources; their own minified builds (Closure
// Compiler) come out about 4 KB gzip smaller than esbuild's minification of the sources.
const minifiedAngular: esbuild.Plugin = {
  name: 'minified-angular',
  setup(plugin) {
    plugin.onResolve({ filter: /^angular(-route)?$/ }, (args) => ({
      path: args.path,
      namespace: 'minified-angular',
    }));
    plugin.onLoad({ filter: /.*/, namespace: 'minified-angular' }, (args) => ({
      contents:
        args.path === 'angular'
          ? "require('angular/angular.min.js'); module.exports = window.angular;"
          : "require('angular-route/angular-route.min.js'); module.exports = 'ngRoute';",
      resolveDir: spaRoot,
      loader: 'js',
    }));
  },
};

function writeAtomically(file: string, content: string | Buffer): void {
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, content);
  renameSync(temporary, file);
}

/** Removes assets of earlier builds, once they are old enough that no page still loading needs them. */
function pruneStaleAssets(outDir: string, current: ReadonlySet<string>, maxAgeMs = 10 * 60 * 1000): void {
  const assetsDir = path.join(outDir, 'assets');
  for (const name of readdirSync(assetsDir)) {
    const file = `assets/${name}`;
    const base = file.replace(/\.(gz|map|LEGAL\.txt)$/, '').replace(/\.(gz|map)$/, '');
    if (current.has(file) || current.has(base)) continue;
    const full = path.join(assetsDir, name);
    if (Date.now() - statSync(full).mtimeMs > maxAgeMs) rmSync(full, { force: true });
  }
}

export async function build(options: BuildOptions = {}): Promise<BuildResult> {
  const started = performance.now();
  const outDir = options.outDir ?? distDir;
  // No wipe of dist: a server may be serving it while we build. Assets have content-hashed
  // names, index.html is replaced atomically, and stale assets are pruned afterwards.
  mkdirSync(outDir, { recursive: true });
  const result = await esbuild.build({
    absWorkingDir: spaRoot,
    entryPoints: { main: options.entry ?? 'src/main.ts', styles: 'src/styles.css' },
    outdir: outDir,
    entryNames: 'assets/[name]-[hash]',
    bundle: true,
    minify: true,
    format: 'iife',
    target: ['es2022', 'chrome109', 'firefox115', 'safari16'],
    platform: 'browser',
    sourcemap: 'linked',
    legalComments: 'linked',
    // angular.min.js's notice is not a /*! legal comment, so esbuild would drop it; keep one line.
    banner: {
      js: '/*! AngularJS 1.8.3 and angular-route (c) Google LLC, MIT License; oauth4webapi (c) Filip Skokan, MIT License */',
    },
    loader: { '.html': 'text' },
    metafile: true,
    plugins: [minifiedAngular],
    logLevel: 'warning',
  });
  const outputs = Object.keys(result.metafile.outputs).map((file) =>
    path.relative(outDir, path.join(spaRoot, file)),
  );
  const scriptFile = outputs.find((f) => f.endsWith('.js') && f.startsWith('assets/main-'));
  const styleFile = outputs.find((f) => f.endsWith('.css') && f.startsWith('assets/styles-'));
  if (!scriptFile || !styleFile)
    throw new Error(`build produced no script or stylesheet: ${outputs.join(', ')}`);
  const asset = (file: string): BuiltAsset => {
    const content = readFileSync(path.join(outDir, file));
    const gzipped = gzipSync(content, { level: 9 });
    writeAtomically(path.join(outDir, `${file}.gz`), gzipped);
    return { file, bytes: content.length, gzipBytes: gzipped.length };
  };
  const script = asset(scriptFile);
  const stylesheet = asset(styleFile);
  // The navbar is served as part of the page (its session controls hidden by ng-cloak), so
  // nothing moves when AngularJS replaces it with the live component.
  const navbar = readFileSync(path.join(srcDir, 'app/navbar/navbar.html'), 'utf8').trim();
  const html = readFileSync(path.join(srcDir, 'index.html'), 'utf8')
    .replace('__SCRIPT__', `/${script.file}`)
    .replace('__STYLESHEET__', `/${stylesheet.file}`)
    .replace('__NAVBAR__', () => navbar);
  writeAtomically(path.join(outDir, 'index.html'), html);
  pruneStaleAssets(outDir, new Set(outputs));
  return { script, stylesheet, ms: Math.round(performance.now() - started) };
}

if (import.meta.main) {
  const { script, stylesheet, ms } = await build();
  const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`;
  console.log(
    `built in ${ms} ms: ${script.file} ${kb(script.bytes)} (${kb(script.gzipBytes)} gzip), ${stylesheet.file} ${kb(stylesheet.bytes)} (${kb(stylesheet.gzipBytes)} gzip)`,
  );
}
