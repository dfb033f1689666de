#!/usr/bin/env node
/**
 * Makes docs/report.png: a real short `rrhf train` run on the shipped tiny
 * fixtures (with eval data), a few answers sampled from the trained model
 * into the run folder, `rrhf report`, and a screenshot of the page in
 * headless Chromium (Debian's package, driven by playwright-core; set
 * CHROMIUM_PATH for another binary). Needs `npm run build` first.
 *
 *   node scripts/screenshot-report.mjs [OUT.png]
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { chromium } from "playwright-core";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const target = resolve(process.argv[2] ?? join(root, "docs", "report.png"));
const bin = join(root, "dist", "src", "cli", "bin.js");
if (!existsSync(bin)) throw new Error("run `npm run build` first");
const chromiumPath = process.env.CHROMIUM_PATH ?? ["/usr/lib/chromium/chromium", "/usr/bin/chromium"].find((p) => existsSync(p));
if (chromiumPath === undefined) throw new Error("no Chromium found: apt-get install chromium, or set CHROMIUM_PATH");

const work = mkdtempSync(join(tmpdir(), "rrhf-report-shot-"));
const run = join(work, "gpt2-tiny-rrhf");
const rrhf = (...args) => execFileSync(process.execPath, [bin, ...args], { cwd: root, stdio: ["ignore", "ignore", "inherit"] });
try {
  rrhf(
    "train",
    ...["--model", "tests/fixtures/models/gpt2-tiny", "--data", "tests/fixtures/train/tiny-train.jsonl"],
    ...["--eval-data", "tests/fixtures/train/tiny-eval.jsonl", "--out", run, "--max-steps", "40", "--logging-steps", "2"],
    ...["--eval-steps", "4", "--save-steps", "20", "--learning-rate", "1e-3", "--model-max-length", "64", "--backend", "ref"],
  );
  rrhf(
    "sample",
    ...["--model", run, "--prompts", "tests/fixtures/train/tiny-eval.jsonl", "--out", join(run, "samples.jsonl")],
    ...["-k", "2", "--max-new-tokens", "16", "--seed", "1", "--backend", "ref"],
  );
  rrhf("report", run);
  const browser = await chromium.launch({ executablePath: chromiumPath, headless: true, args: ["--no-sandbox", "--disable-gpu"] });
  try {
    const context = await browser.newContext({ offline: true, viewport: { width: 1220, height: 900 } });
    const page = await context.newPage();
    await page.goto(pathToFileURL(join(run, "report.html")).href);
    await page.waitForSelector("body[data-charts-drawn]");
    await page.screenshot({ path: target, fullPage: true });
  } finally {
    await browser.close();
  }
  console.log(`wrote ${target}`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
