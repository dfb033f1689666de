/**
 * Crash safety in CI: each command SIGKILLed at a few random moments (fixed
 * seeds), checked after every kill, resumed, and compared with an
 * uninterrupted run. The full count (20 kills each, any seed) runs with
 * `node dist/tests/reliability/kill-run.js` (see docs/reliability.md).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import { tempDir } from "../helpers.js";
import { killAndResume } from "./kill-harness.js";
import { KILL_SCENARIOS } from "./kill-scenarios.js";

const CI_KILLS = 4;

for (const [name, scenario] of Object.entries(KILL_SCENARIOS)) {
  test(`${name}: ${CI_KILLS} SIGKILLs at random moments lose nothing finished, and the resumed job equals an uninterrupted one`, async () => {
    const dir = tempDir(`rrhf-kill-${name}-`);
    const summary = await killAndResume(scenario, {
      kills: CI_KILLS,
      seed: 20261204,
      referenceDir: join(dir, "reference"),
      killedDir: join(dir, "killed"),
    });
    assert.equal(summary.kills, CI_KILLS);
  });
}
