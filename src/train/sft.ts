/**
 * `sft(config)`: supervised fine-tuning, the paper's SFT baseline and the way
 * to make a starting model. It is `train()` with `objective: "sft"`: the same
 * loop, optimizer, schedule, checkpoints, resume, metrics.jsonl and progress;
 * only the records (`{query, response}` or `{text}`, see `data/sft-record.ts`)
 * and the loss (mean token NLL, see `sft-loss.ts`) differ. Its settings are
 * those of `train` less the RRHF ones (`SFT_SETTINGS`).
 *
 * @example
 * const config = resolveSftConfig({ overrides: { model: "m", data: "sft.jsonl", output_dir: "out", max_steps: 20 } });
 * const result = await sft(config, { stdout: (s) => process.stdout.write(s), stderr: (s) => process.stderr.write(s) });
 * result.lastLog?.loss; // mean token NLL of the last logged steps
 */
import { validateTrainConfig } from "./config.js";
import { train, type TrainIo, type TrainResult } from "./loop.js";
import type { TrainConfig } from "./settings.js";

/**
 * Runs supervised fine-tuning as `config` says (its `objective` is taken as
 * "sft" whatever it holds); see `train` for `io` and the result.
 *
 * @example
 * const result = await sft(resolveSftConfig({ overrides: { model: "m", data: "sft.jsonl", output_dir: "out" } }));
 * result.outputDir; // "out": the fine-tuned model, loadable by loadCausalLM and by transformers
 */
export async function sft(config: TrainConfig, io?: TrainIo): Promise<TrainResult> {
  const checked = config.objective === "sft" ? config : validateTrainConfig({ ...config, objective: "sft" });
  return train(checked, io);
}
