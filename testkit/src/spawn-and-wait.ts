// Starts a program and resolves once it is ready (a check the caller gives), with its output kept for errors.
import { type ChildProcess, type SpawnOptions, spawn } from 'node:child_process';

export type Spawned = {
  child: ChildProcess;
  /** Everything the program printed so far, stdout and stderr interleaved. */
  output(): string;
  /** Sends `signal` (SIGTERM by default) and waits for the exit; SIGKILL after `graceMs`. */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<void>;
};

export type SpawnAndWaitOptions = SpawnOptions & {
  /** Resolves true once the program is ready; polled until then. Errors count as "not yet". */
  ready: () => Promise<boolean>;
  timeoutMs?: number;
  pollMs?: number;
  /** Names the program in errors. */
  label?: string;
};

export async function spawnAndWait(
  command: string,
  args: string[],
  { ready, timeoutMs = 20_000, pollMs = 100, label = command, ...options }: SpawnAndWaitOptions,
): Promise<Spawned> {
  let log = '';
  const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
  const keep = (d: Buffer) => {
    log += d.toString();
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
  let spawnError: Error | undefined;
  child.once('error', (err) => {
    spawnError = err;
  });
  const spawned: Spawned = {
    child,
    output: () => log,
    async stop(signal = 'SIGTERM', graceMs = 5000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (spawnError) throw new Error(`${label}: cannot start ${command}: ${spawnError.message}`);
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`${label} exited (${child.exitCode ?? child.signalCode}) before it was ready:\n${log}`);
    if (await ready().catch(() => false)) return spawned;
    if (Date.now() > deadline) {
      await spawned.stop('SIGKILL');
      throw new Error(`${label} was not ready after ${timeoutMs} ms:\n${log}`);
    }
    await new Promise((r) => setTimeout(r, pollMs));
  }
}
