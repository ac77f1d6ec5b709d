// `npm run start -w @calling-api/console`: builds the bundle when it is missing or older than the sources,
// then serves it on PORT (4001). ISSUER_BASE_URL and CLIENT_ID say which tenant it administers.
import { fileURLToPath } from 'node:url';
import { serveApp } from '@calling-api/angularjs-shell/serve';
import { build, consoleRoot, distDir } from '../scripts/build.ts';
import { ConfigError } from '../src/app/config.ts';
import { createApp } from './app.ts';
import { type ServerConfig, serverConfigFromEnv } from './config-from-env.ts';

let config: ServerConfig;
try {
  config = serverConfigFromEnv(process.env);
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(`console: cannot start.\n${error.message}`);
  process.exit(1);
}

await serveApp({
  name: 'console',
  root: consoleRoot,
  buildScript: fileURLToPath(new URL('../scripts/build.ts', import.meta.url)),
  build,
  app: () => createApp(config.console, distDir, { sourceMaps: !config.production }),
  port: config.port,
  host: config.host,
  describe: `(tenant ${config.console.issuer}, client ${config.console.clientId})`,
});
