/**
 * The training metrics sink. Every step's metrics are collected; at each
 * logging step their average over the window goes to
 *   - `metrics.jsonl` in the output folder, one JSON object per line,
 *     written straight to the file so a crash keeps every logged line;
 *   - the terminal: a progress bar with ETA when the stream is a TTY (log
 *     lines print above it), plain `key=value` lines otherwise.
 *
 * Lines come exactly every `loggingSteps` steps, plus one at the run's last
 * step when it is not a multiple (so every step is in some line); saving a
 * checkpoint adds none: the steps not logged yet travel in the checkpoint
 * (`unloggedSteps()` / the `unlogged` option), so a resumed run logs the
 * same averages as an uninterrupted one.
 *
 * Keys: step, epoch, loss, rank_loss, sft_loss, ranking_accuracy, margin,
 * learning_rate, grad_norm, tokens_per_second, skipped_nonfinite_steps
 * (run total). Evaluation lines carry `eval_`-prefixed keys. Values that are
 * not finite are written as null.
 *
 * @example
 * const log = new MetricsLogger({ outputDir: "out", totalSteps: 100, loggingSteps: 10 });
 * log.logStep(step, epoch, { loss, rank_loss, sft_loss, ranking_accuracy, margin, learning_rate, grad_norm, num_tokens });
 * log.close();
 */
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import cliProgress from "cli-progress";
import { writeFileAtomic } from "../io/atomic.js";

export const METRICS_FILE = "metrics.jsonl";

/** What one training step reports (one optimizer update). */
/**
 * One entry of `log_history`: HF-style flat metrics (null where a value was not finite).
 *
 * @example
 * const result = await train(config);
 * const entry: LogEntry | null = result.lastLog; // e.g. { step: 4, epoch: 0.5, loss: 7.4, learning_rate: 1e-5, ... }
 * console.log(entry?.loss, result.lastEval?.eval_loss);
 */
export type LogEntry = Record<string, number | null>;

export interface StepMetrics {
  loss: number;
  rank_loss: number;
  sft_loss: number;
  /** Share of strictly ordered reward pairs the policy orders the same way; null when there are none. */
  ranking_accuracy: number | null;
  margin: number;
  learning_rate: number;
  grad_norm: number;
  /** Tokens processed by the step (for tokens/s). */
  num_tokens: number;
}

export type ProgressMode = "auto" | "bar" | "plain" | "none";

export interface MetricsLoggerOptions {
  outputDir: string;
  totalSteps: number;
  loggingSteps: number;
  /** Step the run starts after (resume); metrics.jsonl lines beyond it are dropped. */
  startStep?: number;
  /** Skipped steps before this run segment (from trainer_state.json). */
  skippedSoFar?: number;
  /** Where progress goes; default process.stdout. */
  stream?: NodeJS.WritableStream & { isTTY?: boolean };
  /** "auto": bar on a TTY, plain lines otherwise. */
  progress?: ProgressMode;
  /** Milliseconds; injectable so tests need no real time. */
  clock?: () => number;
  /** Steps a resumed run's checkpoint had not logged yet (`unloggedSteps()` of the run that saved it). */
  unlogged?: readonly StepMetrics[];
  /** Metrics this run's objective does not have (SFT: the ranking ones), left out of every line (and their `eval_` forms). */
  omit?: readonly string[];
}

const AVERAGED = ["loss", "rank_loss", "sft_loss", "margin", "grad_norm"] as const;

/** Compact number for terminal lines. */
export function formatMetric(v: number | null): string {
  if (v === null || !Number.isFinite(v)) return "nan";
  if (Number.isInteger(v)) return String(v);
  const a = Math.abs(v);
  return a !== 0 && (a < 1e-3 || a >= 1e5) ? v.toExponential(3) : String(Number(v.toPrecision(5)));
}

