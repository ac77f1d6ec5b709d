// Where the browser tests find Chromium: CHROMIUM_PATH, or Debian's package at /usr/bin/chromium.
export function chromiumPath(): string {
  const configured = process.env['CHROMIUM_PATH']?.trim();
  return configured ? configured : '/usr/bin/chromium';
}
