// The console's static server: dist/ with HTML5 routes, /config.json, and the SPA's strict headers: nothing
// inline, no eval, and the page may talk to the authorization server (which serves the Management API) only.
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import express, { type Express, type Response } from 'express';
import helmet from 'helmet';
import type { ConsoleConfig } from '../src/app/config.ts';

const CONTENT_TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
};

export function cspDirectives(config: ConsoleConfig): Record<string, string[]> {
  const issuer = new URL(config.issuer).origin;
  return {
    'default-src': ["'none'"],
    'script-src': ["'self'"],
    'style-src': ["'self'"],
    'img-src': ["'self'", 'data:'],
    'connect-src': ["'self'", issuer],
    'form-action': [issuer],
    // The silent sign-in's hidden iframe (prompt=none, response_mode=web_message) loads the issuer only.
    'frame-src': [issuer],
    'base-uri': ["'none'"],
    'frame-ancestors': ["'none'"],
  };
}

const noStore = (res: Response) => res.setHeader('Cache-Control', 'no-store');

export function createApp(config: ConsoleConfig, distDir: string, { sourceMaps = true } = {}): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use(
    helmet({
      contentSecurityPolicy: { useDefaults: false, directives: cspDirectives(config) },
      referrerPolicy: { policy: 'no-referrer' },
      crossOriginOpenerPolicy: { policy: 'same-origin' },
      crossOriginResourcePolicy: { policy: 'same-origin' },
      strictTransportSecurity: new URL(config.issuer).protocol === 'https:',
    }),
  );
  app.use((_req, res, next) => {
    res.setHeader('Permissions-Policy', 'camera=(), microphone=(), geolocation=(), payment=(), usb=()');
    next();
  });

  const configJson = JSON.stringify(config);
  app.get('/config.json', (_req, res) => {
    noStore(res);
    res.type('application/json').send(configJson);
  });

  app.get('/assets/:file', (req, res) => {
    const file = req.params.file;
    const type = CONTENT_TYPES[path.extname(file).toLowerCase()];
    const fullPath = path.join(distDir, 'assets', file);
    const allowed = type && (sourceMaps || !file.endsWith('.map')) && /^[\w-]+(\.[\w-]+)*$/.test(file);
    if (!allowed || !existsSync(fullPath)) {
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

  // HTML5 routes: any GET for a path without a file extension is the console; anything else is refused.
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
