/**
 * Child process for tests that must kill or interrupt a real run (not a test
 * file itself): `node train-child.js CONFIG_JSON [--pause-file F] [--nan-steps 3,4] [--sigint]`
 * runs the library `train()` on the settings in CONFIG_JSON (snake_case keys)
 * with test hooks:
 * - `--pause-file F`: every checkpoint save, half-written, writes F (`{ pid }`)
 *   and blocks the thread for up to 2 minutes, so the test can signal it there;
 * - `--nan-steps`: those 1-based steps get a NaN loss;
 * - `--sigint`: Ctrl-C is wired as in `rrhf train` (first aborts, second quits).
 * Prints `interrupted STEP CHECKPOINT` or `done STEP`; a UserError exits 1.
 */
import { writeFileSync } from "node:fs";
import { UserError } from "../../src/errors.js";
import { abortOnSigint } from "../../src/cli/interrupt.js";
import { resolveTrainConfig, type TrainConfigInput } from "../../src/train/config.js";
import { train, type TrainHooks } from "../../src/train/loop.js";

const [json, ...rest] = process.argv.slice(2);
const flag = (name: string): string | undefined => {
  const i = rest.indexOf(name);
  return i >= 0 ? rest[i + 1] : undefined;
};
const pauseFile = flag("--pause-file");
const nanSteps = new Set(
  (flag("--nan-steps") ?? "")
    .split(",")
    .filter((s) => s !== "")
    .map(Number),
);

const hooks: TrainHooks = {
  forceNonFinite: (step) => nanSteps.has(step),
  onCheckpointPartlyWritten: pauseFile
    ? () => {
        writeFileSync(pauseFile, JSON.stringify({ pid: process.pid }));
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 120_000);
        throw new Error("nobody killed the paused save");
      }
    : undefined,
};
const sigint = rest.includes("--sigint") ? abortOnSigint(() => process.stderr.write("first SIGINT\n")) : null;
try {
  const config = resolveTrainConfig({ overrides: JSON.parse(json) as TrainConfigInput });
  const io = { stdout: (s: string) => void process.stdout.write(s), stderr: (s: string) => void process.stderr.write(s) };
  const result = await train(config, { ...io, hooks, signal: sigint?.signal });
  const at = result.interrupted;
  process.stdout.write(at ? `interrupted ${at.step} ${at.checkpoint}\n` : `done ${result.globalStep}\n`);
} catch (err) {
  if (!(err instanceof UserError)) throw err;
  process.stderr.write(`error: ${err.message}\n`);
  process.exitCode = 1;
} finally {
  sigint?.dispose();
}
