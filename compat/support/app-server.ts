// The page of an app written for Auth0 (page/), served on a loopback port over http or, with the dev
// certificate, https: the origin the tenant registers as the app's callback, logout URL and web origin.
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type RequestListener, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';

const PAGE_DIR = fileURLToPath(new URL('../page/', import.meta.url));
const SDK_FILE = createRequire(import.meta.url).resolve(
  '@auth0/auth0-spa-js/dist/auth0-spa-js.production.js',
);

export type AppSettings = { domain: string; clientId: string; audience: string };

export interface AppServer {
  readonly origin: string;
  /** Settings the page reads at start (/settings.json): set once the authorization server is known. */
  settings: AppSettings | undefined;
  close(): Promise<void>;
}

export async function startAppServer(tls?: { cert: Buffer; key: Buffer }): Promise<AppServer> {
  const files: Record<string, [string, string]> = {
    '/': ['text/html', `${PAGE_DIR}index.html`],
    '/callback': ['text/html', `${PAGE_DIR}index.html`],
    '/app.js': ['text/javascript', `${PAGE_DIR}app.js`],
    '/auth0-spa-js.production.js': ['text/javascript', SDK_FILE],
  };
  const app: AppServer = { origin: '', settings: undefined, close: async () => {} };
  const listener: RequestListener = (req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (path === '/settings.json' && app.settings) {
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(JSON.stringify(app.settings));
      return;
    }
    const file = files[path];
    if (!file) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': `${file[0]}; charset=utf-8`, 'cache-control': 'no-store' });
    res.end(readFileSync(file[1]));
  };
  const server: Server = tls ? createHttpsServer(tls, listener) : createHttpServer(listener);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(app, {
    origin: `${tls ? 'https' : 'http'}://localhost:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}
