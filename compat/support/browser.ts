// Headless Chromium for the SDK tests, with the e2e suite's flags; `trustSpki` makes it trust the dev
// certificate's key (Chromium's --ignore-certificate-errors-spki-list), as a developer who imported the
// local CA would, without touching any system trust store.
import { createHash, X509Certificate } from 'node:crypto';
import { chromium, type Page } from 'playwright-core';
import { CHROMIUM_FLAGS } from '../../e2e/support/browser.ts';
import { chromiumPath } from '../../e2e/support/chromium-path.ts';

export const spkiHash = (certPem: string): string =>
  createHash('sha256')
    .update(new X509Certificate(certPem).publicKey.export({ type: 'spki', format: 'der' }))
    .digest('base64');

export async function launchBrowser(trustSpki?: string) {
  return chromium.launch({
    executablePath: chromiumPath(),
    headless: true,
    args: [...CHROMIUM_FLAGS, ...(trustSpki ? [`--ignore-certificate-errors-spki-list=${trustSpki}`] : [])],
  });
}

export type Credentials = { email: string; password: string };

export const USERS = {
  alice: { email: 'alice@example.com', password: 'Alice-password-1' },
  bob: { email: 'bob@example.com', password: 'Bob-password-1' },
} satisfies Record<string, Credentials>;

/** Fills the hosted sign-in form on `page` (the top window or a popup). */
export async function fillSignIn(page: Page, user: Credentials): Promise<void> {
  await page.locator('input[name=email]').fill(user.email);
  await page.locator('input[name=password]').fill(user.password);
  await page.getByRole('button', { name: 'Continue' }).click();
}

/** The payload of a JWT, unverified (the tests check what the SDK received). */
export const claims = (jwt: string): Record<string, unknown> =>
  JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
