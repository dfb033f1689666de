import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { Command } from "commander";
import { UserError } from "../../src/errors.js";
import { BACKEND_NAMES } from "../../src/kernels/select.js";
import { parseRrhfConfig } from "../../src/rrhf/config.js";
import { addTrainOptions, flagFor, trainInputFromOptions } from "../../src/train/config-cli.js";
import {
  effectiveEvalSteps,
  loadTrainConfigFile,
  resolveTrainConfig,
  rrhfConfigFromTrainConfig,
  TRAIN_DEFAULTS,
  TRAIN_FIELD_HELP,
  type TrainFieldName,
  validateTrainConfig,
} from "../../src/train/config.js";
import { TRAIN_FIELD_SCHEMAS } from "../../src/train/config-fields.js";
import { tempDir } from "../helpers.js";

const required = { model: "m", data: "d.jsonl", output_dir: "out" };

test("defaults follow HF TrainingArguments (and the paper's learning rate)", () => {
  const c = validateTrainConfig(required);
  assert.equal(c.learning_rate, 2e-5);
  assert.equal(c.num_train_epochs, 3);
  assert.equal(c.max_steps, -1);
  assert.equal(c.adam_beta1, 0.9);
  assert.equal(c.adam_beta2, 0.999);
  assert.equal(c.adam_epsilon, 1e-8);
  assert.equal(c.weight_decay, 0);
  assert.equal(c.warmup_ratio, 0);
  assert.equal(c.warmup_steps, 0);
  assert.equal(c.logging_steps, 500);
  assert.equal(c.save_steps, 500);
  assert.equal(c.save_total_limit, null);
  assert.equal(c.seed, 42);
  assert.equal(c.max_grad_norm, 1.0);
  assert.equal(c.lr_scheduler_type, "linear");
  assert.equal(c.optim, "adamw");
  assert.equal(c.gradient_accumulation_steps, 1);
  assert.equal(c.rrhf_weight, 1);
  assert.equal(c.compat, "none");
  assert.equal(effectiveEvalSteps(c), 500);
});

test("every field has help and a CLI kind that its schema accepts", () => {
  const sample = { string: "x", number: 0.5, int: 3, boolean: true } as const;
  for (const field of Object.keys(TRAIN_FIELD_SCHEMAS) as TrainFieldName[]) {
    const h = TRAIN_FIELD_HELP[field];
    assert.ok(h.help.length > 10, field);
    const value = h.kind === "choice" ? h.choices?.[0] : sample[h.kind];
    assert.ok(TRAIN_FIELD_SCHEMAS[field].safeParse(value).success, `${field} (${h.kind}) rejects ${String(value)}`);
    if (field in TRAIN_DEFAULTS) {
      assert.ok(TRAIN_FIELD_SCHEMAS[field].safeParse((TRAIN_DEFAULTS as Record<string, unknown>)[field]).success, `default of ${field}`);
    }
  }
  assert.deepEqual(TRAIN_FIELD_HELP.backend.choices, BACKEND_NAMES);
  assert.deepEqual([...TRAIN_FIELD_SCHEMAS.backend.options].sort(), [...BACKEND_NAMES].sort());
});

test("missing required fields and bad values are reported together, by field", () => {
  assert.throws(() => validateTrainConfig({ data: "d" }), (e: unknown) => e instanceof UserError && /model: required/.test(e.message) && /output_dir: required/.test(e.message));
  assert.throws(
    () => validateTrainConfig({ ...required, learning_rate: -1, max_steps: 0, optim: "lamb", warmup_ratio: 2 }),
    (e: unknown) =>
      e instanceof UserError &&
      /learning_rate: /.test(e.message) &&
      /max_steps: must be -1/.test(e.message) &&
      /optim: /.test(e.message) &&
      /warmup_ratio: /.test(e.message),
  );
});

test("cross-field checks: exclusive subsets, compat batch size, eval_steps without eval_data", () => {
  assert.throws(() => validateTrainConfig({ ...required, only_use_provide: true, only_use_sample: true }), /exclude each other/);
  assert.throws(() => validateTrainConfig({ ...required, compat: "official", per_device_train_batch_size: 2 }), /one query per device batch/);
  assert.equal(validateTrainConfig({ ...required, compat: "official" }).compat, "official");
  assert.throws(() => validateTrainConfig({ ...required, eval_steps: 10 }), /eval_steps: is set but there is no eval_data/);
  assert.equal(effectiveEvalSteps(validateTrainConfig({ ...required, eval_data: "e.jsonl", eval_steps: 10 })), 10);
});

