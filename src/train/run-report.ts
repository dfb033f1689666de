/**
 * The lines `rrhf train` prints before the first step (what is trained, on
 * what, for how long, where) and after the last one (a one-line summary).
 *
 * @example
 * io.stdout(formatRunHeader({ config, backend: "ref", hf, data, evalData: null, plan, schedule, resumedFrom: null, startStep: 0 }));
 */
import type { HfModel } from "../models/hf/folder.js";
import type { TrainConfig } from "./config.js";
import { formatMetric } from "./metrics-log.js";
import type { TrainingPlan } from "./plan.js";
import type { EncodedData } from "./run-data.js";
import type { LrSchedule } from "./schedule.js";

export interface RunHeaderInput {
  /** The run's settings, with model_max_length as actually used (clamped to the model's positions). */
  config: TrainConfig;
  backend: string;
  hf: Pick<HfModel, "normalized" | "params">;
  data: EncodedData;
  evalData: EncodedData | null;
  plan: TrainingPlan;
  schedule: LrSchedule;
  resumedFrom: string | null;
  startStep: number;
}

function dataLine(d: EncodedData, sft: boolean): string {
  const rows = d.examples.reduce((a, e) => a + e.responses.length, 0);
  const left = d.droppedQueries > 0 ? ` (${d.droppedQueries} left out, see warning)` : "";
  // An SFT record is one example (a query with its one response, or a text).
  if (sft) return `${d.file}: ${d.examples.length} records${left}`;
  return `${d.file}: ${d.examples.length} queries${left}, ${rows} responses`;
}

function count(n: number): string {
  return n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)}k` : String(n);
}

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

export function formatRunHeader(h: RunHeaderInput): string {
  const c = h.config;
  const s = h.schedule.options;
  const batchItem: [string, string] = c.objective === "sft" ? ["record", "records"] : ["query", "queries"];
  const lines = [
    `rrhf ${c.objective === "sft" ? "sft" : "train"}: ${c.model} (${h.hf.normalized.modelType}, ${count(h.hf.params.size)} parameters), backend ${h.backend}`,
    `  train data  ${dataLine(h.data, c.objective === "sft")}`,
  ];
  if (h.evalData)
    lines.push(`  eval data   ${dataLine(h.evalData, c.objective === "sft")}, every ${c.eval_steps ?? c.logging_steps} steps`);
  lines.push(
    `  steps       ${h.plan.totalSteps} (${h.plan.stepsPerEpoch} per epoch; ${plural(c.per_device_train_batch_size, ...batchItem)} per micro-batch, ` +
      `${plural(c.gradient_accumulation_steps, "micro-batch", "micro-batches")} per step)`,
    `  optimizer   ${c.optim}, lr ${formatMetric(c.learning_rate)} ${s.lr_scheduler_type}, warmup ${s.warmupSteps} steps, max grad norm ${c.max_grad_norm}`,
    c.objective === "sft"
      ? "  loss        sft: mean token NLL (each response + EOS; every token of a text)"
      : `  loss        rrhf_weight ${c.rrhf_weight}, length_penalty ${c.length_penalty}, compat ${c.compat}`,
    `  tokens      model_max_length ${c.model_max_length}, chat template ${c.chat_template ? "on" : "off"}, strict ${c.strict ? "on" : "off"}`,
    `  forward     layout ${c.layout}, gradient checkpointing ${c.gradient_checkpointing ? "on" : "off"}${c.bf16 ? ", bf16 matrix products" : ""}${c.release_memory ? ", memory released between uses" : ""}`,
    `  output      ${c.output_dir} (checkpoints ${c.save_steps > 0 ? `every ${c.save_steps} steps` : "off"}, logs every ${c.logging_steps} steps${c.save_dtype === "float32" ? "" : `, model saved as ${c.save_dtype}`})`,
  );
  if (h.resumedFrom) lines.push(`  resumed     from ${h.resumedFrom} at step ${h.startStep}`);
  return `${lines.join("\n")}\n`;
}

export interface RunSummaryInput {
  outputDir: string;
  globalStep: number;
  skippedNonfiniteSteps: number;
  lastLog: Record<string, number | null> | null;
  lastEval: Record<string, number | null> | null;
}

export function formatRunSummary(r: RunSummaryInput): string {
  const parts = [`done: ${r.globalStep} steps`];
  // An SFT run's entries have no ranking keys (see SFT_OMITTED_METRICS): a key that is absent is not shown.
  const shown = (entry: Record<string, number | null>, keys: string[]): string[] =>
    keys.filter((k) => k in entry).map((k) => `${k} ${formatMetric(entry[k])}`);
  if (r.lastLog) parts.push(...shown(r.lastLog, ["loss", "ranking_accuracy"]));
  if (r.lastEval) parts.push(...shown(r.lastEval, ["eval_loss", "eval_ranking_accuracy"]));
  parts.push(`${r.skippedNonfiniteSteps} skipped`, `model saved to ${r.outputDir}`);
  return `${parts.join(", ")}\n`;
}

/** The last line of a run stopped by its abort signal (the CLI then prints how to resume). */
export function formatInterruptSummary(
  r: Pick<RunSummaryInput, "globalStep"> & { totalSteps: number },
  at: { checkpoint: string | null },
): string {
  const saved = at.checkpoint ? `checkpoint ${at.checkpoint}` : "no checkpoint (no step was done)";
  return `interrupted after step ${r.globalStep} of ${r.totalSteps}: ${saved}, no final model\n`;
}
