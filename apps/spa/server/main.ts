// `npm run start -w @calling-api/spa`: builds the bundle if it is missing or older than the
// sources, then serves it. PORT (default 3000) and the SPA settings come from the environment.
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
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

const app = createApp(config.spa, distDir, config.extraConnectSrc);
const server = app.listen(config.port, () => {
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  console.log(
    `spa: listening on http://localhost:${port} (issuer ${config.spa.issuer}, API ${config.spa.apiUrl}, token sent to ${config.spa.allowedApiOrigins.join(' ')})`,
  );
});
server.on('error', (error) => {
  console.error(`spa: cannot listen on port ${config.port}: ${error.message}`);
  process.exit(1);
});

let stopping = false;
function shutdown(signal: string): void {
  if (stopping) return;
  stopping = true;
  console.log(`spa: ${signal} received, closing`);
  server.close(() => process.exit(0));
  server.closeIdleConnections();
  setTimeout(() => {
    server.closeAllConnections();
    process.exit(0);
  }, 3000).unref();
}
process.on('SIGINT', () => shutdown('SIGINT'));
process.on('SIGTERM', () => shutdown('SIGTERM'));
