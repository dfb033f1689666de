/**
 * `rrhf sft` end to end with the real binary on the gpt2-tiny fixture:
 * the run (header, metrics without ranking keys, falling loss, final model),
 * `--save-dtype` (the published model half-size, checkpoints float32), resume
 * from a checkpoint to the same weights as a straight run, and data / flag
 * errors that name what to fix.
 */
import assert from "node:assert/strict";
import { cpSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { readSafetensorsHeader } from "../../src/io/safetensors.js";
import { loadModelFolder } from "../../src/models/hf/folder.js";
import { fixture, runRrhf, tempDir } from "../helpers.js";
import { MODEL } from "./train-base.js";

const SFT_DATA = fixture("train", "tiny-sft.jsonl");

/** `rrhf sft` on the tiny SFT fixture, writing to `out`, plus `more` flags. */
function sftArgs(out: string, ...more: string[]): string[] {
  return [
    "sft",
    "--model",
    MODEL,
    "--data",
    SFT_DATA,
    "--out",
    out,
    "--backend",
    "ref",
    "--learning-rate",
    "3e-3",
    "--per-device-train-batch-size",
    "2",
    "--max-steps",
    "6",
    "--logging-steps",
    "2",
    "--save-steps",
    "3",
    ...more,
  ];
}

const metrics = (dir: string): Record<string, number | null>[] =>
  readFileSync(join(dir, "metrics.jsonl"), "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as Record<string, number | null>);

test("rrhf sft trains on {query, response} and {text} records: SFT header, loss falls, no ranking metrics, bf16 model, f32 checkpoints", () => {
  const out = join(tempDir(), "run");
  const r = runRrhf(sftArgs(out, "--save-dtype", "bfloat16"));
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^rrhf sft: /);
  assert.match(r.stdout, /loss {8}sft: mean token NLL/);
  assert.match(r.stdout, /model saved as bfloat16/);
  assert.doesNotMatch(r.stdout, /ranking_accuracy|rank_loss|margin/);
  const lines = metrics(out);
  assert.deepEqual(
    lines.map((l) => l.step),
    [2, 4, 6],
  );
  for (const l of lines) {
    assert.deepEqual(
      Object.keys(l).filter((k) => /rank|margin/.test(k)),
      [],
      "SFT lines carry no ranking keys",
    );
    assert.equal(l.sft_loss, l.loss);
  }
  assert.ok((lines[2].loss ?? Infinity) < (lines[0].loss ?? -Infinity) - 1, `loss falls: ${lines.map((l) => l.loss).join(", ")}`);
  assert.equal(readSafetensorsHeader(join(out, "model.safetensors")).tensors[0].dtype, "BF16");
  assert.equal(readSafetensorsHeader(join(out, "checkpoint-3", "model.safetensors")).tensors[0].dtype, "F32");
  const args = JSON.parse(readFileSync(join(out, "checkpoint-3", "training_args.json"), "utf8")) as Record<string, unknown>;
  assert.equal(args.objective, "sft");
  assert.equal(args.save_dtype, "bfloat16");
  assert.equal(loadModelFolder(out).params.size, loadModelFolder(MODEL).params.size);

  // Resuming from checkpoint-3 (float32, optimizer state) reaches the straight run's final weights exactly.
  const resumed = join(tempDir(), "resumed");
  cpSync(join(out, "checkpoint-3"), join(resumed, "checkpoint-3"), { recursive: true });
  const r2 = runRrhf(["sft", "--out", resumed, "--resume-from-checkpoint", "latest"]);
  assert.equal(r2.code, 0, r2.stderr);
  assert.match(r2.stdout, /resumed {5}from .*checkpoint-3 at step 3/);
  assert.deepEqual(readFileSync(join(resumed, "model.safetensors")), readFileSync(join(out, "model.safetensors")));
  assert.deepEqual(
    metrics(resumed).map((l) => [l.step, l.loss]),
    lines.filter((l) => (l.step ?? 0) > 3).map((l) => [l.step, l.loss]),
  );
});

test("rrhf sft names the file, line and field of a bad record, and points RRHF data to rrhf train", () => {
  const dir = tempDir();
  const bad = join(dir, "bad.jsonl");
  writeFileSync(bad, '{"query": "Hi", "response": " Hello."}\n{"query": "Hi"}\n');
  const r = runRrhf(["sft", "--model", MODEL, "--data", bad, "--out", join(dir, "o1"), "--backend", "ref"]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /bad\.jsonl:2: response: required field is missing/);
  const both = join(dir, "both.jsonl");
  writeFileSync(both, '{"text": "Hi", "query": "x", "response": "y"}\n');
  const r2 = runRrhf(["sft", "--model", MODEL, "--data", both, "--out", join(dir, "o2"), "--backend", "ref"]);
  assert.match(r2.stderr, /both\.jsonl:1: query: a record has either text or query \+ response, not both/);
  const r3 = runRrhf([
    "sft",
    "--model",
    MODEL,
    "--data",
    fixture("train", "tiny-train.jsonl"),
    "--out",
    join(dir, "o3"),
    "--backend",
    "ref",
  ]);
  assert.equal(r3.code, 1);
  assert.match(
    r3.stderr,
    /tiny-train\.jsonl:1: -: an SFT record needs query \+ response, or text \(this looks like RRHF data: train it with rrhf train\)/,
  );
});

test("rrhf sft has no RRHF flags, and refuses RRHF keys in its config file", () => {
  const dir = tempDir();
  const r = runRrhf(["sft", "--model", MODEL, "--data", SFT_DATA, "--out", join(dir, "o"), "--rrhf-weight", "2"]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /unknown option '--rrhf-weight'/);
  const help = runRrhf(["sft", "--help"]);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /--save-dtype <dtype>/);
  assert.doesNotMatch(help.stdout, /--length-penalty|--compat|--objective/);
  const config = join(dir, "sft.yaml");
  writeFileSync(config, "length_penalty: 2\n");
  const r2 = runRrhf(["sft", "--config", config, "--model", MODEL, "--data", SFT_DATA, "--out", join(dir, "o")]);
  assert.equal(r2.code, 1);
  assert.match(r2.stderr, /sft\.yaml: length_penalty: is a setting of rrhf train, not of rrhf sft/);
});
