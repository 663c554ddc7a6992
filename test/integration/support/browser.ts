/**
 * A real browser for end-to-end tests: Debian's Chromium driven by playwright-core (which brings
 * no browser of its own). `.ci/run` installs the chromium package when it is missing.
 */
import { existsSync } from "node:fs";
import { type Browser, chromium } from "playwright-core";

export const CHROMIUM = process.env.COURIER_CHROMIUM ?? "/usr/bin/chromium";

/** Flags that work headless as root in a container, with no network beyond loopback. */
const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`no Chromium at ${CHROMIUM}: apt-get install -y chromium (or set COURIER_CHROMIUM)`);
  }
  return chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
}
