// npm run bench -- login-time: the time a person waits from pressing "Log In" to seeing the
// first private call's answer, in headless Chromium against the three real programs on loopback:
// the redirect to the hosted login page, typing the email and password (Playwright types at
// once), the code exchange with PKCE, opening Ping, pressing "Call Private", the API's 200 shown.
// One warm-up run (first bundle parse, first JWKS fetch by the API), then RUNS measured runs,
// each in a new browser context (no cookies, no cache shared with the previous run).
import { launchChromium } from '../e2e/support/browser.ts';
import { startTestSystem } from '../e2e/support/test-system.ts';
import { ALICE, call, goToPing, openApp, see, signIn } from '../e2e/support/user-actions.ts';

const RUNS = Number(process.env['LOGIN_TIME_RUNS'] ?? 5);

const system = await startTestSystem();
const chromium = await launchChromium();

async function oneRun(): Promise<number> {
  const context = await chromium.browser.newContext({ viewport: { width: 1280, height: 800 } });
  try {
    const page = await context.newPage();
    await openApp(page, system.urls.spa);
    await see(page, '[data-test=login]');
    const started = performance.now();
    await signIn(page, system.urls.spa, ALICE);
    await goToPing(page);
    const result = await call(page, 'private');
    const elapsed = performance.now() - started;
    if (result.status !== '200') throw new Error(`Call Private showed ${result.status}, not 200`);
    return elapsed;
  } finally {
    await context.close();
  }
}

try {
  const warmUp = await oneRun();
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) times.push(await oneRun());
  const sorted = [...times].sort((a, b) => a - b);
  const median =
    sorted.length % 2 === 1
      ? sorted[(sorted.length - 1) / 2]!
      : (sorted[sorted.length / 2 - 1]! + sorted[sorted.length / 2]!) / 2;
  const ms = (n: number) => `${Math.round(n)} ms`;
  console.log('"Log In" pressed -> first private call answered (HTTP 200 on screen), headless Chromium');
  console.log(`  runs:    ${times.map(ms).join(', ')} (warm-up ${ms(warmUp)}, not counted)`);
  console.log(
    `  median:  ${ms(median)}   min ${ms(sorted[0]!)}   max ${ms(sorted.at(-1)!)}   (${RUNS} runs)`,
  );
} finally {
  await chromium.close();
  await system.stop();
}
