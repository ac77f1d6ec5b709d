// Starts the real authorization server as a child process on an ephemeral port with its own DATA_DIR.
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { get as httpsGet } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port.ts';
import { AUTH_SERVER_DIR } from './paths.ts';
import { spawnAndWait } from './spawn-and-wait.ts';

export { AUTH_SERVER_DIR };

export type AuthServerProcess = {
  issuer: string;
  port: number;
  dataDir: string;
  child: ChildProcess;
  output: () => string;
  stop(): Promise<void>;
};

export function tempDir(prefix = 'auth-server-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** A certificate and key for the server, and the CA that signed them (npm run tenant -- dev-cert). */
export type TlsFiles = { certFile: string; keyFile: string; caFile: string };

/** GET over https trusting only `ca`: Node's fetch cannot be given a CA without an extra dependency. */
export function getWithCa(url: string, ca: Buffer): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    httpsGet(url, { ca }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    }).on('error', reject);
  });
}

/** Spawns the authorization server (`node src/main.ts`); resolves when discovery answers 200. */
export async function startAuthServer(
  opts: { dataDir?: string; port?: number; env?: Record<string, string>; tls?: TlsFiles } = {},
): Promise<AuthServerProcess> {
  const port = opts.port ?? (await freePort());
  const dataDir = opts.dataDir ?? tempDir();
  const issuer = `${opts.tls ? 'https' : 'http'}://localhost:${port}/`;
  const ca = opts.tls ? readFileSync(opts.tls.caFile) : undefined;
  const discovery = `${issuer}.well-known/openid-configuration`;
  const spawned = await spawnAndWait(process.execPath, [join(AUTH_SERVER_DIR, 'src/main.ts')], {
    cwd: AUTH_SERVER_DIR,
    env: {
      PATH: process.env.PATH,
      PORT: String(port),
      ISSUER: issuer,
      DATA_DIR: dataDir,
      LOG_LEVEL: 'info',
      ...(opts.tls ? { TLS_CERT_FILE: opts.tls.certFile, TLS_KEY_FILE: opts.tls.keyFile } : {}),
      ...opts.env,
    },
    ready: async () => (ca ? await getWithCa(discovery, ca) : await fetch(discovery)).status === 200,
    label: 'auth server',
  });
  return {
    issuer,
    port,
    dataDir,
    child: spawned.child,
    output: spawned.output,
    stop: () => spawned.stop(),
  };
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}
