/**
 * What a run report shows, read from a run folder's files (every part
 * optional, since `train`, `sft`, `iterate` and `demo` write different
 * subsets, and a run still going has written only some of them):
 *   - `metrics.jsonl`: training lines and `eval_`-prefixed evaluation lines
 *     (a torn last line, from a run writing it right now, is ignored); a run
 *     of rounds without a top-level one gets each round's `metrics.jsonl`
 *     (`round-N/` or `round-N/train/`) one after the other, steps offset;
 *   - `round-N/eval.json`: per-round evaluation (reward, KL, ...);
 *   - `summary.json`: whatever the run summarised;
 *   - `samples.jsonl` / `round-N/samples.jsonl`: the first few records;
 *   - the settings: `training_args.json` of the folder, else of its newest checkpoint.
 *
 * @example
 * const data = readRunData("runs/demo");
 * data.train.map((e) => e.loss); // [8.9, 7.7, ...]
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { basename, join, relative } from "node:path";
import { findLatestCheckpoint } from "../../train/checkpoint-dir.js";

/** One metrics line: numbers (null where not finite), keyed as in metrics.jsonl. */
export type MetricsEntry = Record<string, number | null>;

/** One round's evaluation (`round-N/eval.json`). */
export interface RoundEval {
  round: number;
  metrics: MetricsEntry;
}

/** A record of a samples file, reduced to what the report shows. */
export interface SampleRecord {
  query: string;
  responses: string[];
  scores: (number | null)[] | null;
}

/** The first records of one samples file. */
export interface SampleGroup {
  /** Path relative to the run folder, e.g. `round-1/samples.jsonl`. */
  source: string;
  records: SampleRecord[];
  /** Records in the file (the report shows only `records`). */
  total: number;
}

/** Everything the report shows; any part may be empty. */
export interface RunReportData {
  runDir: string;
  train: MetricsEntry[];
  eval: MetricsEntry[];
  rounds: RoundEval[];
  summary: unknown;
  samples: SampleGroup[];
  settings: Record<string, unknown> | null;
  /** Where the settings came from (relative path), or null. */
  settingsSource: string | null;
  /** Files that exist but could not be read, one line each. */
  problems: string[];
}

export interface ReadRunDataOptions {
  /** Records shown per samples file (default 3). */
  samplesPerFile?: number;
}

const ROUND_DIR = /^round-(\d+)$/;
const SAMPLE_FILE = /^samples.*\.jsonl$/;

/**
 * Parses metrics.jsonl text into training and evaluation lines. Lines that
 * are not a JSON object with a numeric `step` (a torn last line of a run
 * still writing) are skipped; non-numeric values are dropped.
 */
export function parseMetricsLines(text: string): { train: MetricsEntry[]; eval: MetricsEntry[] } {
  const train: MetricsEntry[] = [];
  const evals: MetricsEntry[] = [];
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      continue;
    }
    const entry = numericEntry(parsed);
    if (entry === null || typeof entry.step !== "number") continue;
    if (Object.keys(entry).some((k) => k.startsWith("eval_"))) evals.push(entry);
    else train.push(entry);
  }
  return { train, eval: evals };
}

/** The number-or-null fields of a JSON object, or null when it is not an object. */
function numericEntry(value: unknown): MetricsEntry | null {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return null;
  const out: MetricsEntry = {};
  for (const [k, v] of Object.entries(value)) {
    if (typeof v === "number" && Number.isFinite(v)) out[k] = v;
    else if (v === null) out[k] = null;
  }
  return out;
}

function readJsonFile(file: string, problems: string[], runDir: string): unknown {
  try {
    return JSON.parse(readFileSync(file, "utf8"));
  } catch (err) {
    problems.push(`${relative(runDir, file)}: ${err instanceof Error ? err.message : String(err)}`);
    return undefined;
  }
}

/** `round-N` folders of the run, by N. */
function roundDirs(runDir: string): { round: number; dir: string }[] {
  const out: { round: number; dir: string }[] = [];
  for (const name of safeList(runDir)) {
    const m = ROUND_DIR.exec(name);
    const dir = join(runDir, name);
    if (m && isDir(dir)) out.push({ round: Number(m[1]), dir });
  }
  return out.sort((a, b) => a.round - b.round);
}

function safeList(dir: string): string[] {
  try {
    return readdirSync(dir).sort();
  } catch {
    return [];
  }
}

