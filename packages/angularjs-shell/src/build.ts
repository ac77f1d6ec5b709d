// Bundles an AngularJS app with esbuild into its dist/: one script and one stylesheet with content-hashed
// names (cached as immutable), their gzip twins (served when the browser takes gzip, so nothing is
// compressed per request), and index.html pointing at them with the navbar's template already in it.
//
// An app's folder holds src/main.ts, src/styles.css, src/index.html (with __SCRIPT__, __STYLESHEET__ and
// __NAVBAR__) and src/app/navbar/navbar.html.
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import * as esbuild from 'esbuild';

export type BuiltAsset = {
  /** Path under dist, e.g. `assets/main-ABC123.js`. */
  readonly file: string;
  readonly bytes: number;
  readonly gzipBytes: number;
};

export type BuildResult = {
  readonly script: BuiltAsset;
  readonly stylesheet: BuiltAsset;
  readonly ms: number;
};

export type AppBundle = {
  /** The app's folder. */
  readonly root: string;
  /** The licence notice kept at the top of the script (angular.min.js's own is not a /*! comment). */
  readonly banner: string;
  /** Default: `<root>/dist`. */
  readonly outDir?: string | undefined;
  /** Default: `src/main.ts`; the bench builds variants. */
  readonly entry?: string | undefined;
};

/** The shared packages whose sources are bundled into every app: a change there rebuilds it too. */
const SHARED_SOURCES = ['../../angularjs-auth/src', '.'].map((dir) =>
  fileURLToPath(new URL(dir, import.meta.url)),
);

// The packages' `main` files are the unminified sources; their own minified builds (Closure
// Compiler) come out about 4 KB gzip smaller than esbuild's minification of the sources.
const minifiedAngular = (root: string): esbuild.Plugin => ({
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
      resolveDir: root,
      loader: 'js',
    }));
  },
});

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

export async function buildApp(app: AppBundle): Promise<BuildResult> {
  const started = performance.now();
  const outDir = app.outDir ?? path.join(app.root, 'dist');
  const srcDir = path.join(app.root, 'src');
  // No wipe of dist: a server may be serving it while we build. Assets have content-hashed
  // names, index.html is replaced atomically, and stale assets are pruned afterwards.
  mkdirSync(outDir, { recursive: true });
  const result = await esbuild.build({
    absWorkingDir: app.root,
    entryPoints: { main: app.entry ?? 'src/main.ts', styles: 'src/styles.css' },
    outdir: outDir,
    entryNames: 'assets/[name]-[hash]',
    bundle: true,
    minify: true,
    format: 'iife',
    target: ['es2022', 'chrome109', 'firefox115', 'safari16'],
    platform: 'browser',
    sourcemap: 'linked',
    legalComments: 'linked',
    banner: { js: `/*! ${app.banner} */` },
    loader: { '.html': 'text' },
    metafile: true,
    plugins: [minifiedAngular(app.root)],
    logLevel: 'warning',
  });
  const outputs = Object.keys(result.metafile.outputs).map((file) =>
    path.relative(outDir, path.join(app.root, file)),
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

const newestFile = (dir: string): number =>
  Math.max(
    0,
    ...readdirSync(dir, { withFileTypes: true, recursive: true })
      .filter((e) => e.isFile())
      .map((e) => statSync(path.join(e.parentPath, e.name)).mtimeMs),
  );

/** Whether dist/ is missing or older than the app's sources, the shared packages or `buildScripts`. */
export function bundleIsStale(root: string, buildScripts: readonly string[] = []): boolean {
  const index = path.join(root, 'dist', 'index.html');
  if (!existsSync(index)) return true;
  const builtAt = statSync(index).mtimeMs;
  const sources = [path.join(root, 'src'), ...SHARED_SOURCES].map(newestFile);
  const scripts = buildScripts.map((file) => statSync(file).mtimeMs);
  return Math.max(...sources, ...scripts) > builtAt;
}

/** One line for people: what was built and how big it is. */
export function describeBuild({ script, stylesheet, ms }: BuildResult): string {
  const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`;
  return `built in ${ms} ms: ${script.file} ${kb(script.bytes)} (${kb(script.gzipBytes)} gzip), ${stylesheet.file} ${kb(stylesheet.bytes)} (${kb(stylesheet.gzipBytes)} gzip)`;
}
