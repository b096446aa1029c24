/**
 * A real browser for the browser tests: Debian's `chromium` package, driven by
 * playwright-core (which bundles no browser). Installs the package when
 * /usr/bin/chromium is missing (apt.ts).
 * See ../shared/recipes/chromium.md for what was found running it here.
 */
import { chromium, type Browser } from 'playwright-core';
import { ensureDebianPackage } from './apt.ts';

export const CHROMIUM_BIN = '/usr/bin/chromium';

/** Installs Debian's chromium package when /usr/bin/chromium is missing. */
export function ensureChromiumInstalled(): Promise<string> {
  return ensureDebianPackage('chromium', CHROMIUM_BIN, 'Chromium');
}

/** Launches headless Chromium; `--no-sandbox` because these machines run tests as root. */
export async function launchChromium(): Promise<Browser> {
  const executablePath = await ensureChromiumInstalled();
  return chromium.launch({ executablePath, args: ['--no-sandbox'] });
}
