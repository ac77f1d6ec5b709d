// The static server of an AngularJS app: dist/ with HTML5 routes, the app's /config.json, and strict
// security headers (the Content-Security-Policy is the app's own: whom it talks to).
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import express, { type Express, type Response } from 'express';
import helmet from 'helmet';

const CONTENT_TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
};

export type StaticAppOptions = {
  distDir: string;
  /** Served as /config.json, never cached: what the page reads before it starts. */
  config: unknown;
  csp: Record<string, string[]>;
  /** HSTS only for https deployments: loopback development runs over http, where it is ignored. */
  https: boolean;
  /** Serve the bundle's source maps (development); production servers do not hand out the sources. */
  sourceMaps?: boolean;
};

const noStore = (res: Response) => res.setHeader('Cache-Control', 'no-store');

export function staticApp(options: StaticAppOptions): Express {
  const { distDir, sourceMaps = true } = options;
  const served = sourceMaps
    ? CONTENT_TYPES
    : Object.fromEntries(Object.entries(CONTENT_TYPES).filter(([ext]) => ext !== '.map'));
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use(
    helmet({
      contentSecurityPolicy: { useDefaults: false, directives: options.csp },
      referrerPolicy: { policy: 'no-referrer' },
      crossOriginOpenerPolicy: { policy: 'same-origin' },
      crossOriginResourcePolicy: { policy: 'same-origin' },
      strictTransportSecurity: options.https,
    }),
  );
  app.use((_req, res, next) => {
    res.setHeader('Permissions-Policy', 'camera=(), microphone=(), geolocation=(), payment=(), usb=()');
    next();
  });

  const configJson = JSON.stringify(options.config);
  app.get('/config.json', (_req, res) => {
    noStore(res);
    res.type('application/json').send(configJson);
  });

  // Hashed assets: immutable for a year; the pre-compressed .gz twin when the browser takes gzip.
  app.get('/assets/:file', (req, res) => {
    const file = req.params.file;
    const type = served[path.extname(file).toLowerCase()];
    const fullPath = path.join(distDir, 'assets', file);
    if (!type || !/^[\w-]+(\.[\w-]+)*$/.test(file) || !existsSync(fullPath)) {
      noStore(res);
      res.status(404).type('text/plain').send('Not found');
      return;
    }
    res.setHeader('Cache-Control', 'public, max-age=31536000, immutable');
    res.setHeader('Vary', 'Accept-Encoding');
    res.type(type);
    const gz = `${fullPath}.gz`;
    if (req.acceptsEncodings('gzip', 'identity') === 'gzip' && existsSync(gz)) {
      res.setHeader('Content-Encoding', 'gzip');
      res.setHeader('Content-Length', String(statSync(gz).size));
      res.sendFile(gz, { headers: { 'Content-Type': type }, cacheControl: false, lastModified: false });
      return;
    }
    res.sendFile(fullPath, { cacheControl: false, lastModified: false });
  });

  // HTML5 routes: any GET for a path without a file extension is the app; anything else is refused.
  const indexFile = path.join(distDir, 'index.html');
  app.use((req, res) => {
    noStore(res);
    const read = req.method === 'GET' || req.method === 'HEAD';
    if (!read || path.extname(req.path) !== '') {
      res
        .status(read ? 404 : 405)
        .type('text/plain')
        .send(read ? 'Not found' : 'Method not allowed');
      return;
    }
    res.sendFile(indexFile, {
      cacheControl: false,
      lastModified: false,
      headers: { 'Content-Type': 'text/html; charset=utf-8' },
    });
  });
  return app;
}
