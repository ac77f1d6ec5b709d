// Starts the real Messages API (`node src/main.ts`) as a child process on an ephemeral port and a
// temporary data folder, and collects its log lines.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { API_DIR } from './paths.ts';

const MAIN = join(API_DIR, 'src/main.ts');

export type ApiProcess = {
  url: string;
  logs: string[];
  child: ChildProcess;
  dataDir: string;
  waitForLog(pattern: RegExp, timeoutMs?: number): Promise<string>;
  stop(): Promise<number | null>;
};

export async function startApi(
  env: Record<string, string>,
  options: { keepData?: string } = {},
): Promise<ApiProcess> {
  const dataDir = options.keepData ?? mkdtempSync(join(tmpdir(), 'api-test-'));
  const child = spawn(process.execPath, [MAIN], {
    cwd: tmpdir(),
    env: { PATH: process.env['PATH'] ?? '', PORT: '0', DATA_DIR: dataDir, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: string[] = [];
  const waiters = new Set<() => void>();
  let buffered = '';
  const collect = (chunk: Buffer) => {
    buffered += chunk.toString();
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    logs.push(...lines.filter((l) => l.length > 0));
    for (const wake of waiters) wake();
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

  function waitForLog(pattern: RegExp, timeoutMs = 10_000): Promise<string> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const line = logs.find((l) => pattern.test(l));
        if (line !== undefined) {
          clearTimeout(timer);
          waiters.delete(check);
          resolve(line);
        }
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`no log line matching ${pattern} within ${timeoutMs} ms; got:\n${logs.join('\n')}`));
      }, timeoutMs);
      waiters.add(check);
      check();
      void exited.then(() => {
        if (waiters.has(check)) {
          clearTimeout(timer);
          waiters.delete(check);
          reject(new Error(`the API exited; logs:\n${logs.join('\n')}`));
        }
      });
    });
  }

  const listening = JSON.parse(await waitForLog(/"msg":"listening"/)) as { url: string };
  return {
    url: listening.url,
    logs,
    child,
    dataDir,
    waitForLog,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      const code = await exited;
      if (options.keepData === undefined) rmSync(dataDir, { recursive: true, force: true });
      return code;
    },
  };
}
