/**
 * `rrhf score --in FILE --out FILE --scorer SPEC [--batch-size N]`: fills
 * `scores` for every record of FILE (records may lack `scores`), streaming,
 * batched and resumable (see score/file.ts); a progress line on stderr and a
 * summary at the end. SPEC: model:DIR, http(s)://..., cmd:COMMAND, rule:...
 */
import type { Command } from "commander";
import { DATA_SETTINGS } from "../../data/settings.js";
import { MODEL_SETTINGS } from "../../models/settings.js";
import { SCORE_SETTINGS } from "../../score/settings.js";
import { pickSettings, resolveSettings, type SettingsOf } from "../../settings/index.js";
import { addSettingOptions, settingsFromOptions } from "../flags.js";
import type { CliIo } from "../io.js";

const SCORE_COMMAND_SETTINGS = { ...DATA_SETTINGS, ...SCORE_SETTINGS, ...pickSettings(MODEL_SETTINGS, ["backend"]) } as const;

interface ScorePathFlags {
  in: string;
  out: string;
  scorer: string;
}

/** Runs `rrhf score` with resolved settings. */
async function runScore(flags: ScorePathFlags, s: SettingsOf<typeof SCORE_COMMAND_SETTINGS>, io: CliIo): Promise<void> {
  const { createScorer } = await import("../../score/spec.js");
  const { scoreFile } = await import("../../score/file.js");
  const scorer = await createScorer(flags.scorer, {
    timeout: s.timeout,
    retries: s.retries,
    retry_delay: s.retry_delay,
    chat_template: s.chat_template,
    backend: s.backend,
  });
  const started = Date.now();
  const live = process.stderr.isTTY === true;
  try {
    const done = await scoreFile(flags.in, flags.out, scorer, {
      batchSize: s.batch_size,
      ...(s.data_format === null ? {} : { format: s.data_format }),
      onProgress: (p) => {
        if (!live) return;
        const rate = p.responses / Math.max((Date.now() - started) / 1000, 1e-3);
        io.stderr(`\rscored ${p.records} records (${p.responses} responses, ${rate.toFixed(1)}/s)`);
      },
    });
    if (live) io.stderr("\n");
    const resumed = done.resumed > 0 ? `, ${done.resumed} kept from an earlier run` : "";
    io.stdout(
      `scored ${done.records - done.resumed} records (${done.responses} responses) with ${scorer.spec}${resumed}; wrote ${flags.out}\n`,
    );
  } finally {
    await scorer.close();
  }
}

/** Registers `rrhf score`. */
export function registerScore(program: Command, io: CliIo): void {
  const cmd = program
    .command("score")
    .description("fill in the scores of every record of a data file with a scorer (reward model, HTTP, command or rule)")
    .requiredOption("--in <file>", "records {query or messages, responses[, scores]} (JSONL, .jsonl.gz or Parquet)")
    .requiredOption("--out <file>", "JSONL output: the same records with scores; a rerun resumes from it")
    .requiredOption(
      "--scorer <spec>",
      "model:DIR | http(s)://HOST:PORT/PATH | cmd:COMMAND | rule:length | rule:regex:PATTERN | rule:keyword:W1,W2 | rule:exact",
    );
  addSettingOptions(cmd, SCORE_COMMAND_SETTINGS);
  cmd.action(async (flags: ScorePathFlags & Record<string, unknown>) => {
    const settings = resolveSettings(SCORE_COMMAND_SETTINGS, settingsFromOptions(SCORE_COMMAND_SETTINGS, flags), "flags");
    await runScore(flags, settings, io);
  });
}
