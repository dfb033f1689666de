/**
 * The crash-safety harness: runs one `rrhf` job, SIGKILLs it at random
 * moments, checks after every kill that what is on disk is whole (the old
 * version or the new one, never half of one) and loses at most what the
 * command promises, reruns it (which must resume), and at the end compares
 * the finished job with an uninterrupted run of the same command.
 *
 * The moments are drawn from a seeded generator (a failing sequence replays
 * with its seed), uniformly over the part of an uninterrupted run's duration
 * that the work still to do would take, after its start-up.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { repoRoot } from "../helpers.js";

const BIN = join(repoRoot, "dist", "src", "cli", "bin.js");

/** One command under test. */
export interface KillScenario {
  name: string;
  /** Writes the job's inputs into `dir` (called once per run folder). */
  prepare(dir: string): void;
  /** The `rrhf` arguments of the first run (`resumed` false) and of every rerun after a kill (`resumed` true). */
  args(dir: string, resumed: boolean): string[];
  /** Invariants that must hold right after a kill; `killIndex` counts from 0. Throws (assert) when one fails. */
  checkAfterKill(dir: string): void;
  /** How far the job has come, in its own unit (steps logged, lines written), to show kills land mid-job. */
  progress(dir: string): number;
  /** What a finished job leaves that must equal an uninterrupted run's, as named byte strings. */
  result(dir: string): Record<string, Buffer>;
}

export interface KillRunOptions {
  kills: number;
  seed: number;
  /** A folder for the uninterrupted run and one for the killed one. */
  referenceDir: string;
  killedDir: string;
  log?: (line: string) => void;
}

export interface KillRunSummary {
  kills: number;
  /** Kills that found the job part-way: some progress on disk, not all of it. */
  midJobKills: number;
  /** Times the job finished before its kill came (it is then started over). */
  finishedBeforeKill: number;
  referenceSeconds: number;
}

/** mulberry32: a small seeded generator, so a failing kill sequence can be replayed. */
function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Ended {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

/**
 * Runs `rrhf args`; when `killAfterMs` is set, SIGKILLs it then (if it is
 * still running). `onProgress` polls the job's progress every 10 ms while it runs.
 */
function runRrhfChild(args: string[], killAfterMs: number | null, onProgress?: () => void): Promise<Ended> {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: repoRoot, stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const timer = killAfterMs === null ? null : setTimeout(() => child.kill("SIGKILL"), killAfterMs);
  const poll = onProgress === undefined ? null : setInterval(onProgress, 10);
  return new Promise((resolve) =>
    child.on("close", (code, signal) => {
      if (timer !== null) clearTimeout(timer);
      if (poll !== null) clearInterval(poll);
      resolve({ code, signal, stderr });
    }),
  );
}

/**
 * Runs `scenario` once uninterrupted and once with `kills` SIGKILLs, checking
 * the invariants after each kill and that both end equal.
 */
export async function killAndResume(scenario: KillScenario, options: KillRunOptions): Promise<KillRunSummary> {
  const log = options.log ?? (() => {});
  scenario.prepare(options.referenceDir);
  const t0 = Date.now();
  let startupMs = -1; // until the job's first progress shows on disk: loading, not writing
  const reference = await runRrhfChild(scenario.args(options.referenceDir, false), null, () => {
    if (startupMs < 0 && scenario.progress(options.referenceDir) > 0) startupMs = Date.now() - t0;
  });
  const referenceMs = Date.now() - t0;
  if (startupMs < 0) startupMs = referenceMs;
  assert.equal(reference.code, 0, `${scenario.name}: the uninterrupted run failed: ${reference.stderr}`);

  scenario.prepare(options.killedDir);
  const random = seededRandom(options.seed);
  let resumed = false;
  let kills = 0;
  let finishedBeforeKill = 0;
  let midJobKills = 0;
  const full = scenario.progress(options.referenceDir);
  while (kills < options.kills) {
    // A moment spread over the work still to do (after a start-up like the reference run's), so most kills land mid-job.
    const left = 1 - scenario.progress(options.killedDir) / full;
    const delay = Math.floor(startupMs * 0.8 + random() * (referenceMs - startupMs * 0.8) * Math.max(left, 0.05));
    const ended = await runRrhfChild(scenario.args(options.killedDir, resumed), delay);
    if (ended.signal === "SIGKILL") {
      kills++;
      try {
        scenario.checkAfterKill(options.killedDir);
      } catch (err) {
        throw new Error(`${scenario.name}: after kill ${kills} (seed ${options.seed}, at ${delay} ms): ${(err as Error).message}`);
      }
      const progress = scenario.progress(options.killedDir);
      if (progress > 0 && progress < full) midJobKills++;
      resumed = true;
      continue;
    }
    assert.equal(ended.code, 0, `${scenario.name}: a rerun failed (seed ${options.seed}, kill ${kills}): ${ended.stderr}`);
    // The job finished before the kill came: start it over in a fresh state, so every kill lands on a running job.
    finishedBeforeKill++;
    log(`${scenario.name}: the job finished before the kill at ${delay} ms; starting over`);
    scenario.prepare(options.killedDir);
    resumed = false;
  }
  const last = await runRrhfChild(scenario.args(options.killedDir, resumed), null);
  assert.equal(last.code, 0, `${scenario.name}: the final resume failed (seed ${options.seed}): ${last.stderr}`);
  const want = scenario.result(options.referenceDir);
  const got = scenario.result(options.killedDir);
  assert.deepEqual(Object.keys(got).sort(), Object.keys(want).sort(), `${scenario.name}: different result files`);
  for (const name of Object.keys(want)) {
    assert.ok(got[name].equals(want[name]), `${scenario.name}: ${name} differs from the uninterrupted run (seed ${options.seed})`);
  }
  log(
    `${scenario.name}: ${kills} kills (${midJobKills} mid-job), all resumed to the uninterrupted result (reference run ${referenceMs} ms)`,
  );
  return { kills, midJobKills, finishedBeforeKill, referenceSeconds: referenceMs / 1000 };
}
