// Makes docs/label.png: the ranking page of `rrhf label` over tests/fixtures/label/arithmetic.jsonl (a copy, with one
// query ranked), in headless Chromium (Debian's chromium, driven by playwright-core). Run `npm run build` first.
// Usage: node scripts/screenshots.mjs [chromium-binary]
import { copyFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

const root = new URL("..", import.meta.url).pathname;
const { startLabelServer } = await import(join(root, "dist/src/web/label/server.js"));
const { LABEL_SETTINGS } = await import(join(root, "dist/src/web/label/settings.js"));
const { resolveSettings } = await import(join(root, "dist/src/settings/index.js"));

const file = join(mkdtempSync(join(tmpdir(), "rrhf-shot-")), "arithmetic.jsonl");
copyFileSync(join(root, "tests/fixtures/label/arithmetic.jsonl"), file);
const settings = resolveSettings(LABEL_SETTINGS, { port: 0, policy_scores: "policy_scores" }, "flags");
const server = await startLabelServer(file, settings);
const browser = await chromium.launch({ executablePath: process.argv[2] ?? "/usr/bin/chromium", headless: true, args: ["--no-sandbox"] });
try {
  const page = await browser.newPage({ viewport: { width: 1000, height: 700 } });
  await page.goto(server.url);
  await page.waitForSelector("li.response");
  // Rank the first query (19 best, then the correct sentence tied with it, then 20, then the dodge), then show the next.
  for (const key of ["3", "1"]) await page.keyboard.press(key);
  await page.keyboard.press("ArrowUp");
  await page.keyboard.press("t");
  await page.waitForSelector("#progress:text-is('1 of 4 labelled')");
  await page.waitForSelector("#status:text-matches('^Saved')");
  await page.screenshot({ path: join(root, "docs/label.png") });
  console.log("wrote docs/label.png");
} finally {
  await browser.close();
  await server.close();
}
