// npm run bench -- spa-size: what the browser downloads to run the SPA, beside the original
// sample's script set, and the library choices behind ours, all measured the same way:
// minified bytes, and gzip bytes at level 9 (node:zlib; the SPA's server sends these same
// pre-compressed files). Goal: at most 100 KB gzip of JavaScript in total.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import * as esbuild from 'esbuild';
import { build } from '../apps/spa/scripts/build.ts';

const GOAL_GZIP_BYTES = 100 * 1024;
const spaDir = new URL('../apps/spa/', import.meta.url).pathname;
const benchDir = new URL('./', import.meta.url).pathname;

interface Row {
  readonly name: string;
  readonly bytes: number;
  readonly gzip: number;
}

const gzipBytes = (content: Buffer | string) => gzipSync(content, { level: 9 }).length;
const measure = (name: string, content: Buffer | string): Row => ({
  name,
  bytes: Buffer.byteLength(content),
  gzip: gzipBytes(content),
});
/** A page's scripts as one transfer: sizes summed, gzip of each file summed (one response each). */
const total = (name: string, rows: readonly Row[]): Row => ({
  name,
  bytes: rows.reduce((n, r) => n + r.bytes, 0),
  gzip: rows.reduce((n, r) => n + r.gzip, 0),
});
const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`;

function table(title: string, rows: readonly Row[]): void {
  console.log(`\n${title}`);
  const width = Math.max(...rows.map((r) => r.name.length), 10);
  console.log(`  ${'file'.padEnd(width)}  ${'minified'.padStart(10)}  ${'gzip -9'.padStart(10)}`);
  for (const r of rows)
    console.log(`  ${r.name.padEnd(width)}  ${kb(r.bytes).padStart(10)}  ${kb(r.gzip).padStart(10)}`);
}

// 1. Our bundle, built exactly as `npm run build -w @calling-api/spa` builds it.
const outDir = mkdtempSync(path.join(os.tmpdir(), 'spa-size-'));
let ours: { js: Row; css: Row };
try {
  const built = await build({ outDir });
  ours = {
    js: measure(`our ${built.script.file}`, readFileSync(path.join(outDir, built.script.file))),
    css: measure(`our ${built.stylesheet.file}`, readFileSync(path.join(outDir, built.stylesheet.file))),
  };
} finally {
  rmSync(outDir, { recursive: true, force: true });
}

// 2. The original sample's script set, each minified file as its package ships it.
// Files are found through node_modules directly: some packages' `exports` hide their dist files.
function packageDir(name: string, fromDir: string): string {
  for (let dir = fromDir; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'node_modules', name);
    if (existsSync(path.join(candidate, 'package.json'))) return candidate;
    if (path.dirname(dir) === dir) throw new Error(`package ${name} is not installed (from ${fromDir})`);
  }
}
const shipped = (name: string, file: string, fromDir = benchDir): Row => {
  const dir = packageDir(name, fromDir);
  const { version } = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { version: string };
  return measure(`${name} ${version}`, readFileSync(path.join(dir, file)));
};
const original = [
  shipped('angular', 'angular.min.js'),
  shipped('angular-ui-router', 'release/angular-ui-router.min.js'),
  shipped('angular-jwt', 'dist/angular-jwt.min.js'),
  shipped('angular-auth0', 'dist/angular-auth0.min.js'),
  shipped('auth0-js', 'dist/auth0.min.esm.js'),
];

// 3. The choices we weighed: router and OIDC client, measured as what they add to a bundle.
async function bundled(label: string, source: string, external: string[] = []): Promise<Row> {
  const result = await esbuild.build({
    stdin: { contents: source, resolveDir: spaDir, loader: 'js' },
    bundle: true,
    minify: true,
    format: 'iife',
    target: 'es2022',
    legalComments: 'none',
    write: false,
    external,
    logLevel: 'error',
  });
  return measure(label, result.outputFiles[0]?.contents ? Buffer.from(result.outputFiles[0].contents) : '');
}
const oauthUse = `import * as o from 'oauth4webapi'; window.o = [o.discoveryRequest, o.processDiscoveryResponse,
  o.generateRandomCodeVerifier, o.calculatePKCECodeChallenge, o.generateRandomState, o.generateRandomNonce,
  o.validateAuthResponse, o.authorizationCodeGrantRequest, o.processAuthorizationCodeResponse,
  o.refreshTokenGrantRequest, o.processRefreshTokenResponse, o.userInfoRequest, o.processUserInfoResponse,
  o.getValidatedIdTokenClaims, o.revocationRequest, o.processRevocationResponse, o.None, o.allowInsecureRequests];`;
const options = {
  angular: shipped('angular', 'angular.min.js', spaDir),
  uiRouter: shipped('@uirouter/angularjs', 'release/angular-ui-router.min.js', spaDir),
  uiRouterBundled: await bundled('@uirouter/angularjs, bundled by esbuild', "import '@uirouter/angularjs';", [
    'angular',
  ]),
  ngRoute: shipped('angular-route', 'angular-route.min.js', spaDir),
  oidcClientTs: shipped('oidc-client-ts', 'dist/browser/oidc-client-ts.min.js', spaDir),
  oauth4webapi: await bundled(
    `oauth4webapi ${JSON.parse(readFileSync(path.join(packageDir('oauth4webapi', spaDir), 'package.json'), 'utf8')).version} (functions used)`,
    oauthUse,
  ),
};
const stacks = [
  total('angular + @uirouter/angularjs + oidc-client-ts (the trial)', [
    options.angular,
    options.uiRouter,
    options.oidcClientTs,
  ]),
  total('angular + @uirouter/angularjs + oauth4webapi', [
    options.angular,
    options.uiRouter,
    options.oauth4webapi,
  ]),
  total('angular + angular-route + oidc-client-ts', [options.angular, options.ngRoute, options.oidcClientTs]),
  total('angular + angular-route + oauth4webapi (ours)', [
    options.angular,
    options.ngRoute,
    options.oauth4webapi,
  ]),
];

table('Original sample: the scripts its index.html loads', [
  ...original,
  total('total JavaScript', original),
]);
table('Library choices (libraries only, before any app code)', [
  options.angular,
  options.uiRouter,
  options.uiRouterBundled,
  options.ngRoute,
  options.oidcClientTs,
  options.oauth4webapi,
  ...stacks,
]);
table('This SPA: what the browser downloads (one script, one stylesheet)', [ours.js, ours.css]);

const originalTotal = total('original', original);
const ourLibraries = stacks[3];
if (ourLibraries) {
  console.log(
    `\nOur own code (app, templates, allow-list, auth service) adds about ${kb(ours.js.gzip - ourLibraries.gzip)} gzip ` +
      `to the libraries' ${kb(ourLibraries.gzip)}; on @uirouter/angularjs the same app would need about ` +
      `${kb(ours.js.gzip - options.ngRoute.gzip + options.uiRouter.gzip)} gzip.`,
  );
}
const ok = ours.js.gzip <= GOAL_GZIP_BYTES;
console.log(
  `\nJavaScript: ours ${kb(ours.js.gzip)} gzip (${kb(ours.js.bytes)} minified) vs the original's ${kb(originalTotal.gzip)} gzip ` +
    `(${kb(originalTotal.bytes)} minified): ${((ours.js.gzip / originalTotal.gzip) * 100).toFixed(0)}% of it.`,
);
console.log(
  `Goal: our JavaScript <= ${kb(GOAL_GZIP_BYTES)} gzip: ${ok ? 'met' : 'NOT met'} (${kb(ours.js.gzip)}).`,
);
process.exitCode = ok ? 0 : 1;