/** A StepMetrics read back from JSON, where NaN was written as null. */
function fromJson(m: StepMetrics): StepMetrics {
  const num = (v: number | null): number => (v === null ? Number.NaN : v);
  return {
    loss: num(m.loss),
    rank_loss: num(m.rank_loss),
    sft_loss: num(m.sft_loss),
    ranking_accuracy: m.ranking_accuracy,
    margin: num(m.margin),
    learning_rate: num(m.learning_rate),
    grad_norm: num(m.grad_norm),
    num_tokens: num(m.num_tokens),
  };
}

function finiteOrNull(v: number): number | null {
  return Number.isFinite(v) ? v : null;
}

/** Drops lines past `step` (and a torn last line) so a resumed run does not duplicate them. */
function truncateMetricsFile(file: string, step: number): void {
  if (!existsSync(file)) return;
  const kept: string[] = [];
  for (const line of readFileSync(file, "utf8").split("\n")) {
    if (line.trim() === "") continue;
    try {
      const entry = JSON.parse(line) as { step?: unknown };
      if (typeof entry.step === "number" && entry.step <= step) kept.push(line);
    } catch {
      // A line torn by a crash mid-write: drop it.
    }
  }
  writeFileAtomic(file, kept.map((l) => `${l}\n`).join(""));
}

export class MetricsLogger {
  readonly file: string;
  /** Every entry written by this logger (training and eval), for trainer_state.json's log_history. */
  readonly history: LogEntry[] = [];
  private readonly fd: number;
  private readonly opts: Required<Omit<MetricsLoggerOptions, "stream" | "progress" | "unlogged" | "omit">>;
  private readonly omitted: ReadonlySet<string>;
  private readonly stream: NodeJS.WritableStream & { isTTY?: boolean };
  private readonly mode: Exclude<ProgressMode, "auto">;
  private readonly multibar: cliProgress.MultiBar | null = null;
  private readonly bar: cliProgress.SingleBar | null = null;
  private window: StepMetrics[] = [];
  private windowStart: number;
  private skippedTotal: number;

  constructor(options: MetricsLoggerOptions) {
    this.opts = {
      outputDir: options.outputDir,
      totalSteps: options.totalSteps,
      loggingSteps: Math.max(1, options.loggingSteps),
      startStep: options.startStep ?? 0,
      skippedSoFar: options.skippedSoFar ?? 0,
      clock: options.clock ?? (() => performance.now()),
    };
    this.omitted = new Set((options.omit ?? []).flatMap((k) => [k, `eval_${k}`]));
    this.stream = options.stream ?? process.stdout;
    const progress = options.progress ?? "auto";
    this.mode = progress === "auto" ? (this.stream.isTTY ? "bar" : "plain") : progress;
    this.skippedTotal = this.opts.skippedSoFar;
    this.window = (options.unlogged ?? []).map(fromJson);
    mkdirSync(options.outputDir, { recursive: true });
    this.file = join(options.outputDir, METRICS_FILE);
    if (this.opts.startStep > 0) truncateMetricsFile(this.file, this.opts.startStep);
    else if (existsSync(this.file)) writeFileAtomic(this.file, ""); // a fresh run starts a fresh log
    this.fd = openSync(this.file, "a");
    this.windowStart = this.opts.clock();
    if (this.mode === "bar") {
      this.multibar = new cliProgress.MultiBar(
        {
          stream: this.stream,
          format: "{bar} {value}/{total} steps | ETA {eta_formatted} | loss {loss} | lr {lr}",
          hideCursor: true,
          clearOnComplete: false,
          etaBuffer: 50,
        },
        cliProgress.Presets.shades_classic,
      );
      this.bar = this.multibar.create(this.opts.totalSteps, this.opts.startStep, { loss: "-", lr: "-" });
    }
  }

  /** Counts a skipped (non-finite) step; `reason` is printed as a warning. */
  logSkipped(step: number, reason: string): void {
    this.skippedTotal++;
    this.warn(reason);
    this.bar?.update(step);
  }

