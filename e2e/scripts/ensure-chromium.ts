// Run before the browser tests: makes sure Debian's Chromium is there (CHROMIUM_PATH, default
// /usr/bin/chromium), installing it with apt-get when it is missing. playwright-core drives that
// binary; `playwright install` (a browser download) is never used.
import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { chromiumPath } from '../support/chromium-path.ts';

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Runs a command with its output shown line by line, prefixed, so a long install shows progress. */
function run(command: string, args: string[]): Promise<number> {
  console.log(`ensure-chromium: $ ${command} ${args.join(' ')}`);
  return new Promise((resolve) => {
    const child = spawn(command, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
    const started = Date.now();
    const show = (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line.trim() !== '') console.log(`  apt | ${line}`);
      }
    };
    child.stdout.on('data', show);
    child.stderr.on('data', show);
    const ticker = setInterval(
      () => console.log(`ensure-chromium: still running (${Math.round((Date.now() - started) / 1000)} s)`),
      15_000,
    );
    child.on('error', (error) => {
      clearInterval(ticker);
      console.error(`ensure-chromium: cannot run ${command}: ${error.message}`);
      resolve(127);
    });
    child.on('exit', (code) => {
      clearInterval(ticker);
      resolve(code ?? 1);
    });
  });
}

function fail(message: string): never {
  console.error(`ensure-chromium: ${message}`);
  process.exit(1);
}

const wanted = chromiumPath();
if (isExecutable(wanted)) {
  console.log(`ensure-chromium: using ${wanted}`);
  process.exit(0);
}

console.log(`ensure-chromium: no Chromium at ${wanted}; installing Debian's chromium package`);
if (process.platform !== 'linux') fail(`cannot install Chromium on ${process.platform}; set CHROMIUM_PATH`);
const root = typeof process.getuid === 'function' && process.getuid() === 0;
const sudo = root ? [] : ['sudo', '-n'];
const apt = (args: string[]) =>
  root ? run('apt-get', args) : run(sudo[0]!, [...sudo.slice(1), 'apt-get', ...args]);

if ((await apt(['update'])) !== 0) {
  fail(
    `"apt-get update" failed${root ? '' : ' (not root, and sudo -n was refused?)'}; install chromium by hand`,
  );
}
if ((await apt(['install', '-y', '--no-install-recommends', 'chromium'])) !== 0) {
  fail('"apt-get install -y --no-install-recommends chromium" failed; see the lines above');
}
// Debian installs /usr/bin/chromium; a custom CHROMIUM_PATH elsewhere must be provided by hand.
if (!isExecutable(wanted)) {
  fail(
    `chromium installed, but ${wanted} is still missing` +
      (wanted === '/usr/bin/chromium'
        ? ''
        : ' (the package installs /usr/bin/chromium; unset CHROMIUM_PATH)'),
  );
}
console.log(`ensure-chromium: installed ${wanted}`);
