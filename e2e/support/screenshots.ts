// Where the browser tests save their screenshots: a temporary folder (SCREENSHOT_DIR to choose
// another), never the repository, so `npm test` leaves the work tree as it found it. To update
// the pictures in docs/, copy them from there by hand.
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export const SCREENSHOT_DIR = process.env['SCREENSHOT_DIR'] ?? path.join(tmpdir(), 'calling-api-screenshots');

/** The file for a screenshot named `name` (e.g. `ping-390.png`), its folder created. */
export function screenshotPath(name: string): string {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  return path.join(SCREENSHOT_DIR, name);
}