  /** Prints a warning line (above the bar on a TTY). */
  warn(text: string): void {
    this.print(`warning: ${text}`);
  }

  /**
   * Records one applied step; at a logging step (every `loggingSteps`, and
   * the last step) writes and prints the window's averages and returns them.
   */
  logStep(step: number, epoch: number, m: StepMetrics): LogEntry | null {
    this.window.push(m);
    this.bar?.update(step, { loss: formatMetric(m.loss), lr: formatMetric(m.learning_rate) });
    if (step % this.opts.loggingSteps !== 0 && step !== this.opts.totalSteps) return null;
    return this.flush(step, epoch);
  }

  /** The applied steps since the last log line (a checkpoint stores them; see `unlogged`). */
  unloggedSteps(): StepMetrics[] {
    return this.window.map((m) => ({ ...m }));
  }

  /** Writes whatever the window holds now (e.g. at the end of a run). */
  flush(step: number, epoch: number): LogEntry | null {
    const w = this.window;
    if (w.length === 0) return null;
    const now = this.opts.clock();
    const seconds = (now - this.windowStart) / 1000;
    const entry: LogEntry = { step, epoch };
    for (const k of AVERAGED) entry[k] = finiteOrNull(w.reduce((a, m) => a + m[k], 0) / w.length);
    const accs = w.map((m) => m.ranking_accuracy).filter((a): a is number => a !== null);
    entry.ranking_accuracy = accs.length > 0 ? finiteOrNull(accs.reduce((a, b) => a + b, 0) / accs.length) : null;
    entry.learning_rate = finiteOrNull(w[w.length - 1].learning_rate);
    const tokens = w.reduce((a, m) => a + m.num_tokens, 0);
    entry.tokens_per_second = seconds > 0 ? tokens / seconds : null;
    entry.skipped_nonfinite_steps = this.skippedTotal;
    this.window = [];
    this.windowStart = now;
    this.write(entry);
    return entry;
  }

  /** Writes evaluation results (keys get an `eval_` prefix). */
  logEval(step: number, epoch: number, metrics: Record<string, number>): LogEntry {
    const entry: LogEntry = { step, epoch };
    for (const [k, v] of Object.entries(metrics)) entry[k.startsWith("eval_") ? k : `eval_${k}`] = finiteOrNull(v);
    this.write(entry);
    return entry;
  }

  /** Stops the bar (it runs a redraw timer) and closes metrics.jsonl. Call once, also on errors. */
  close(): void {
    // stop() alone would drop log lines still buffered for the next redraw.
    this.multibar?.update();
    this.multibar?.stop();
    closeSync(this.fd);
  }

  private write(entry: LogEntry): void {
    for (const k of this.omitted) delete entry[k];
    this.history.push(entry);
    writeSync(this.fd, `${JSON.stringify(entry)}\n`);
    this.print(
      Object.entries(entry)
        .map(([k, v]) => `${k}=${formatMetric(v)}`)
        .join(" "),
    );
  }

  private print(line: string): void {
    if (this.mode === "none") return;
    if (this.multibar) {
      // The bar redraws by moving the cursor up one row: a logged line wider than the terminal would wrap and be
      // partly overdrawn, so it is broken at spaces to fit.
      const width = (this.stream as { columns?: number }).columns;
      for (const part of fitToWidth(line, width ?? Infinity)) this.multibar.log(`${part}\n`);
    } else this.stream.write(`${line}\n`);
  }
}

/** Breaks a `key=value key=value ...` line at spaces into lines of at most `width` characters (a longer word stays whole). */
export function fitToWidth(line: string, width: number): string[] {
  if (line.length <= width) return [line];
  const out: string[] = [];
  let cur = "";
  for (const word of line.split(" ")) {
    if (cur !== "" && cur.length + 1 + word.length > width) {
      out.push(cur);
      cur = `  ${word}`;
    } else cur = cur === "" ? word : `${cur} ${word}`;
  }
  if (cur !== "") out.push(cur);
  return out;
}
