/**
 * The report's charts as plain data (one shared x axis, one array per
 * series, null where a series has no point), built from the run's metrics.
 * A series with no value at all is left out, and a chart with no series
 * left is not drawn: an `sft` run logs only `loss`, a run without
 * `--eval-data` has no eval lines, a plain `train` run has no rounds.
 *
 * @example
 * const charts = buildCharts(readRunData("runs/demo"));
 * charts.map((c) => c.id); // ["loss", "ranking-accuracy", "margin", "learning-rate", "grad-norm"]
 */
import type { MetricsEntry, RunReportData } from "./run-data.js";

export interface ChartSeries {
  label: string;
  values: (number | null)[];
  /** Drawn dashed (evaluation series beside their training twin). */
  dashed: boolean;
}

export interface ChartData {
  id: string;
  title: string;
  xLabel: string;
  x: number[];
  series: ChartSeries[];
}

interface SeriesSpec {
  key: string;
  label: string;
  source: "train" | "eval" | "round";
}

interface ChartSpec {
  id: string;
  title: string;
  series: SeriesSpec[];
}

const train = (key: string, label: string): SeriesSpec => ({ key, label, source: "train" });
const evaluation = (key: string, label: string): SeriesSpec => ({ key, label, source: "eval" });
const round = (key: string, label: string): SeriesSpec => ({ key, label, source: "round" });

/** Charts over training steps (metrics.jsonl). */
const STEP_CHARTS: ChartSpec[] = [
  {
    id: "loss",
    title: "Loss",
    series: [
      train("loss", "loss"),
      train("rank_loss", "rank loss"),
      train("sft_loss", "SFT loss"),
      evaluation("eval_loss", "eval loss"),
      evaluation("eval_rank_loss", "eval rank loss"),
      evaluation("eval_sft_loss", "eval SFT loss"),
    ],
  },
  {
    id: "ranking-accuracy",
    title: "Ranking accuracy",
    series: [train("ranking_accuracy", "ranking accuracy"), evaluation("eval_ranking_accuracy", "eval ranking accuracy")],
  },
  { id: "margin", title: "Margin", series: [train("margin", "margin"), evaluation("eval_margin", "eval margin")] },
  { id: "learning-rate", title: "Learning rate", series: [train("learning_rate", "learning rate")] },
  { id: "grad-norm", title: "Gradient norm", series: [train("grad_norm", "gradient norm")] },
];

/** Charts over rounds (round-N/eval.json). */
const ROUND_CHARTS: ChartSpec[] = [
  { id: "reward", title: "Reward per round", series: [round("reward_mean", "mean reward"), round("reward_median", "median reward")] },
  { id: "round-kl", title: "KL to the start model per round", series: [round("kl", "KL")] },
  { id: "round-ranking-accuracy", title: "Ranking accuracy per round", series: [round("ranking_accuracy", "ranking accuracy")] },
  { id: "round-perplexity", title: "Perplexity per round", series: [round("perplexity", "perplexity")] },
];

/** The sorted union of the x values of `rows`. */
function xAxis(rows: { x: number }[]): number[] {
  return [...new Set(rows.map((r) => r.x))].sort((a, b) => a - b);
}

/** One value per x (the last row at that x wins, as a resumed run's rewritten line would). */
function column(rows: { x: number; entry: MetricsEntry }[], xs: number[], key: string): (number | null)[] {
  const at = new Map<number, number | null>();
  for (const r of rows) if (key in r.entry) at.set(r.x, r.entry[key]);
  return xs.map((x) => at.get(x) ?? null);
}

function build(
  spec: ChartSpec,
  xLabel: string,
  rowsOf: (s: SeriesSpec["source"]) => { x: number; entry: MetricsEntry }[],
): ChartData | null {
  const used = spec.series.filter((s) => rowsOf(s.source).some((r) => typeof r.entry[s.key] === "number"));
  if (used.length === 0) return null;
  const x = xAxis(used.flatMap((s) => rowsOf(s.source)));
  const series = used.map((s) => ({ label: s.label, values: column(rowsOf(s.source), x, s.key), dashed: s.source === "eval" }));
  return { id: spec.id, title: spec.title, xLabel, x, series };
}

/** Every chart `data` has something to draw for, step charts first, then round charts. */
export function buildCharts(data: RunReportData): ChartData[] {
  const byStep = (entries: MetricsEntry[]) =>
    entries.filter((e) => typeof e.step === "number").map((e) => ({ x: e.step as number, entry: e }));
  const trainRows = byStep(data.train);
  const evalRows = byStep(data.eval);
  const roundRows = data.rounds.map((r) => ({ x: r.round, entry: r.metrics }));
  const rowsOf = (s: SeriesSpec["source"]) => (s === "train" ? trainRows : s === "eval" ? evalRows : roundRows);
  const charts = [...STEP_CHARTS.map((c) => build(c, "step", rowsOf)), ...ROUND_CHARTS.map((c) => build(c, "round", rowsOf))];
  return charts.filter((c): c is ChartData => c !== null);
}