function isDir(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** The run's metrics: its own metrics.jsonl, else its rounds' ones in order, with steps made cumulative. */
function readMetrics(runDir: string, rounds: { dir: string }[]): { train: MetricsEntry[]; eval: MetricsEntry[] } {
  const own = join(runDir, "metrics.jsonl");
  if (existsSync(own)) return parseMetricsLines(readFileSync(own, "utf8"));
  const train: MetricsEntry[] = [];
  const evals: MetricsEntry[] = [];
  let offset = 0;
  for (const { dir } of rounds) {
    const file = [join(dir, "metrics.jsonl"), join(dir, "train", "metrics.jsonl")].find((f) => existsSync(f));
    if (file === undefined) continue;
    const part = parseMetricsLines(readFileSync(file, "utf8"));
    const shift = (e: MetricsEntry): MetricsEntry => ({ ...e, step: (e.step ?? 0) + offset });
    train.push(...part.train.map(shift));
    evals.push(...part.eval.map(shift));
    offset = Math.max(offset, ...train.map((e) => e.step ?? 0), ...evals.map((e) => e.step ?? 0));
  }
  return { train, eval: evals };
}

function readRounds(runDir: string, rounds: { round: number; dir: string }[], problems: string[]): RoundEval[] {
  const out: RoundEval[] = [];
  for (const { round, dir } of rounds) {
    const file = join(dir, "eval.json");
    if (!existsSync(file)) continue;
    const metrics = numericEntry(readJsonFile(file, problems, runDir));
    if (metrics !== null) out.push({ round, metrics });
  }
  return out;
}

function text(value: unknown): string {
  return typeof value === "string" ? value : JSON.stringify(value ?? null);
}

/** A samples line as the report shows it: a query (or the last message), its responses and scores. */
function sampleRecord(value: unknown): SampleRecord | null {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return null;
  const r = value as Record<string, unknown>;
  let query = r.query ?? r.prompt;
  if (query === undefined && Array.isArray(r.messages)) {
    const last = r.messages[r.messages.length - 1] as { content?: unknown } | undefined;
    query = last?.content;
  }
  const responses = Array.isArray(r.responses) ? r.responses.map(text) : [];
  const scores = Array.isArray(r.scores) ? r.scores.map((s) => (typeof s === "number" && Number.isFinite(s) ? s : null)) : null;
  return { query: text(query ?? ""), responses, scores };
}

function readSampleFile(runDir: string, file: string, limit: number): SampleGroup {
  const records: SampleRecord[] = [];
  let total = 0;
  for (const line of readFileSync(file, "utf8").split("\n")) {
    if (line.trim() === "") continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      continue; // a torn last line of a file being written
    }
    const record = sampleRecord(parsed);
    if (record === null) continue;
    total++;
    if (records.length < limit) records.push(record);
  }
  return { source: relative(runDir, file), records, total };
}

function readSamples(runDir: string, rounds: { dir: string }[], limit: number): SampleGroup[] {
  const files: string[] = [];
  for (const dir of [runDir, ...rounds.map((r) => r.dir)]) {
    for (const name of safeList(dir)) if (SAMPLE_FILE.test(name)) files.push(join(dir, name));
  }
  return files.map((f) => readSampleFile(runDir, f, limit)).filter((g) => g.total > 0);
}

function readSettings(runDir: string, problems: string[]): { settings: Record<string, unknown> | null; source: string | null } {
  const candidates = [runDir];
  const latest = findLatestCheckpoint(runDir);
  if (latest !== null) candidates.push(latest);
  for (const dir of candidates) {
    const file = join(dir, "training_args.json");
    if (!existsSync(file)) continue;
    const value = readJsonFile(file, problems, runDir);
    if (typeof value === "object" && value !== null && !Array.isArray(value))
      return { settings: value as Record<string, unknown>, source: relative(runDir, file) };
  }
  return { settings: null, source: null };
}

/** Reads everything a report of `runDir` shows (see the file comment); missing files are simply absent parts. */
export function readRunData(runDir: string, options: ReadRunDataOptions = {}): RunReportData {
  const problems: string[] = [];
  const rounds = roundDirs(runDir);
  const metrics = readMetrics(runDir, rounds);
  const summaryFile = join(runDir, "summary.json");
  const summary = existsSync(summaryFile) ? readJsonFile(summaryFile, problems, runDir) : undefined;
  const { settings, source } = readSettings(runDir, problems);
  return {
    runDir,
    train: metrics.train,
    eval: metrics.eval,
    rounds: readRounds(runDir, rounds, problems),
    summary: summary ?? null,
    samples: readSamples(runDir, rounds, options.samplesPerFile ?? 3),
    settings,
    settingsSource: source,
    problems,
  };
}

/** True when `data` holds nothing at all to show (not a run folder, or a run that wrote nothing yet). */
export function isEmptyRun(data: RunReportData): boolean {
  return (
    data.train.length === 0 &&
    data.eval.length === 0 &&
    data.rounds.length === 0 &&
    data.summary === null &&
    data.samples.length === 0 &&
    data.settings === null
  );
}

/** A title for the report: the run folder's name. */
export function runTitle(runDir: string): string {
  return basename(runDir.replace(/\/+$/, "")) || runDir;
}
