/**
 * Headless Chromium for the browser tests: Debian's `chromium` package driven
 * by playwright-core (no browser download). Tests call `chromiumOrSkip()` and
 * skip, saying why, when no binary is found; CI installs the package.
 */
import { existsSync } from "node:fs";
import type { Browser } from "playwright-core";

/** Where a Chromium binary is looked for: $RRHF_CHROMIUM first, then Debian's and Ubuntu's paths. */
export const CHROMIUM_PATHS: readonly string[] = ["/usr/bin/chromium", "/usr/bin/chromium-browser"];

/** The Chromium binary to use, or null when there is none. */
export function findChromium(): string | null {
  const fromEnv = process.env.RRHF_CHROMIUM;
  if (fromEnv !== undefined && fromEnv !== "") return existsSync(fromEnv) ? fromEnv : null;
  return CHROMIUM_PATHS.find((p) => existsSync(p)) ?? null;
}

/** A `skip` option for node:test: false when Chromium is there, else the reason shown in the report. */
export function chromiumSkipReason(): string | false {
  return findChromium() === null
    ? `no Chromium binary (looked at $RRHF_CHROMIUM, ${CHROMIUM_PATHS.join(", ")}); install Debian's chromium package`
    : false;
}

/** Launches headless Chromium (the caller closes it). */
export async function launchChromium(): Promise<Browser> {
  const executablePath = findChromium();
  if (executablePath === null) throw new Error(String(chromiumSkipReason()));
  const { chromium } = await import("playwright-core");
  // --no-sandbox: CI containers run as root, where Chromium's sandbox refuses to start.
  return chromium.launch({ executablePath, headless: true, args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"] });
}
