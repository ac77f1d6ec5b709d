// npm run bench -- lighthouse: Lighthouse 12's mobile figures (its default preset: a mid-range
// phone's screen, 4× slower CPU and slow 4G, simulated) for the home page and the signed-out Ping
// page of the real SPA on loopback: cumulative layout shift (goal < 0.1), accessibility score
// (goal 1.0), performance score (goal ≥ 0.9). Performance moves with the machine's load: each page
// is measured RUNS times (LIGHTHOUSE_RUNS, default 3) and the median is reported with the range.
// Lighthouse runs as its own command line (CHROME_PATH: Debian's Chromium, headless, no sandbox).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromiumPath } from '../e2e/support/chromium-path.ts';
import { startTestSystem } from '../e2e/support/test-system.ts';

const RUNS = Number(process.env['LIGHTHOUSE_RUNS'] ?? 3);
const PAGES = [
  { name: 'home (/)', route: '/' },
  { name: 'Ping, signed out (/ping)', route: '/ping' },
];

const lighthouseCli = path.join(
  path.dirname(createRequire(import.meta.url).resolve('lighthouse/package.json')),
  'cli/index.js',
);

interface Figures {
  cls: number;
  accessibility: number;
  performance: number;
  lcpMs: number;
  tbtMs: number;
}

interface LighthouseReport {
  lighthouseVersion: string;
  categories: Record<string, { score: number | null }>;
  audits: Record<string, { numericValue?: number; score: number | null; title: string }>;
}

function runLighthouse(
  url: string,
  outDir: string,
  run: number,
): { figures: Figures; report: LighthouseReport } {
  const output = path.join(outDir, `report-${run}.json`);
  const result = spawnSync(
    process.execPath,
    [
      lighthouseCli,
      url,
      '--only-categories=performance,accessibility',
      '--output=json',
      `--output-path=${output}`,
      '--chrome-flags=--headless=new --no-sandbox --disable-gpu',
      '--quiet',
    ],
    { env: { ...process.env, CHROME_PATH: chromiumPath() }, encoding: 'utf8', timeout: 180_000 },
  );
  if (result.status !== 0)
    throw new Error(`lighthouse failed (${result.status}): ${result.stderr.slice(-2000)}`);
  const report = JSON.parse(readFileSync(output, 'utf8')) as LighthouseReport;
  const audit = (id: string) => report.audits[id]?.numericValue ?? Number.NaN;
  return {
    report,
    figures: {
      cls: audit('cumulative-layout-shift'),
      accessibility: report.categories['accessibility']?.score ?? Number.NaN,
      performance: report.categories['performance']?.score ?? Number.NaN,
      lcpMs: audit('largest-contentful-paint'),
      tbtMs: audit('total-blocking-time'),
    },
  };
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};
const range = (values: number[], digits: number) =>
  `${median(values).toFixed(digits)} (${Math.min(...values).toFixed(digits)}–${Math.max(...values).toFixed(digits)})`;
const mark = (ok: boolean) => (ok ? '✓' : '✗');

const system = await startTestSystem();
const outDir = mkdtempSync(path.join(tmpdir(), 'lighthouse-'));
try {
  let version = '';
  for (const { name, route } of PAGES) {
    const runs: Figures[] = [];
    const failing = new Set<string>();
    for (let i = 0; i < RUNS; i++) {
      const { figures, report } = runLighthouse(`${system.urls.spa}${route}`, outDir, i);
      version = report.lighthouseVersion;
      runs.push(figures);
      // Name the accessibility audits that failed, so a score under 1 says what to fix.
      for (const [id, a] of Object.entries(report.audits))
        if (a.score === 0 && isAccessibilityAudit(report, id)) failing.add(id);
    }
    const cls = runs.map((r) => r.cls);
    const a11y = runs.map((r) => r.accessibility);
    const perf = runs.map((r) => r.performance);
    console.log(`\n${name}, Lighthouse mobile, median (min–max) of ${RUNS} runs`);
    console.log(`  cumulative layout shift  ${range(cls, 3)}   goal < 0.1  ${mark(median(cls) < 0.1)}`);
    console.log(`  accessibility            ${range(a11y, 2)}   goal 1.0    ${mark(median(a11y) === 1)}`);
    console.log(`  performance              ${range(perf, 2)}   goal ≥ 0.9  ${mark(median(perf) >= 0.9)}`);
    console.log(
      `  largest contentful paint ${Math.round(median(runs.map((r) => r.lcpMs)))} ms, total blocking time ${Math.round(median(runs.map((r) => r.tbtMs)))} ms`,
    );
    if (failing.size > 0) console.log(`  failing accessibility audits: ${[...failing].join(', ')}`);
  }
  console.log(
    `\nLighthouse ${version}. Performance is simulated from one load on this machine: other work on its cores moves it by several points between runs.`,
  );
} finally {
  rmSync(outDir, { recursive: true, force: true });
  await system.stop();
}

function isAccessibilityAudit(report: LighthouseReport, id: string): boolean {
  const refs = (report.categories['accessibility'] as { auditRefs?: { id: string }[] } | undefined)
    ?.auditRefs;
  return refs?.some((ref) => ref.id === id) ?? false;
}
