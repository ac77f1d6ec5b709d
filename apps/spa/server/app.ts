// The SPA's static server (packages/angularjs-shell/src/static-server.ts) with its Content-Security-Policy:
// nothing inline, no eval, and connections only to the issuer and the APIs it calls.
import { staticApp } from '@calling-api/angularjs-shell/static-server';
import type { Express } from 'express';
import type { SpaConfig } from '../src/app/config/spa-config.ts';

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

export function createApp(
  spa: SpaConfig,
  distDir: string,
  extraConnectSrc: readonly string[] = [],
  { sourceMaps = true }: AppOptions = {},
): Express {
  return staticApp({
    distDir,
    config: spa,
    csp: cspDirectives(spa, extraConnectSrc),
    https: new URL(spa.issuer).protocol === 'https:',
    sourceMaps,
  });
}
