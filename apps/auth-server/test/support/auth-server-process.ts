// Starts the real server as a child process on an ephemeral port with its own DATA_DIR.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { get as httpsGet } from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const APP_DIR = fileURLToPath(new URL('../../', import.meta.url));

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

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

/** Spawns `node src/main.ts`; resolves when discovery answers 200. */
export async function startAuthServer(
  opts: { dataDir?: string; port?: number; env?: Record<string, string>; tls?: TlsFiles } = {},
): Promise<AuthServerProcess> {
  const port = opts.port ?? (await freePort());
  const dataDir = opts.dataDir ?? tempDir();
  const issuer = `${opts.tls ? 'https' : 'http'}://localhost:${port}/`;
  const ca = opts.tls ? readFileSync(opts.tls.caFile) : undefined;
  const discovery = `${issuer}.well-known/openid-configuration`;
  let log = '';
  const child = spawn(process.execPath, [join(APP_DIR, 'src/main.ts')], {
    cwd: APP_DIR,
    env: {
      PATH: process.env.PATH,
      PORT: String(port),
      ISSUER: issuer,
      DATA_DIR: dataDir,
      LOG_LEVEL: 'info',
      ...(opts.tls ? { TLS_CERT_FILE: opts.tls.certFile, TLS_KEY_FILE: opts.tls.keyFile } : {}),
      ...opts.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (d: Buffer) => {
    log += d.toString();
  });
  child.stderr!.on('data', (d: Buffer) => {
    log += d.toString();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`auth server exited (${child.exitCode}):\n${log}`);
    try {
      const { status } = ca ? await getWithCa(discovery, ca) : await fetch(discovery);
      if (status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`auth server did not become ready:\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    issuer,
    port,
    dataDir,
    child,
    output: () => log,
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }
    },
  };
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}
