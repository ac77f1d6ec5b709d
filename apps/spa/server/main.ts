// `npm run start -w @calling-api/spa`: builds the bundle if it is missing or older than the
// sources, then serves it. PORT (default 3000) and the SPA settings come from the environment.
import { fileURLToPath } from 'node:url';
import { serveApp } from '@calling-api/angularjs-shell/serve';
import { build, distDir, spaRoot } from '../scripts/build.ts';
import { ConfigError } from '../src/app/config/spa-config.ts';
import { createApp } from './app.ts';
import { type ServerConfig, serverConfigFromEnv } from './config-from-env.ts';

let config: ServerConfig;
try {
  config = serverConfigFromEnv(process.env);
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(`spa: cannot start.\n${error.message}`);
  process.exit(1);
}

await serveApp({
  name: 'spa',
  root: spaRoot,
  buildScript: fileURLToPath(new URL('../scripts/build.ts', import.meta.url)),
  build,
  app: () => createApp(config.spa, distDir, config.extraConnectSrc, { sourceMaps: !config.production }),
  port: config.port,
  host: config.host,
  describe: `(issuer ${config.spa.issuer}, API ${config.spa.apiUrl}, token sent to ${config.spa.allowedApiOrigins.join(' ')})`,
});
