/**
 * What the run report reads and draws, without a browser: metrics lines
 * (torn last line, eval lines, nulls), rounds, samples, settings, the chart
 * data (every curve optional), escaping, the atomic write.
 */
import assert from "node:assert/strict";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { UserError } from "../../src/errors.js";
import {
  buildCharts,
  escapeHtml,
  isEmptyRun,
  jsonForScript,
  parseMetricsLines,
  readRunData,
  writeRunReport,
} from "../../src/web/report/index.js";
import { tempDir } from "../helpers.js";

const jsonl = (rows: unknown[]): string => rows.map((r) => `${JSON.stringify(r)}\n`).join("");

test("parseMetricsLines splits training and eval lines, keeps nulls, and skips a torn last line", () => {
  const text =
    jsonl([
      { step: 5, epoch: 0.5, loss: 3, ranking_accuracy: null },
      { step: 5, epoch: 0.5, eval_loss: 2.5 },
      { epoch: 1, loss: 1 },
      [1, 2],
    ]) + `{"step": 10, "loss": 2.`;
  const { train, eval: evals } = parseMetricsLines(text);
  assert.deepEqual(train, [{ step: 5, epoch: 0.5, loss: 3, ranking_accuracy: null }]);
  assert.deepEqual(evals, [{ step: 5, epoch: 0.5, eval_loss: 2.5 }]);
});

test("readRunData reads rounds in numeric order, a few samples per file, the summary and the settings", () => {
  const run = tempDir("rrhf-report-data-");
  writeFileSync(join(run, "metrics.jsonl"), jsonl([{ step: 1, loss: 2 }]));
  for (const n of [10, 2, 1]) {
    mkdirSync(join(run, `round-${n}`));
    writeFileSync(join(run, `round-${n}`, "eval.json"), JSON.stringify({ reward_mean: n / 10, note: "text is dropped" }));
  }
  mkdirSync(join(run, "round-3"));
  writeFileSync(join(run, "round-3", "eval.json"), "{ broken");
  writeFileSync(
    join(run, "round-2", "samples.jsonl"),
    jsonl([1, 2, 3, 4, 5].map((i) => ({ query: `q${i}`, responses: [`a${i}`, `b${i}`], scores: [i, "x"] }))),
  );
  writeFileSync(join(run, "samples.jsonl"), jsonl([{ messages: [{ role: "user", content: "hi" }], responses: ["hello", "go away"] }]));
  writeFileSync(join(run, "summary.json"), JSON.stringify({ reward_before: 0.1, reward_after: 0.9 }));
  writeFileSync(join(run, "training_args.json"), JSON.stringify({ max_steps: 8 }));

  const data = readRunData(run, { samplesPerFile: 2 });
  assert.deepEqual(
    data.rounds.map((r) => [r.round, r.metrics.reward_mean]),
    [
      [1, 0.1],
      [2, 0.2],
      [10, 1],
    ],
  );
  assert.equal(data.rounds[0].metrics.note, undefined);
  assert.equal(data.problems.length, 1);
  assert.match(data.problems[0], /^round-3\/eval\.json: /);
  assert.deepEqual(
    data.samples.map((g) => [g.source, g.total, g.records.length]),
    [
      ["samples.jsonl", 1, 1],
      ["round-2/samples.jsonl", 5, 2],
    ],
  );
  assert.deepEqual(data.samples[0].records[0], { query: "hi", responses: ["hello", "go away"], scores: null });
  assert.deepEqual(data.samples[1].records[1].scores, [2, null]);
  assert.deepEqual(data.summary, { reward_before: 0.1, reward_after: 0.9 });
  assert.deepEqual([data.settings, data.settingsSource], [{ max_steps: 8 }, "training_args.json"]);
  assert.equal(isEmptyRun(data), false);
  assert.equal(isEmptyRun(readRunData(tempDir())), true);
});

test("a run of rounds without its own metrics.jsonl gets the rounds' training lines one after the other", () => {
  const run = tempDir("rrhf-report-rounds-");
  mkdirSync(join(run, "round-1"));
  mkdirSync(join(run, "round-2", "train"), { recursive: true });
  writeFileSync(
    join(run, "round-1", "metrics.jsonl"),
    jsonl([
      { step: 2, loss: 3 },
      { step: 4, loss: 2 },
    ]),
  );
  writeFileSync(join(run, "round-2", "train", "metrics.jsonl"), jsonl([{ step: 2, loss: 1.5 }]));
  assert.deepEqual(
    readRunData(run).train.map((e) => [e.step, e.loss]),
    [
      [2, 3],
      [4, 2],
      [6, 1.5],
    ],
  );
});

