// An AngularJS app's server process: builds the bundle when it is stale, listens (loopback unless HOST),
// says where in one line, and closes gracefully on SIGINT and SIGTERM.
import { createServer, type RequestListener } from 'node:http';
import { type Listening, type ListenOptions, listen } from '@calling-api/listen';
import { type BuildResult, bundleIsStale } from './build.ts';

export type ServeOptions = ListenOptions & {
  /** The prefix of every line it prints: `spa`, `console`. */
  name: string;
  root: string;
  /** The app's own build script: a change to it rebuilds too. */
  buildScript: string;
  build: () => Promise<BuildResult>;
  app: () => RequestListener;
  /** What follows "listening on <url> [<addresses>]". */
  describe: string;
};

export async function serveApp(options: ServeOptions): Promise<Listening> {
  const { name } = options;
  if (bundleIsStale(options.root, [options.buildScript])) {
    const { script, ms } = await options.build();
    console.log(`${name}: built ${script.file} in ${ms} ms`);
  }
  let listening: Listening;
  try {
    listening = await listen(() => createServer(options.app()), options);
  } catch (error) {
    console.error(`${name}: cannot listen on port ${options.port}: ${(error as Error).message}`);
    process.exit(1);
  }
  console.log(
    `${name}: listening on ${listening.url} [${listening.addresses.join(', ')}] ${options.describe}`,
  );

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`${name}: ${signal} received, closing`);
    void listening.close().then(() => process.exit(0));
    listening.closeIdleConnections();
    setTimeout(() => {
      listening.closeAllConnections();
      process.exit(0);
    }, 3000).unref();
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  return listening;
}
