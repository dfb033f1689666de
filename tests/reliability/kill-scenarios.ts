/**
 * The commands the crash-safety harness kills (tests/reliability/kill-harness.ts),
 * each with what must hold after a SIGKILL:
 *
 * - `train`: every `checkpoint-N` folder is complete (temp folders are hidden
 *   names); a final model folder with config.json loads; metrics.jsonl holds
 *   whole lines; at most one checkpoint interval of logged steps lies beyond
 *   the newest checkpoint. Resumed with `--resume-from-checkpoint latest`, the
 *   run ends with the uninterrupted run's weights and metric values.
 * - `sample`: the output holds only whole JSON lines (a rerun resumes after
 *   them); the finished file equals the uninterrupted one byte for byte
 *   (seeded sampling, one seed per batch).
 * - `score`: OUT is absent or complete; OUT.partial holds whole lines; the
 *   finished OUT equals the uninterrupted one.
 */
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadModelFolder } from "../../src/models/hf/folder.js";
import { isCompleteCheckpoint } from "../../src/train/checkpoint.js";
import { findLatestCheckpoint } from "../../src/train/checkpoint-dir.js";
import { fixture } from "../helpers.js";
import type { KillScenario } from "./kill-harness.js";

const MODEL = fixture("models", "gpt2-tiny");
const SAVE_STEPS = 2;

/** Empties `dir` (creating it), so a scenario starts from nothing but its inputs. */
function fresh(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
}

/** Lines in a file (0 when it does not exist). */
function lineCount(file: string): number {
  return existsSync(file)
    ? readFileSync(file, "utf8")
        .split("\n")
        .filter((l) => l !== "").length
    : 0;
}

/** The whole lines of a JSONL file, asserting there is no torn last line and every line parses. */
function wholeJsonLines(file: string): unknown[] {
  const text = readFileSync(file, "utf8");
  assert.ok(text === "" || text.endsWith("\n"), `${file} ends in a torn line: ${JSON.stringify(text.slice(-80))}`);
  return text
    .split("\n")
    .filter((l) => l !== "")
    .map((l, i) => {
      try {
        return JSON.parse(l) as unknown;
      } catch {
        throw new Error(`${file}:${i + 1} is not a whole JSON line`);
      }
    });
}

const METRICS_COMPARED = ["step", "epoch", "loss", "rank_loss", "sft_loss", "margin", "grad_norm", "ranking_accuracy", "learning_rate"];

/** metrics.jsonl without the wall-clock keys (tokens/s differ from run to run). */
function comparableMetrics(file: string): Buffer {
  const lines = wholeJsonLines(file) as Record<string, unknown>[];
  return Buffer.from(JSON.stringify(lines.map((l) => METRICS_COMPARED.map((k) => l[k]))));
}

function trainArgs(out: string, command: "train" | "sft" = "train"): string[] {
  return [
    command,
    "--model",
    MODEL,
    "--data",
    fixture("train", command === "sft" ? "tiny-sft.jsonl" : "tiny-train.jsonl"),
    "--out",
    out,
    "--backend",
    "ref",
    "--learning-rate",
    "3e-3",
    "--model-max-length",
    "64",
    "--max-steps",
    "12",
    "--save-steps",
    String(SAVE_STEPS),
    "--logging-steps",
    "1",
    "--lr-scheduler-type",
    "constant",
  ];
}

/** `train` or `sft`: the same trainer, checkpoints and resume. */
function trainerScenario(command: "train" | "sft"): KillScenario {
  return {
    name: command,
    prepare: fresh,
    args(dir, resumed) {
      const out = join(dir, "out");
      const latest = resumed ? findLatestCheckpoint(out) : null;
      return latest === null ? trainArgs(out, command) : [...trainArgs(out, command), "--resume-from-checkpoint", "latest"];
    },
    checkAfterKill(dir) {
      const out = join(dir, "out");
      if (!existsSync(out)) return;
      for (const name of readdirSync(out)) {
        if (/^checkpoint-\d+$/.test(name)) assert.ok(isCompleteCheckpoint(join(out, name)), `${name} is incomplete`);
      }
      if (existsSync(join(out, "config.json"))) loadModelFolder(out); // throws when the final model is torn
      if (!existsSync(join(out, "metrics.jsonl"))) return;
      const logged = (wholeJsonLines(join(out, "metrics.jsonl")) as { step: number }[]).map((l) => l.step);
      const last = logged.length === 0 ? 0 : logged[logged.length - 1];
      const latest = findLatestCheckpoint(out);
      const saved = latest === null ? 0 : Number(/checkpoint-(\d+)$/.exec(latest)?.[1]);
      assert.ok(last - saved <= SAVE_STEPS, `step ${last} was logged but the newest checkpoint is step ${saved}`);
    },
    progress: (dir) => lineCount(join(dir, "out", "metrics.jsonl")),
    result(dir) {
      const out = join(dir, "out");
      return { "model.safetensors": readFileSync(join(out, "model.safetensors")), metrics: comparableMetrics(join(out, "metrics.jsonl")) };
    },
  };
}

export const trainScenario = trainerScenario("train");
export const sftScenario = trainerScenario("sft");

const ITERATE_FILES = ["samples.jsonl", "scored.jsonl", "metrics.jsonl"];

