// The console's static server (packages/angularjs-shell/src/static-server.ts) with its Content-Security-Policy:
// nothing inline, no eval, and the page may talk to the authorization server (which serves the Management API) only.
import { staticApp } from '@calling-api/angularjs-shell/static-server';
import type { Express } from 'express';
import type { ConsoleConfig } from '../src/app/config.ts';

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

export function createApp(config: ConsoleConfig, distDir: string, { sourceMaps = true } = {}): Express {
  return staticApp({
    distDir,
    config,
    csp: cspDirectives(config),
    https: new URL(config.issuer).protocol === 'https:',
    sourceMaps,
  });
}
