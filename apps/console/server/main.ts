// `npm run start -w @calling-api/console`: builds the bundle when it is missing or older than the sources,
// then serves it on PORT (4001). ISSUER_BASE_URL and CLIENT_ID say which tenant it administers.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import path from 'node:path';
import { type Listening, listen } from '@calling-api/listen';
import { build, distDir, srcDir } from '../scripts/build.ts';
import { ConfigError } from '../src/app/config.ts';
import { createApp } from './app.ts';
import { type ServerConfig, serverConfigFromEnv } from './config-from-env.ts';

const newest = (dir: string) =>
  Math.max(
    0,
    ...readdirSync(dir, { withFileTypes: true, recursive: true })
      .filter((e) => e.isFile())
      .map((e) => statSync(path.join(e.parentPath, e.name)).mtimeMs),
  );

function needsBuild(): boolean {
  const index = path.join(distDir, 'index.html');
  if (!existsSync(index)) return true;
  const builtAt = statSync(index).mtimeMs;
  const buildScript = statSync(new URL('../scripts/build.ts', import.meta.url)).mtimeMs;
  // The shared sign-in code is part of the bundle too.
  const shared = path.join(path.dirname(srcDir), '../../packages/angularjs-auth/src');
  return newest(srcDir) > builtAt || newest(shared) > builtAt || buildScript > builtAt;
}

let config: ServerConfig;
try {
  config = serverConfigFromEnv(process.env);
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(`console: cannot start.\n${error.message}`);
  process.exit(1);
}

if (needsBuild()) {
  const { script, ms } = await build();
  console.log(`console: built ${script.file} in ${ms} ms`);
}

let listening: Listening;
try {
  listening = await listen(
    () => createServer(createApp(config.console, distDir, { sourceMaps: !config.production })),
    config,
  );
} catch (error) {
  console.error(`console: cannot listen on port ${config.port}: ${(error as Error).message}`);
  process.exit(1);
}
console.log(
  `console: listening on ${listening.url} [${listening.addresses.join(', ')}] (tenant ${config.console.issuer}, client ${config.console.clientId})`,
);

let stopping = false;
function shutdown(signal: string): void {
  if (stopping) return;
  stopping = true;
  console.log(`console: ${signal} received, closing`);
  void listening.close().then(() => process.exit(0));
  listening.closeIdleConnections();
  setTimeout(() => {
    listening.closeAllConnections();
    process.exit(0);
  }, 3000).unref();
}
process.on('SIGINT', () => shutdown('SIGINT'));
process.on('SIGTERM', () => shutdown('SIGTERM'));
