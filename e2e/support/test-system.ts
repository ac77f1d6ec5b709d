// The three real programs for one test file: free ports on loopback (never the contract's
// 3000/3001/4000, which a developer's `npm start` may hold), a fresh data folder, and the default
// tenant with the SPA's URLs moved to the test port (plus, on request, a short token lifetime).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type RunningSystem, startSystem } from '../../scripts/system.ts';

export interface TestSystem extends RunningSystem {
  /** The authorization server's token endpoint, from its discovery document. */
  readonly tokenEndpoint: string;
  readonly dataDir: string;
  /** All programs' last log lines, for a failure message. */
  logTail(lines?: number): string;
}

export interface TestSystemOptions {
  /** Access-token lifetime (s) for the Messages API; the default tenant's otherwise. */
  accessTokenLifetime?: number;
  /** Extra environment for one program, e.g. `{ spa: { DPOP: 'false' } }`. */
  env?: Partial<Record<'auth' | 'api' | 'spa' | 'console', Record<string, string>>>;
}

/** E2E_VERBOSE=1 shows the programs' log lines while the tests run. */
const verbose = process.env['E2E_VERBOSE'] === '1';

export async function startTestSystem(options: TestSystemOptions = {}): Promise<TestSystem> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'calling-api-e2e-'));
  let system: RunningSystem;
  try {
    system = await startSystem({
      ports: { auth: 0, api: 0, spa: 0, console: 0 },
      dataDir,
      ...(options.accessTokenLifetime === undefined
        ? {}
        : { accessTokenLifetime: options.accessTokenLifetime }),
      env: {
        ...options.env,
        auth: { LOG_LEVEL: 'info', ...options.env?.auth },
        api: { LOG_LEVEL: 'info', ...options.env?.api },
      },
      onLog: verbose ? (line) => process.stderr.write(`${line}\n`) : () => {},
      readyTimeoutMs: 90_000,
    });
  } catch (error) {
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
  // The test runner ends a timed-out or cancelled file with a signal: stop the programs first.
  const onSignal = (signal: NodeJS.Signals) => {
    void system.stop().finally(() => process.kill(process.pid, signal));
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  const discovery = (await (await fetch(`${system.issuer}.well-known/openid-configuration`)).json()) as {
    token_endpoint: string;
  };
  return {
    ...system,
    tokenEndpoint: discovery.token_endpoint,
    dataDir,
    logTail: (lines = 15) =>
      (['auth', 'api', 'spa', 'console'] as const)
        .map((name) => system.logs(name).slice(-lines).join('\n'))
        .join('\n'),
    stop: async () => {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
      await system.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
