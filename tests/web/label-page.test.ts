/**
 * The ranking page in real headless Chromium: labelling by keyboard and by
 * drag, a server killed mid-session (nothing acknowledged lost, a restart
 * resumes at the first unlabelled query), and the token.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Browser, Page } from "playwright-core";
import { resolveSettings } from "../../src/settings/index.js";
import { type LabelServer, startLabelServer } from "../../src/web/label/server.js";
import { LABEL_SETTINGS, type LabelSettings } from "../../src/web/label/settings.js";
import { tempDir } from "../helpers.js";
import { chromiumSkipReason, launchChromium } from "./browser.js";
import { killHard, spawnLabel, writeLabelFile } from "./label-helpers.js";

const skip = chromiumSkipReason();

function settings(over: Partial<LabelSettings> = {}): LabelSettings {
  return { ...resolveSettings(LABEL_SETTINGS, { port: 0 }, "flags"), ...over };
}

function scoresIn(file: string): unknown[] {
  return readFileSync(file, "utf8")
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => (JSON.parse(l) as { scores?: unknown }).scores);
}

/** Waits until `selector`'s whole text is `text` (Playwright's :text-is). */
async function waitForText(page: Page, selector: string, text: string): Promise<void> {
  await page.waitForSelector(`${selector}:text-is(${JSON.stringify(text)})`, { timeout: 15_000 });
}

/** The response numbers (1-based, as shown) in the order on screen. */
async function shownOrder(page: Page): Promise<number[]> {
  const numbers = await page.$$eval("li.response", (rows) => rows.map((r) => r.getAttribute("data-response")));
  return numbers.map((n) => Number(n) + 1);
}

async function openPage(browser: Browser, url: string): Promise<Page> {
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto(url);
  await page.waitForSelector("li.response");
  assert.deepEqual(errors, []);
  return page;
}

describe("ranking page in headless Chromium", { skip }, () => {
  let browser: Browser;
  before(async () => {
    browser = await launchChromium();
  });
  after(() => browser?.close());

  it("labels a file by keyboard only: number keys, moves, ties, skip, back, clear", async () => {
    const file = join(tempDir(), "d.jsonl");
    writeLabelFile(file, 3, 3);
    const server: LabelServer = await startLabelServer(file, settings());
    try {
      const page = await openPage(browser, server.url);
      await waitForText(page, "#progress", "0 of 3 labelled");
      await waitForText(page, "#position", "1 of 3");
      // Best first: 3, then 1 (2 is then last).
      await page.keyboard.press("3");
      await page.keyboard.press("1");
      await waitForText(page, "#progress", "1 of 3 labelled");
      assert.deepEqual(await shownOrder(page), [3, 1, 2]);
      await page.waitForSelector("#status:text-matches('^Saved')");
      assert.deepEqual(scoresIn(file)[0], [1, 0, 2]);
      await page.keyboard.press("Enter");
      await waitForText(page, "#position", "2 of 3");
      // Focus the second response, move it to the top, then tie the (new) second with the first: 2 = 1 > 3.
      await page.keyboard.press("ArrowDown");
      await page.keyboard.press("Shift+ArrowUp");
      await page.keyboard.press("ArrowDown");
      await page.keyboard.press("t");
      await waitForText(page, "#progress", "2 of 3 labelled");
      await page.waitForSelector("li.response.tied");
      assert.equal(await page.locator("li.response.tied").count(), 1);
      await waitForText(page, "#status", "Saved (query 2).");
      assert.deepEqual(scoresIn(file)[1], [1, 1, 0]);
      await page.keyboard.press("n");
      await waitForText(page, "#position", "3 of 3");
      await page.keyboard.press("p");
      await waitForText(page, "#position", "2 of 3");
      assert.deepEqual(await shownOrder(page), [2, 1, 3], "going back shows the saved order");
      await page.keyboard.press("u");
      await waitForText(page, "#progress", "1 of 3 labelled");
      assert.deepEqual(scoresIn(file)[1], [0, 0, 0], "a cleared label gives the first scores back");
      assert.equal(server.store.labelledCount, 1);
      await page.close();
    } finally {
      await server.close();
    }
  });

  it("labels by drag and drop, showing the policy's scores", async () => {
    const file = join(tempDir(), "d.jsonl");
    writeLabelFile(file, 2, 3);
    const server = await startLabelServer(file, settings({ policy_scores: "policy" }));
    try {
      const page = await openPage(browser, server.url);
      assert.deepEqual(await page.$$eval(".policy-score", (s) => s.map((e) => e.textContent)), ["policy 0", "policy 0.1", "policy 0.2"]);
      await page.dragAndDrop('li.response[data-position="2"]', 'li.response[data-position="0"]');
      await waitForText(page, "#progress", "1 of 2 labelled");
      assert.deepEqual(await shownOrder(page), [3, 1, 2]);
      assert.deepEqual(scoresIn(file)[0], [1, 0, 2]);
      await page.close();
    } finally {
      await server.close();
    }
  });

  it("loses nothing when the server is killed mid-session, and a restart resumes at the first unlabelled query", async () => {
    const file = join(tempDir(), "d.jsonl");
    writeLabelFile(file, 4, 3, { withChat: true });
    let label = await spawnLabel(file);
    const page = await openPage(browser, label.url);
    await page.keyboard.press("2");
    await waitForText(page, "#progress", "1 of 5 labelled");
    await page.keyboard.press("Enter");
    await waitForText(page, "#position", "2 of 5");
    await page.dragAndDrop('li.response[data-position="1"]', 'li.response[data-position="0"]');
    await waitForText(page, "#progress", "2 of 5 labelled");
    await killHard(label);
    assert.deepEqual(scoresIn(file).slice(0, 3), [
      [1, 2, 0],
      [1, 2, 0],
      [0, 0, 0],
    ]);
    // The page notices: a change now is not saved, and says so.
    await page.keyboard.press("3");
    await page.waitForSelector("#status.error");
    await page.close();

    label = await spawnLabel(file);
    try {
      const again = await openPage(browser, label.url);
      await waitForText(again, "#progress", "2 of 5 labelled");
      await waitForText(again, "#position", "3 of 5");
      await again.keyboard.press("p");
      await waitForText(again, "#position", "2 of 5");
      assert.deepEqual(await shownOrder(again), [2, 1, 3]);
      await again.close();
    } finally {
      await killHard(label);
    }
  });

  it("needs the token when one is set: 401 without it, a working page with it", async () => {
    const file = join(tempDir(), "d.jsonl");
    writeLabelFile(file, 1, 2);
    const server = await startLabelServer(file, settings({ token: "tok-0123456789abcdef" }));
    try {
      const page = await browser.newPage();
      const bare = await page.goto(server.url.replace(/\?.*$/, ""));
      assert.equal(bare?.status(), 401);
      const wrong = await page.goto(server.url.replace(/token=.*$/, "token=tok-0123456789abcdeX"));
      assert.equal(wrong?.status(), 401);
      await page.goto(server.url);
      await page.waitForSelector("li.response");
      await page.keyboard.press("2");
      await waitForText(page, "#progress", "1 of 1 labelled");
      assert.deepEqual(scoresIn(file)[0], [0, 1]);
      await page.close();
    } finally {
      await server.close();
    }
  });
});
