import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { Command, CommanderError, Option } from "commander";
import { addSettingOptions, INVALID_SETTING, settingsFromOptions } from "../../src/cli/flags.js";
import { UserError } from "../../src/errors.js";
import { BACKEND_NAMES } from "../../src/kernels/select.js";
import { FORWARD_LAYOUTS } from "../../src/models/causal-lm.js";
import { resolveLossOptions } from "../../src/rrhf/options.js";
import { flagOf, isRequired, settingProblem, type SettingSpec } from "../../src/settings/index.js";
import {
  effectiveEvalSteps,
  loadTrainConfigFile,
  resolveTrainConfig,
  TRAIN_SETTINGS,
  validateTrainConfig,
} from "../../src/train/config.js";
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
  assert.equal(c.compat, "paper");
  assert.equal(c.model_max_length, 512);
  assert.equal(c.max_query_share, 0.5);
  assert.equal(effectiveEvalSteps(c), 500);
});

test("every setting has help, and its default passes its own rule", () => {
  for (const [name, spec] of Object.entries(TRAIN_SETTINGS) as [string, SettingSpec<unknown>][]) {
    assert.ok(spec.help.length > 10, name);
    if (!isRequired(spec)) assert.equal(settingProblem(spec, spec.default), null, `default of ${name}`);
  }
  assert.deepEqual(TRAIN_SETTINGS.backend.rule.choices, BACKEND_NAMES);
  assert.deepEqual(TRAIN_SETTINGS.layout.rule.choices, FORWARD_LAYOUTS);
  assert.deepEqual(TRAIN_SETTINGS.compat.rule.choices, ["paper", "official"]);
});

test("missing required fields and bad values are reported together, by field", () => {
  assert.throws(
    () => validateTrainConfig({ data: "d" }),
    (e: unknown) => e instanceof UserError && /model: required/.test(e.message) && /output_dir: required/.test(e.message),
  );
  assert.throws(
    () => validateTrainConfig({ ...required, learning_rate: -1, max_steps: 0, optim: "lamb", warmup_ratio: 2 }),
    (e: unknown) =>
      e instanceof UserError &&
      /learning_rate: must be > 0$/m.test(e.message) &&
      /max_steps: must be -1 \(use num_train_epochs\) or an integer >= 1$/m.test(e.message) &&
      /optim: must be one of adamw, adafactor, sgd$/m.test(e.message) &&
      /warmup_ratio: must be from 0 to 1$/m.test(e.message),
  );
});

test("cross-field checks: exclusive subsets, compat batch size, eval_steps without eval_data", () => {
  assert.throws(() => validateTrainConfig({ ...required, only_use_provide: true, only_use_sample: true }), /exclude each other/);
  assert.throws(
    () => validateTrainConfig({ ...required, compat: "official", per_device_train_batch_size: 2 }),
    /one query per device batch/,
  );
  assert.equal(validateTrainConfig({ ...required, compat: "official" }).compat, "official");
  assert.throws(() => validateTrainConfig({ ...required, eval_steps: 10 }), /eval_steps: is set but there is no eval_data/);
  assert.equal(effectiveEvalSteps(validateTrainConfig({ ...required, eval_data: "e.jsonl", eval_steps: 10 })), 10);
});

test("YAML and JSON config files load; unknown keys are named with a suggestion", () => {
  const dir = tempDir();
  const yaml = join(dir, "train.yaml");
  writeFileSync(yaml, "model: gpt2\nlearning_rate: 1.0e-5\nlr_scheduler_type: cosine\nwarmup_ratio: 0.03\nsave_total_limit: 2\n");
  assert.deepEqual(loadTrainConfigFile(yaml), {
    model: "gpt2",
    learning_rate: 1e-5,
    lr_scheduler_type: "cosine",
    warmup_ratio: 0.03,
    save_total_limit: 2,
  });
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
  assert.throws(() => loadTrainConfigFile(f("t.yaml", "seed: forty-two\n")), /t\.yaml: seed: must be an integer >= 0$/);
  // The same rule text as the flag's, naming the file and the field.
  assert.throws(() => loadTrainConfigFile(f("lr.yaml", "learning_rate: 0\n")), /\/lr\.yaml: learning_rate: must be > 0$/);
  assert.throws(() => loadTrainConfigFile(f("c.json", '{"compat": "none"}')), /\/c\.json: compat: must be one of paper, official$/);
  assert.throws(() => loadTrainConfigFile(f("s.yaml", "seed: [1,\n")), /s\.yaml(:\d+)?: invalid YAML/);
  assert.throws(() => loadTrainConfigFile(f("j.json", "{")), /j\.json: invalid JSON/);
  assert.throws(() => loadTrainConfigFile(f("l.yaml", "- 1\n- 2\n")), /must be a mapping/);
  assert.throws(() => loadTrainConfigFile(f("c.toml", "a = 1")), /must end in .json, .yaml or .yml/);
  assert.throws(() => loadTrainConfigFile(join(dir, "none.yaml")), /cannot read config file \(ENOENT\)/);
  assert.deepEqual(loadTrainConfigFile(f("empty.yaml", "")), {});
});

