// `npm run start -w @calling-api/spa`: builds the bundle if it is missing or older than the
// sources, then serves it. PORT (default 3000) and the SPA settings come from the environment.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import path from 'node:path';
import { type Listening, listen } from '@calling-api/listen';
import { build, distDir, srcDir } from '../scripts/build.ts';
import { ConfigError } from '../src/app/config/spa-config.ts';
import { createApp } from './app.ts';
import { serverConfigFromEnv } from './config-from-env.ts';

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) newest = Math.max(newest, statSync(path.join(entry.parentPath, entry.name)).mtimeMs);
  }
  return newest;
}

function needsBuild(): boolean {
  const index = path.join(distDir, 'index.html');
  if (!existsSync(index)) return true;
  const builtAt = statSync(index).mtimeMs;
  const buildScript = statSync(new URL('../scripts/build.ts', import.meta.url)).mtimeMs;
  return newestMtime(srcDir) > builtAt || buildScript > builtAt;
}

let config: ReturnType<typeof serverConfigFromEnv>;
try {
  config = serverConfigFromEnv(process.env);
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(`spa: cannot start.\n${error.message}`);
  process.exit(1);
}

if (needsBuild()) {
  const { script, ms } = await build();
  console.log(`spa: built ${script.file} in ${ms} ms`);
}

const app = createApp(config.spa, distDir, config.extraConnectSrc, { sourceMaps: !config.production });
let listening: Listening;
try {
  listening = await listen(() => createServer(app), config);
} catch (error) {
  console.error(`spa: cannot listen on port ${config.port}: ${(error as Error).message}`);
  process.exit(1);
}
console.log(
  `spa: listening on ${listening.url} [${listening.addresses.join(', ')}] (issuer ${config.spa.issuer}, API ${config.spa.apiUrl}, token sent to ${config.spa.allowedApiOrigins.join(' ')})`,
);

let stopping = false;
function shutdown(signal: string): void {
  if (stopping) return;
  stopping = true;
  console.log(`spa: ${signal} received, closing`);
  void listening.close().then(() => process.exit(0));
  listening.closeIdleConnections();
  setTimeout(() => {
    listening.closeAllConnections();
    process.exit(0);
  }, 3000).unref();
}
process.on('SIGINT', () => shutdown('SIGINT'));
process.on('SIGTERM', () => shutdown('SIGTERM'));
