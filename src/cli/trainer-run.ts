/**
 * What `rrhf train` and `rrhf sft` do once their config is resolved: run the
 * trainer with a progress bar on a terminal, refresh report.html at each
 * checkpoint and at the end, and turn Ctrl-C into a checkpoint plus the
 * command that resumes (exit 130).
 */
import type { TrainConfig } from "../train/config.js";
import type { TrainIo, TrainResult } from "../train/loop.js";
import type { CliIo } from "./io.js";
import { abortOnSigint, InterruptedError, shellQuote } from "./interrupt.js";
import { reportRefresher } from "./report-refresh.js";

function resumeHint(command: string, at: { step: number; checkpoint: string | null }): string {
  if (at.checkpoint === null) return "interrupted before the first step; nothing was saved";
  // The checkpoint keeps every setting of the run (training_args.json): its path is all a resume needs.
  return `interrupted at step ${at.step}; resume with:\n  rrhf ${command} --resume-from-checkpoint ${shellQuote(at.checkpoint)}`;
}

/** Runs `run(config, io)` (train or sft) as the `rrhf COMMAND` CLI does. */
export async function runTrainerCommand(
  command: "train" | "sft",
  config: TrainConfig,
  run: (config: TrainConfig, io: TrainIo) => Promise<TrainResult>,
  io: CliIo,
): Promise<void> {
  // A progress bar needs a real terminal; anything else gets plain lines through io.
  const tty = process.stdout.isTTY === true;
  const sigint = abortOnSigint(() =>
    io.stderr("\nrrhf: Ctrl-C: finishing the current step, then saving a checkpoint (Ctrl-C again quits at once, without saving)\n"),
  );
  const refreshReport = reportRefresher(config.output_dir, io);
  try {
    const progress = tty ? { progressStream: process.stdout } : {};
    const result = await run(config, {
      stdout: io.stdout,
      stderr: io.stderr,
      ...progress,
      signal: sigint.signal,
      onCheckpointSaved: refreshReport,
    });
    refreshReport();
    if (result.interrupted) throw new InterruptedError(resumeHint(command, result.interrupted));
  } finally {
    sigint.dispose();
  }
}
