// Bundles the console with esbuild into dist/ as the SPA's build does: one script and one stylesheet with
// content-hashed names and gzip twins, and index.html with the navbar's template in it (no layout shift).
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import * as esbuild from 'esbuild';

export const consoleRoot = fileURLToPath(new URL('..', import.meta.url));
export const srcDir = path.join(consoleRoot, 'src');
export const distDir = path.join(consoleRoot, 'dist');

export type BuiltAsset = { readonly file: string; readonly bytes: number; readonly gzipBytes: number };
export type BuildResult = {
  readonly script: BuiltAsset;
  readonly stylesheet: BuiltAsset;
  readonly ms: number;
};

// AngularJS's own minified builds (Closure Compiler) are smaller than esbuild's minification of its sources.
const minifiedAngular: esbuild.Plugin = {
  name: 'minified-angular',
  setup(plugin) {
    plugin.onResolve({ filter: /^angular(-route)?$/ }, (args) => ({ path: args.path, namespace: 'angular' }));
    plugin.onLoad({ filter: /.*/, namespace: 'angular' }, (args) => ({
      contents:
        args.path === 'angular'
          ? "require('angular/angular.min.js'); module.exports = window.angular;"
          : "require('angular-route/angular-route.min.js'); module.exports = 'ngRoute';",
      resolveDir: consoleRoot,
      loader: 'js',
    }));
  },
};

function writeAtomically(file: string, content: string | Buffer): void {
  writeFileSync(`${file}.${process.pid}.tmp`, content);
  renameSync(`${file}.${process.pid}.tmp`, file);
}

/** Assets of earlier builds go once no page still loading can need them (ten minutes). */
function pruneStaleAssets(outDir: string, current: ReadonlySet<string>): void {
  const dir = path.join(outDir, 'assets');
  for (const name of readdirSync(dir)) {
    const base = `assets/${name}`.replace(/\.(gz|map|LEGAL\.txt)$/, '').replace(/\.(gz|map)$/, '');
    if (current.has(`assets/${name}`) || current.has(base)) continue;
    if (Date.now() - statSync(path.join(dir, name)).mtimeMs > 10 * 60_000)
      rmSync(path.join(dir, name), { force: true });
  }
}

export async function build(options: { outDir?: string } = {}): Promise<BuildResult> {
  const started = performance.now();
  const outDir = options.outDir ?? distDir;
  mkdirSync(outDir, { recursive: true });
  const result = await esbuild.build({
    absWorkingDir: consoleRoot,
    entryPoints: { main: 'src/main.ts', styles: 'src/styles.css' },
    outdir: outDir,
    entryNames: 'assets/[name]-[hash]',
    bundle: true,
    minify: true,
    format: 'iife',
    target: ['es2022', 'chrome109', 'firefox115', 'safari16'],
    platform: 'browser',
    sourcemap: 'linked',
    legalComments: 'linked',
    banner: {
      js: '/*! AngularJS 1.8.3 and angular-route (c) Google LLC, MIT License; oauth4webapi and jose (c) Filip Skokan, MIT License */',
    },
    loader: { '.html': 'text' },
    metafile: true,
    plugins: [minifiedAngular],
    logLevel: 'warning',
  });
  const outputs = Object.keys(result.metafile.outputs).map((f) =>
    path.relative(outDir, path.join(consoleRoot, f)),
  );
  const find = (prefix: string, ext: string) => outputs.find((f) => f.startsWith(prefix) && f.endsWith(ext));
  const scriptFile = find('assets/main-', '.js');
  const styleFile = find('assets/styles-', '.css');
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
