/**
 * The full crash-safety run: `node dist/tests/reliability/kill-run.js
 * [--kills 20] [--seed N] [--command train|sample|score|...]`. Prints one
 * line per command and exits 1 at the first failure (with its seed).
 */
import { join } from "node:path";
import { parseArgs } from "node:util";
import { tempDir } from "../helpers.js";
import { killAndResume } from "./kill-harness.js";
import { KILL_SCENARIOS } from "./kill-scenarios.js";

const { values } = parseArgs({
  options: { kills: { type: "string", default: "20" }, seed: { type: "string", default: "1" }, command: { type: "string" } },
});
const names = values.command === undefined ? Object.keys(KILL_SCENARIOS) : [values.command];
for (const name of names) {
  const scenario = KILL_SCENARIOS[name];
  if (scenario === undefined) throw new Error(`no kill scenario ${name}; known: ${Object.keys(KILL_SCENARIOS).join(", ")}`);
  const dir = tempDir(`rrhf-kill-${name}-`);
  const started = Date.now();
  try {
    const s = await killAndResume(scenario, {
      kills: Number(values.kills),
      seed: Number(values.seed),
      referenceDir: join(dir, "reference"),
      killedDir: join(dir, "killed"),
    });
    console.log(
      `${name}: ${s.kills} kills (seed ${values.seed}), ${s.midJobKills} mid-job, ${s.finishedBeforeKill} restarts after the job finished first; ` +
        `resumed result equals the uninterrupted run; ${((Date.now() - started) / 1000).toFixed(1)} s`,
    );
  } catch (err) {
    console.error((err as Error).message);
    process.exit(1);
  }
}