test("YAML and JSON config files load; unknown keys are named with a suggestion", () => {
  const dir = tempDir();
  const yaml = join(dir, "train.yaml");
  writeFileSync(yaml, "model: gpt2\nlearning_rate: 1.0e-5\nlr_scheduler_type: cosine\nwarmup_ratio: 0.03\nsave_total_limit: 2\n");
  assert.deepEqual(loadTrainConfigFile(yaml), { model: "gpt2", learning_rate: 1e-5, lr_scheduler_type: "cosine", warmup_ratio: 0.03, save_total_limit: 2 });
  const json = join(dir, "train.json");
  writeFileSync(json, JSON.stringify({ optim: "adafactor", seed: 7 }));
  assert.deepEqual(loadTrainConfigFile(json), { optim: "adafactor", seed: 7 });

  const bad = join(dir, "bad.yml");
  writeFileSync(bad, "learning-rate: 1e-5\nlerning_rate: 2\nfoo: 1\n");
  assert.throws(
    () => loadTrainConfigFile(bad),
    (e: unknown) =>
      e instanceof UserError &&
      e.message.includes("bad.yml: learning-rate: unknown setting (did you mean learning_rate?)") &&
      e.message.includes("lerning_rate: unknown setting (did you mean learning_rate?)") &&
      /foo: unknown setting$/m.test(e.message),
  );
});

test("config files with wrong types, bad syntax or another extension are user errors", () => {
  const dir = tempDir();
  const f = (name: string, text: string): string => {
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  };
  assert.throws(() => loadTrainConfigFile(f("t.yaml", "seed: forty-two\n")), /t\.yaml: seed: /);
  assert.throws(() => loadTrainConfigFile(f("s.yaml", "seed: [1,\n")), /s\.yaml(:\d+)?: invalid YAML/);
  assert.throws(() => loadTrainConfigFile(f("j.json", "{")), /j\.json: invalid JSON/);
  assert.throws(() => loadTrainConfigFile(f("l.yaml", "- 1\n- 2\n")), /must be a mapping/);
  assert.throws(() => loadTrainConfigFile(f("c.toml", "a = 1")), /must end in .json, .yaml or .yml/);
  assert.throws(() => loadTrainConfigFile(join(dir, "none.yaml")), /cannot read config file \(ENOENT\)/);
  assert.deepEqual(loadTrainConfigFile(f("empty.yaml", "")), {});
});

/** Parses argv with the train flags on a bare command, as the future `rrhf train` will. */
function parseFlags(argv: string[]): Record<string, unknown> {
  const cmd = addTrainOptions(new Command("train")).exitOverride().configureOutput({ writeErr: () => undefined, writeOut: () => undefined });
  cmd.parse(argv, { from: "user" });
  return cmd.opts();
}

test("flags override the config file, which overrides the defaults", () => {
  const dir = tempDir();
  const file = join(dir, "train.yaml");
  writeFileSync(file, "model: from-file\ndata: d.jsonl\nlearning_rate: 1.0e-5\nseed: 7\nonly_use_sample: true\n");
  const opts = parseFlags([
    "--config", file, "--model", "from-flag", "--out", "o", "--learning-rate", "3e-5", "--lr-scheduler-type", "cosine",
    "--no-only-use-sample", "--gradient-checkpointing", "--save-total-limit", "3",
  ]);
  const c = resolveTrainConfig(trainInputFromOptions(opts));
  assert.equal(c.model, "from-flag");
  assert.equal(c.data, "d.jsonl");
  assert.equal(c.output_dir, "o");
  assert.equal(c.learning_rate, 3e-5);
  assert.equal(c.seed, 7); // file value, no flag given
  assert.equal(c.lr_scheduler_type, "cosine");
  assert.equal(c.only_use_sample, false);
  assert.equal(c.gradient_checkpointing, true);
  assert.equal(c.save_total_limit, 3);
  assert.equal(c.weight_decay, 0); // default
});

test("bad flag values are usage errors from commander", () => {
  assert.throws(() => parseFlags(["--learning-rate", "fast"]), /not a number/);
  assert.throws(() => parseFlags(["--max-steps", "1.5"]), /not an integer/);
  assert.throws(() => parseFlags(["--optim", "lamb"]), /Allowed choices are adamw, adafactor, sgd/);
  assert.throws(() => parseFlags(["--learning-rate", ""]), /not a number/);
});

test("--help lists every field's flag with its default", () => {
  const cmd = addTrainOptions(new Command("train"));
  const help = cmd.helpInformation();
  for (const field of Object.keys(TRAIN_FIELD_HELP) as TrainFieldName[]) assert.ok(help.includes(flagFor(field)), flagFor(field));
  assert.match(help, /--learning-rate <lr>\s+Peak learning rate.*\(default: 2e-5\)/s);
  assert.match(help, /--out <dir>.*\(required\)/s);
  assert.match(help, /--config <file>/);
  assert.match(help, /--optim <name>.*\(default: adamw\) \(choices: "adamw", "adafactor", "sgd"\)/s);
});

test("the RRHF part of the config converts to the loss module's config", () => {
  const c = validateTrainConfig({ ...required, rrhf_weight: 100, length_penalty: 1.5, compat: "official", only_use_provide: true });
  const r = rrhfConfigFromTrainConfig(c);
  assert.deepEqual(parseRrhfConfig(r), { lengthPenalty: 1.5, rrhfWeight: 100, compat: "official", onlyUseProvide: true, onlyUseSample: false });
});
