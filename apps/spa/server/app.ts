// The static server: dist/ with HTML5 fallback, /config.json, strict security headers.
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import express, { type Express, type Response } from 'express';
import helmet from 'helmet';
import type { SpaConfig } from '../src/app/config/spa-config.ts';

const CONTENT_TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
};

export type AppOptions = {
  /** Serve the bundle's source maps (development); production servers do not hand out the sources. */
  sourceMaps?: boolean;
};

/** The Content-Security-Policy directives: nothing inline, no eval, only the parties we talk to. */
export function cspDirectives(
  spa: SpaConfig,
  extraConnectSrc: readonly string[] = [],
): Record<string, string[]> {
  const issuerOrigin = new URL(spa.issuer).origin;
  const apiOrigins = spa.allowedApiOrigins.map((o) => new URL(o).origin);
  const connect = [
    ...new Set(["'self'", issuerOrigin, new URL(spa.apiUrl).origin, ...apiOrigins, ...extraConnectSrc]),
  ];
  return {
    'default-src': ["'none'"],
    'script-src': ["'self'"],
    'style-src': ["'self'"],
    'img-src': ["'self'", 'data:'],
    'font-src': ["'self'"],
    'connect-src': connect,
    'form-action': [issuerOrigin],
    // The silent sign-in's hidden iframe (prompt=none, response_mode=web_message) loads the issuer only.
    'frame-src': [issuerOrigin],
    'base-uri': ["'none'"],
    'frame-ancestors': ["'none'"],
    'manifest-src': ["'self'"],
  };
}

function noStore(res: Response): void {
  res.setHeader('Cache-Control', 'no-store');
}

export function createApp(
  spa: SpaConfig,
  distDir: string,
  extraConnectSrc: readonly string[] = [],
  { sourceMaps = true }: AppOptions = {},
): Express {
  const served = sourceMaps
    ? CONTENT_TYPES
    : Object.fromEntries(Object.entries(CONTENT_TYPES).filter(([ext]) => ext !== '.map'));
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use(
    helmet({
      contentSecurityPolicy: { useDefaults: false, directives: cspDirectives(spa, extraConnectSrc) },
      referrerPolicy: { policy: 'no-referrer' },
      crossOriginOpenerPolicy: { policy: 'same-origin' },
      crossOriginResourcePolicy: { policy: 'same-origin' },
      // Loopback development runs over http, where HSTS is ignored; send it only for https issuers.
      strictTransportSecurity: new URL(spa.issuer).protocol === 'https:',
    }),
  );
  app.use((_req, res, next) => {
    res.setHeader('Permissions-Policy', 'camera=(), microphone=(), geolocation=(), payment=(), usb=()');
    next();
  });

  const configJson = JSON.stringify(spa);
  app.get('/config.json', (_req, res) => {
    noStore(res);
    res.type('application/json').send(configJson);
  });

  // Hashed assets: immutable for a year; the pre-compressed .gz twin when the browser takes gzip.
  app.get('/assets/:file', (req, res) => {
    const file = req.params.file;
    const ext = path.extname(file).toLowerCase();
    const type = served[ext];
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

  // HTML5 routes: any GET for a path without a file extension is the app; anything else is 404.
  const indexFile = path.join(distDir, 'index.html');
  app.use((req, res) => {
    noStore(res);
    const isAppRoute = (req.method === 'GET' || req.method === 'HEAD') && path.extname(req.path) === '';
    if (!isAppRoute) {
      res
        .status(req.method === 'GET' || req.method === 'HEAD' ? 404 : 405)
        .type('text/plain')
        .send(req.method === 'GET' || req.method === 'HEAD' ? 'Not found' : 'Method not allowed');
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