/** Parses argv with the train flags on a bare command, as `rrhf train` builds them. */
function parseFlags(argv: string[]): Record<string, unknown> {
  const cmd = new Command("train").exitOverride().configureOutput({ writeErr: () => undefined, writeOut: () => undefined });
  cmd.addOption(new Option("--config <file>"));
  addSettingOptions(cmd, TRAIN_SETTINGS);
  cmd.parse(argv, { from: "user" });
  return cmd.opts();
}

function resolveFlags(opts: Record<string, unknown>) {
  return resolveTrainConfig({ configFile: opts.config as string, overrides: settingsFromOptions(TRAIN_SETTINGS, opts) });
}

test("flags override the config file, which overrides the defaults", () => {
  const dir = tempDir();
  const file = join(dir, "train.yaml");
  writeFileSync(file, "model: from-file\ndata: d.jsonl\nlearning_rate: 1.0e-5\nseed: 7\nonly_use_sample: true\n");
  const opts = parseFlags([
    "--config",
    file,
    "--model",
    "from-flag",
    "--out",
    "o",
    "--learning-rate",
    "3e-5",
    "--lr-scheduler-type",
    "cosine",
    "--no-only-use-sample",
    "--gradient-checkpointing",
    "--save-total-limit",
    "3",
    "--max-query-share",
    "0.25",
  ]);
  const c = resolveFlags(opts);
  assert.equal(c.model, "from-flag");
  assert.equal(c.data, "d.jsonl");
  assert.equal(c.output_dir, "o");
  assert.equal(c.learning_rate, 3e-5);
  assert.equal(c.seed, 7); // file value, no flag given
  assert.equal(c.lr_scheduler_type, "cosine");
  assert.equal(c.only_use_sample, false);
  assert.equal(c.gradient_checkpointing, true);
  assert.equal(c.save_total_limit, 3);
  assert.equal(c.max_query_share, 0.25);
  assert.equal(c.weight_decay, 0); // default
});

test("bad flag values are usage errors at parse time naming the flag and the rule", () => {
  const rejects = (argv: string[], message: string): void =>
    assert.throws(
      () => parseFlags(argv),
      (e: unknown) => e instanceof CommanderError && e.exitCode === 2 && e.code === INVALID_SETTING && e.message === `error: ${message}`,
      argv.join(" "),
    );
  rejects(["--learning-rate", "0"], "--learning-rate must be > 0");
  rejects(["--learning-rate", "fast"], "--learning-rate must be a number > 0");
  rejects(["--learning-rate", ""], "--learning-rate must be a number > 0");
  rejects(["--max-steps", "1.5"], "--max-steps must be -1 (use num_train_epochs) or an integer >= 1");
  rejects(["--per-device-train-batch-size", "0"], "--per-device-train-batch-size must be an integer >= 1");
  rejects(["--optim", "lamb"], "--optim must be one of adamw, adafactor, sgd");
  rejects(["--length-penalty", "abc"], "--length-penalty must be a finite number");
  rejects(["--compat", "none"], "--compat must be one of paper, official");
  rejects(["--max-query-share", "2"], "--max-query-share must be from 0 to 1");
  rejects(["--out", ""], "--out must not be empty");
});

test("--help lists every setting's flag with its default and choices", () => {
  const cmd = new Command("train");
  addSettingOptions(cmd, TRAIN_SETTINGS);
  const help = cmd.helpInformation();
  for (const [name, spec] of Object.entries(TRAIN_SETTINGS)) assert.ok(help.includes(flagOf(name, spec)), flagOf(name, spec));
  assert.match(help, /--learning-rate <lr>\s+Peak learning rate.*\(default: 2e-5\)/s);
  assert.match(help, /--out <dir>.*\(required\)/s);
  assert.match(help, /--optim <name>.*\(choices: adamw, adafactor, sgd\) \(default: adamw\)/s);
});

test("the loss options of a config are its RRHF loss settings, by the same names", () => {
  const c = validateTrainConfig({ ...required, rrhf_weight: 100, length_penalty: 1.5, compat: "official", only_use_provide: true });
  assert.deepEqual(resolveLossOptions(c), { length_penalty: 1.5, rrhf_weight: 100, compat: "official" });
  assert.deepEqual(resolveLossOptions(), { length_penalty: 1, rrhf_weight: 1, compat: "paper" });
});