/** `iterate`: 2 rounds on gpt2-tiny with a rule scorer; every stage's file is whole or absent. */
export const iterateScenario: KillScenario = {
  name: "iterate",
  prepare: fresh,
  args: (dir) => [
    "iterate",
    "--model",
    MODEL,
    "--prompts",
    fixture("score", "prompts.jsonl"),
    "--scorer",
    "rule:length",
    "--out",
    join(dir, "out"),
    "--rounds",
    "2",
    "--max-new-tokens",
    "6",
    "--max-steps",
    "4",
    "--save-steps",
    "2",
    "--learning-rate",
    "1e-3",
    "--backend",
    "ref",
    "--model-max-length",
    "64",
  ],
  checkAfterKill(dir) {
    const out = join(dir, "out");
    for (const round of ["round-0", "round-1", "round-2"]) {
      for (const f of ITERATE_FILES) if (existsSync(join(out, round, f))) wholeJsonLines(join(out, round, f));
      if (existsSync(join(out, round, "eval.json"))) JSON.parse(readFileSync(join(out, round, "eval.json"), "utf8"));
      if (existsSync(join(out, round, "model", "config.json"))) loadModelFolder(join(out, round, "model"));
    }
    if (existsSync(join(out, "summary.json"))) JSON.parse(readFileSync(join(out, "summary.json"), "utf8"));
  },
  progress: (dir) =>
    ["round-0/eval.json", "round-1/samples.jsonl", "round-1/scored.jsonl", "round-1/model/config.json", "round-1/eval.json"]
      .concat(["round-2/samples.jsonl", "round-2/scored.jsonl", "round-2/model/config.json", "round-2/eval.json", "summary.json"])
      .filter((f) => existsSync(join(dir, "out", f))).length,
  result: (dir) => ({
    "summary.json": readFileSync(join(dir, "out", "summary.json")),
    "round-2 model": readFileSync(join(dir, "out", "round-2", "model", "model.safetensors")),
    "round-2 samples": readFileSync(join(dir, "out", "round-2", "samples.jsonl")),
  }),
};

const PROMPTS = Array.from({ length: 24 }, (_, i) => ({ query: `Question ${i}: what comes after ${i}?` }));

export const sampleScenario: KillScenario = {
  name: "sample",
  prepare(dir) {
    fresh(dir);
    writeFileSync(join(dir, "prompts.jsonl"), PROMPTS.map((p) => `${JSON.stringify(p)}\n`).join(""));
  },
  args(dir) {
    return [
      "sample",
      "--model",
      MODEL,
      "--prompts",
      join(dir, "prompts.jsonl"),
      "--out",
      join(dir, "samples.jsonl"),
      "--backend",
      "ref",
      "--strategy",
      "sample",
      "-k",
      "2",
      "--max-new-tokens",
      "24",
      "--prompts-per-batch",
      "2",
      "--seed",
      "7",
    ];
  },
  checkAfterKill(dir) {
    const out = join(dir, "samples.jsonl");
    if (existsSync(out)) wholeJsonLines(out);
  },
  progress: (dir) => lineCount(join(dir, "samples.jsonl")),
  result: (dir) => ({ "samples.jsonl": readFileSync(join(dir, "samples.jsonl")) }),
};

const SCORED_IN = Array.from({ length: 200 }, (_, i) => ({
  query: `Question ${i}`,
  responses: ["a", "a b", "a b c".repeat((i % 3) + 1)],
}));

/** A command scorer that takes 5 ms per record (words per response), so kills can land between records. */
const SLOW_JUDGE = `import { createInterface } from "node:readline";
createInterface({ input: process.stdin }).on("line", (line) => {
  const scores = JSON.parse(line).responses.map((r) => r.split(" ").length);
  setTimeout(() => process.stdout.write(JSON.stringify({ scores }) + "\\n"), 5);
});
`;

export const scoreScenario: KillScenario = {
  name: "score",
  prepare(dir) {
    fresh(dir);
    writeFileSync(join(dir, "in.jsonl"), SCORED_IN.map((r) => `${JSON.stringify(r)}\n`).join(""));
    writeFileSync(join(dir, "judge.mjs"), SLOW_JUDGE);
  },
  args(dir) {
    const judge = join(dir, "judge.mjs");
    return [
      "score",
      "--in",
      join(dir, "in.jsonl"),
      "--out",
      join(dir, "scored.jsonl"),
      "--scorer",
      `cmd:${process.execPath} ${judge}`,
      "--batch-size",
      "1",
    ];
  },
  checkAfterKill(dir) {
    const out = join(dir, "scored.jsonl");
    if (existsSync(out)) assert.equal(wholeJsonLines(out).length, SCORED_IN.length, "OUT exists but is not complete");
    if (existsSync(`${out}.partial`)) wholeJsonLines(`${out}.partial`);
  },
  progress: (dir) => Math.max(lineCount(join(dir, "scored.jsonl.partial")), lineCount(join(dir, "scored.jsonl"))),
  result: (dir) => ({ "scored.jsonl": readFileSync(join(dir, "scored.jsonl")) }),
};

/** Every scenario, by name (the CLI runner's --command). */
export const KILL_SCENARIOS: Record<string, KillScenario> = {
  train: trainScenario,
  sft: sftScenario,
  sample: sampleScenario,
  score: scoreScenario,
  iterate: iterateScenario,
};
