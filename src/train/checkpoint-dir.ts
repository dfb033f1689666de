/**
 * The checkpoints of an output folder: listing complete ones, finding the
 * latest, resolving `--resume-from-checkpoint`, pruning by
 * `--save-total-limit`, and removing temp folders left by a crash.
 *
 * @example
 * removeStaleCheckpointTemps("out");
 * const dir = resolveResumeCheckpoint("out", "latest");
 * pruneCheckpoints("out", 2, [dir]);
 */
import { existsSync, readdirSync, renameSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { UserError } from "../errors.js";
import { checkpointProblem, isCompleteCheckpoint } from "./checkpoint.js";
import { processAlive } from "./checkpoint-fs.js";

const FINAL = /^checkpoint-(\d+)$/;
const TEMP = /^\.checkpoint-\d+\.(?:tmp|deleting)-(\d+)$/;

export interface CheckpointEntry {
  step: number;
  dir: string;
}

function entries(outputDir: string): string[] {
  try {
    return readdirSync(outputDir);
  } catch {
    return [];
  }
}

/** Complete checkpoints of `outputDir`, oldest (lowest step) first. Incomplete or temp folders are skipped. */
export function listCheckpoints(outputDir: string): CheckpointEntry[] {
  const out: CheckpointEntry[] = [];
  for (const name of entries(outputDir)) {
    const m = FINAL.exec(name);
    if (!m) continue;
    const dir = join(outputDir, name);
    if (isCompleteCheckpoint(dir)) out.push({ step: Number(m[1]), dir });
  }
  return out.sort((a, b) => a.step - b.step);
}

/** The complete checkpoint with the highest step, or null. */
export function findLatestCheckpoint(outputDir: string): string | null {
  const all = listCheckpoints(outputDir);
  return all.length > 0 ? all[all.length - 1].dir : null;
}

/** `--resume-from-checkpoint`: "latest" (in `outputDir`) or a folder path; must be complete. */
export function resolveResumeCheckpoint(outputDir: string, value: string): string {
  if (value === "latest") {
    const latest = findLatestCheckpoint(outputDir);
    if (latest === null) throw new UserError(`--resume-from-checkpoint latest: no complete checkpoint in ${outputDir}`);
    return latest;
  }
  if (!existsSync(value)) throw new UserError(`--resume-from-checkpoint: ${value} does not exist`);
  const problem = checkpointProblem(value);
  if (problem !== null) throw new UserError(`--resume-from-checkpoint: ${problem}`);
  return value;
}

/**
 * Deletes the oldest complete checkpoints so at most `saveTotalLimit` remain
 * (HF `save_total_limit`; null or <= 0 keeps all). Folders in `keep` (e.g.
 * the one resumed from) are never deleted. Each is renamed to a hidden name
 * before removal, so a crash mid-delete never leaves a half folder that
 * looks like a checkpoint. Returns the deleted folders.
 */
export function pruneCheckpoints(outputDir: string, saveTotalLimit: number | null, keep: readonly string[] = []): string[] {
  if (saveTotalLimit === null || !(saveTotalLimit > 0)) return [];
  const kept = new Set(keep.map((k) => resolve(k)));
  const all = listCheckpoints(outputDir);
  let excess = all.length - saveTotalLimit;
  const removed: string[] = [];
  for (const c of all) {
    if (excess <= 0) break;
    if (kept.has(resolve(c.dir))) continue;
    const aside = join(outputDir, `.checkpoint-${c.step}.deleting-${process.pid}`);
    rmSync(aside, { recursive: true, force: true });
    renameSync(c.dir, aside);
    rmSync(aside, { recursive: true, force: true });
    removed.push(c.dir);
    excess--;
  }
  return removed;
}

/**
 * Removes hidden temp folders (`.checkpoint-N.tmp-<pid>`, `.checkpoint-N.deleting-<pid>`)
 * whose process is gone: the remains of a crash. A live process's folders are
 * left alone. Returns the removed paths.
 */
export function removeStaleCheckpointTemps(outputDir: string): string[] {
  const removed: string[] = [];
  for (const name of entries(outputDir)) {
    const m = TEMP.exec(name);
    if (!m) continue;
    const pid = Number(m[1]);
    // Our own pid: a save of ours in progress; another live pid: someone else's.
    if (pid === process.pid || processAlive(pid)) continue;
    const dir = join(outputDir, name);
    rmSync(dir, { recursive: true, force: true });
    removed.push(dir);
  }
  return removed;
}