test("buildCharts draws only the curves a run has: an sft run's loss alone, eval points on the shared step axis", () => {
  const sftRun = tempDir("rrhf-report-sft-");
  writeFileSync(
    join(sftRun, "metrics.jsonl"),
    jsonl([
      { step: 1, epoch: 0.1, loss: 4 },
      { step: 2, epoch: 0.2, loss: 3 },
    ]),
  );
  const sft = buildCharts(readRunData(sftRun));
  assert.deepEqual(
    sft.map((c) => [c.id, c.series.map((s) => s.label)]),
    [["loss", ["loss"]]],
  );

  const rrhfRun = tempDir("rrhf-report-rrhf-");
  writeFileSync(
    join(rrhfRun, "metrics.jsonl"),
    jsonl([
      { step: 2, loss: 4, rank_loss: 1, sft_loss: 3, ranking_accuracy: null, margin: 0, learning_rate: 1e-3, grad_norm: 5 },
      { step: 3, eval_loss: 3.5, eval_ranking_accuracy: 0.5 },
      { step: 4, loss: 3, rank_loss: 0.5, sft_loss: 2.5, ranking_accuracy: 0.75, margin: 1, learning_rate: 5e-4, grad_norm: 4 },
    ]),
  );
  mkdirSync(join(rrhfRun, "round-0"));
  writeFileSync(join(rrhfRun, "round-0", "eval.json"), JSON.stringify({ reward_mean: 0.3, kl: 0 }));
  const charts = buildCharts(readRunData(rrhfRun));
  assert.deepEqual(
    charts.map((c) => c.id),
    ["loss", "ranking-accuracy", "margin", "learning-rate", "grad-norm", "reward", "round-kl"],
  );
  const loss = charts[0];
  assert.deepEqual(loss.x, [2, 3, 4]);
  assert.deepEqual(
    loss.series.map((s) => [s.label, s.values, s.dashed]),
    [
      ["loss", [4, null, 3], false],
      ["rank loss", [1, null, 0.5], false],
      ["SFT loss", [3, null, 2.5], false],
      ["eval loss", [null, 3.5, null], true],
    ],
  );
  assert.deepEqual(charts[1].series[0].values, [null, null, 0.75]);
  assert.deepEqual(
    charts.find((c) => c.id === "reward")?.series.map((s) => s.label),
    ["mean reward"],
  );
});

test("text from data files is escaped for HTML, and JSON cannot close its script element", () => {
  assert.equal(escapeHtml(`<a href="x">'&'</a>`), "&#60;a href=&#34;x&#34;&#62;&#39;&#38;&#39;&#60;/a&#62;");
  const json = jsonForScript({ s: "</script><!-- \u2028 & >" });
  assert.ok(!json.includes("<") && !json.includes(">") && !json.includes("&") && !json.includes("\u2028"));
  assert.deepEqual(JSON.parse(json), { s: "</script><!-- \u2028 & >" });
});

test("writeRunReport writes one self-contained page atomically, with the data's markup escaped", () => {
  const run = tempDir("rrhf-report-write-");
  const evil = `</script><script>alert(1)</script>`;
  writeFileSync(join(run, "metrics.jsonl"), jsonl([{ step: 1, loss: 2 }]));
  writeFileSync(join(run, "samples.jsonl"), jsonl([{ query: evil, responses: [evil, "ok"] }]));
  writeFileSync(join(run, "training_args.json"), JSON.stringify({ [evil]: evil }));
  const file = writeRunReport(run);
  assert.equal(file, join(run, "report.html"));
  const html = readFileSync(file, "utf8");
  assert.ok(!html.includes("alert(1)</script>"), "raw markup from the data reached the page");
  assert.ok(html.includes("&#60;/script&#62;&#60;script&#62;alert(1)"));
  assert.equal((html.match(/<script>/g) ?? []).length, 2, "uPlot and the chart script, nothing else");
  assert.ok(!/(src|href)=["']?(https?:)?\/\//.test(html), "no external resource");
  assert.deepEqual(
    readdirSync(run).filter((f) => f.includes("report")),
    ["report.html"],
    "no temp file left",
  );
  writeRunReport(run, { out: join(run, "again.html") });
  assert.throws(() => writeRunReport(join(run, "missing")), UserError);
});
