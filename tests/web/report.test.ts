/**
 * The run report in real headless Chromium (see report-browser.ts): every
 * chart is drawn (a canvas with pixels on it), with the network cut off and
 * nothing requested but the page itself, no console error (a script blocked
 * by the page's Content-Security-Policy would log one), and a sample text
 * holding markup shows as text, never as markup or script.
 */
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { pathToFileURL } from "node:url";
import type { Browser } from "playwright-core";
import { writeRunReport } from "../../src/web/report/index.js";
import { tempDir } from "../helpers.js";
import { chromiumSkipReason, launchChromium } from "./report-browser.js";

const skip = chromiumSkipReason();
const PAYLOAD = `<img src=x onerror="window.__xss=1"></script><script>window.__xss=2</script>`;

/** A run folder with every part a report shows: metrics with eval lines, two rounds, samples and settings. */
function richRun(): string {
  const dir = tempDir("rrhf-report-web-");
  const lines = [];
  for (let step = 5; step <= 40; step += 5) {
    lines.push({
      step,
      epoch: step / 8,
      loss: 9 - step / 10,
      rank_loss: 2 - step / 30,
      sft_loss: 7 - step / 20,
      ranking_accuracy: step / 45,
      margin: step / 20 - 1,
      learning_rate: 1e-3 * (1 - step / 40),
      grad_norm: 30 - step / 2,
    });
    if (step % 10 === 0) lines.push({ step, epoch: step / 8, eval_loss: 8 - step / 12, eval_ranking_accuracy: 0.5 + step / 100 });
  }
  writeFileSync(join(dir, "metrics.jsonl"), `${lines.map((l) => JSON.stringify(l)).join("\n")}\n{"step": 45, "lo`);
  for (const [round, reward] of [
    [0, 0.2],
    [1, 0.45],
    [2, 0.7],
  ] as const) {
    mkdirSync(join(dir, `round-${round}`));
    writeFileSync(
      join(dir, `round-${round}`, "eval.json"),
      JSON.stringify({
        reward_mean: reward,
        reward_median: reward + 0.05,
        kl: round * 0.1,
        ranking_accuracy: 0.5 + round / 10,
        perplexity: 12 - round,
        tokens: 900,
      }),
    );
  }
  writeFileSync(
    join(dir, "round-1", "samples.jsonl"),
    `${JSON.stringify({ query: `What is 2+2? ${PAYLOAD}`, responses: ["4", PAYLOAD], scores: [1, 0] })}\n`,
  );
  writeFileSync(join(dir, "training_args.json"), JSON.stringify({ learning_rate: 1e-3, output_dir: PAYLOAD }));
  return dir;
}

/** In the page (a string: the tests compile without the DOM types): per chart, the pixels its canvas has drawn. */
const INKED_PIXELS = `[...document.querySelectorAll("figure.chart")].map((fig) => {
  const canvas = fig.querySelector("canvas");
  if (canvas === null) return { id: fig.id, inked: -1 };
  const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
  let inked = 0;
  for (let i = 3; i < pixels.length; i += 4) if (pixels[i] !== 0) inked++;
  return { id: fig.id, inked };
})`;

let browser: Browser | null = null;
before(async () => {
  if (skip === false) browser = await launchChromium();
});
after(async () => {
  await browser?.close();
});

test("report.html draws every chart offline, runs no injected markup, and logs no error", { skip }, async () => {
  const run = richRun();
  const file = writeRunReport(run);
  assert.ok(browser);
  const context = await browser.newContext({ offline: true, viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const requests: string[] = [];
  const errors: string[] = [];
  page.on("request", (r) => requests.push(r.url()));
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(m.text());
  });
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto(pathToFileURL(file).href);
  await page.waitForSelector("body[data-charts-drawn]", { timeout: 15_000 });

  const drawn = (await page.evaluate(INKED_PIXELS)) as { id: string; inked: number }[];
  assert.deepEqual(
    drawn.map((d) => d.id),
    [
      "chart-loss",
      "chart-ranking-accuracy",
      "chart-margin",
      "chart-learning-rate",
      "chart-grad-norm",
      "chart-reward",
      "chart-round-kl",
      "chart-round-ranking-accuracy",
      "chart-round-perplexity",
    ],
  );
  for (const d of drawn) assert.ok(d.inked > 200, `${d.id}: canvas has ${d.inked} drawn pixels`);

  assert.deepEqual(errors, []);
  assert.deepEqual(requests, [pathToFileURL(file).href], "the page requests nothing but itself");
  assert.equal(await page.evaluate("window.__xss"), undefined);
  const sampleText = (await page.locator(".sample").first().textContent()) ?? "";
  assert.ok(sampleText.includes(PAYLOAD), "the markup in a sample shows as text");
  assert.equal(await page.locator("img").count(), 0);
  await context.close();
});
