// One test file's world: the authorization server with the compat tenant (over http, or https with the
// dev certificate), the page of an app written for Auth0, and a Chromium.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  AUTH_SERVER_DIR,
  type AuthServerProcess,
  removeDir,
  startAuthServer,
  type TlsFiles,
  tempDir,
} from '@calling-api/testkit/auth-server';
import type { Browser } from 'playwright-core';
import { type AppServer, startAppServer } from './app-server.ts';
import { launchBrowser, spkiHash } from './browser.ts';
import { MESSAGES_API, SDK_CLIENT_ID, writeCompatTenant } from './tenant.ts';

export interface Fixture {
  readonly auth: AuthServerProcess;
  readonly app: AppServer;
  /** A second page server whose origin the tenant does not register. */
  readonly stranger: AppServer;
  readonly browser: Browser;
  readonly tls: TlsFiles | undefined;
  stop(): Promise<void>;
}

/** `npm run tenant -- dev-cert` into `dir`, as a developer runs it. */
export function devCert(dir: string): TlsFiles {
  const run = spawnSync(process.execPath, [join(AUTH_SERVER_DIR, 'src/cli/main.ts'), 'dev-cert'], {
    cwd: AUTH_SERVER_DIR,
    env: { PATH: process.env.PATH, DATA_DIR: dir },
    encoding: 'utf8',
  });
  if (run.status !== 0) throw new Error(`dev-cert failed: ${run.stderr}`);
  return {
    certFile: join(dir, 'localhost.pem'),
    keyFile: join(dir, 'localhost-key.pem'),
    caFile: join(dir, 'dev-ca.pem'),
  };
}

export async function startFixture(options: { https: boolean }): Promise<Fixture> {
  const dir = tempDir('compat-');
  const tls = options.https ? devCert(join(dir, 'certs')) : undefined;
  const pair = tls && { cert: readFileSync(tls.certFile), key: readFileSync(tls.keyFile) };
  const app = await startAppServer(pair);
  const stranger = await startAppServer(pair);
  let auth: AuthServerProcess;
  try {
    auth = await startAuthServer({
      dataDir: join(dir, 'auth'),
      env: { TENANT_FILE: writeCompatTenant(dir, [app.origin]), LOG_LEVEL: 'warn' },
      ...(tls ? { tls } : {}),
    });
  } catch (error) {
    // The page servers would keep the test process alive after the failure is reported.
    await app.close();
    await stranger.close();
    removeDir(dir);
    throw error;
  }
  // How an Auth0 app is configured: a domain (https implied) or, for plain http, a URL.
  const domain = tls ? `localhost:${auth.port}` : `http://localhost:${auth.port}`;
  app.settings = { domain, clientId: SDK_CLIENT_ID, audience: MESSAGES_API };
  stranger.settings = app.settings;
  const browser = await launchBrowser(tls && spkiHash(readFileSync(tls.certFile, 'utf8')));
  return {
    auth,
    app,
    stranger,
    browser,
    tls,
    async stop() {
      await browser.close();
      await auth.stop();
      await app.close();
      await stranger.close();
      removeDir(dir);
    },
  };
}
