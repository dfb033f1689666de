/**
 * Headless Chromium for the report's browser tests: Debian's `chromium`
 * package driven by playwright-core (no browser download). `CHROMIUM_PATH`
 * names another binary. Tests skip, saying why, where none is installed.
 */
import { existsSync } from "node:fs";
import type { Browser } from "playwright-core";

const CANDIDATES = ["/usr/lib/chromium/chromium", "/usr/bin/chromium", "/usr/bin/chromium-browser"];

/** The Chromium binary to drive, or null when none is installed. */
export function findChromium(): string | null {
  const fromEnv = process.env.CHROMIUM_PATH;
  if (fromEnv !== undefined && fromEnv !== "") return existsSync(fromEnv) ? fromEnv : null;
  return CANDIDATES.find((p) => existsSync(p)) ?? null;
}

/** Why the browser tests are skipped here, or false when they can run (for `test(..., { skip })`). */
export function chromiumSkipReason(): string | false {
  return findChromium() === null
    ? `no Chromium found (looked for ${CANDIDATES.join(", ")}; set CHROMIUM_PATH, or apt-get install chromium)`
    : false;
}

/** Launches headless Chromium (no sandbox: test machines often run as root). */
export async function launchChromium(): Promise<Browser> {
  const executablePath = findChromium();
  if (executablePath === null) throw new Error(String(chromiumSkipReason()));
  const { chromium } = await import("playwright-core");
  return chromium.launch({ executablePath, headless: true, args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"] });
}
