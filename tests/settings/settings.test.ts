import assert from "node:assert/strict";
import { test } from "node:test";
import { UserError } from "../../src/errors.js";
import {
  checkSettingsInput,
  closestName,
  defaultsOf,
  flagOf,
  formatDefault,
  parseSettingText,
  pickSettings,
  resolveSettings,
  rules,
  setting,
  settingProblem,
} from "../../src/settings/index.js";

const TABLE = {
  model: setting({ rule: rules.string(), metavar: "dir", help: "The model folder." }),
  output_dir: setting({ rule: rules.string(), flag: "--out", help: "Where to write." }),
  learning_rate: setting({ rule: rules.number({ gt: 0 }), default: 2e-5, help: "Peak learning rate." }),
  warmup_ratio: setting({ rule: rules.number({ min: 0, max: 1 }), default: 0, help: "Warmup share." }),
  max_steps: setting({ rule: rules.int({ min: -1 }, { except: [0], text: "must be -1 or an integer >= 1" }), default: -1, help: "Steps." }),
  save_total_limit: setting({ rule: rules.nullable(rules.int({ min: 1 })), default: null, help: "Checkpoints kept." }),
  compat: setting({ rule: rules.choice(["paper", "official"] as const), default: "paper", help: "Mode." }),
  strict: setting({ rule: rules.boolean(), default: false, help: "Strict." }),
} as const;

test("each rule names itself: the message a user sees for a bad value", () => {
  assert.equal(settingProblem(TABLE.learning_rate, 0), "must be > 0");
  assert.equal(settingProblem(TABLE.learning_rate, "fast"), "must be a number > 0");
  assert.equal(settingProblem(TABLE.learning_rate, Number.NaN), "must be a number > 0");
  assert.equal(settingProblem(TABLE.learning_rate, 1e-5), null);
  assert.equal(settingProblem(TABLE.warmup_ratio, 1.5), "must be from 0 to 1");
  assert.equal(settingProblem(TABLE.max_steps, 0), "must be -1 or an integer >= 1");
  assert.equal(settingProblem(TABLE.max_steps, 2.5), "must be -1 or an integer >= 1");
  assert.equal(settingProblem(TABLE.max_steps, -1), null);
  assert.equal(settingProblem(TABLE.save_total_limit, null), null);
  assert.equal(settingProblem(TABLE.save_total_limit, 0), "must be an integer >= 1");
  assert.equal(settingProblem(TABLE.compat, "none"), "must be one of paper, official");
  assert.equal(settingProblem(TABLE.strict, "yes"), "must be true or false");
  assert.equal(settingProblem(TABLE.model, ""), "must not be empty");
  assert.equal(settingProblem(TABLE.model, 3), "must be a non-empty string");
  assert.equal(settingProblem(setting({ rule: rules.number(), help: "x" }), Infinity), "must be a finite number");
});

test("command-line text is read strictly: plain decimal numbers only", () => {
  assert.deepEqual(parseSettingText(TABLE.learning_rate, "3e-5"), { ok: true, value: 3e-5 });
  assert.deepEqual(parseSettingText(TABLE.learning_rate, "0x10"), { ok: false, message: "must be a number > 0" });
  assert.deepEqual(parseSettingText(TABLE.learning_rate, ""), { ok: false, message: "must be a number > 0" });
  assert.deepEqual(parseSettingText(TABLE.max_steps, "1.5"), { ok: false, message: "must be -1 or an integer >= 1" });
  assert.deepEqual(parseSettingText(TABLE.max_steps, "-1"), { ok: true, value: -1 });
  assert.deepEqual(parseSettingText(TABLE.compat, "official"), { ok: true, value: "official" });
});

test("flags, defaults and picking", () => {
  assert.equal(flagOf("learning_rate", TABLE.learning_rate), "--learning-rate");
  assert.equal(flagOf("output_dir", TABLE.output_dir), "--out");
  assert.equal(formatDefault(TABLE.learning_rate), "2e-5");
  assert.equal(formatDefault(TABLE.model), "required");
  assert.equal(formatDefault(TABLE.strict), "");
  assert.deepEqual(defaultsOf(TABLE), {
    learning_rate: 2e-5,
    warmup_ratio: 0,
    max_steps: -1,
    save_total_limit: null,
    compat: "paper",
    strict: false,
  });
  assert.deepEqual(Object.keys(pickSettings(TABLE, ["compat", "strict"])), ["compat", "strict"]);
});

test("resolution: defaults < input; unknown keys with a did-you-mean, broken rules and missing settings reported together", () => {
  const ok = resolveSettings(TABLE, { model: "m", output_dir: "o", compat: "official" }, "flags");
  assert.deepEqual(ok, {
    learning_rate: 2e-5,
    warmup_ratio: 0,
    max_steps: -1,
    save_total_limit: null,
    compat: "official",
    strict: false,
    model: "m",
    output_dir: "o",
  });
  assert.throws(
    () => resolveSettings(TABLE, { lerning_rate: 1, warmup_ratio: 2 }, "run.yaml", "give it as a flag"),
    (e: unknown) =>
      e instanceof UserError &&
      e.message ===
        [
          "run.yaml: lerning_rate: unknown setting (did you mean learning_rate?)",
          "run.yaml: warmup_ratio: must be from 0 to 1",
          "run.yaml: model: required (give it as a flag)",
          "run.yaml: output_dir: required (give it as a flag)",
        ].join("\n"),
  );
  assert.deepEqual(checkSettingsInput(TABLE, { strict: true, compat: undefined }, "f"), { strict: true });
  assert.throws(
    () => checkSettingsInput(TABLE, { zzzzzzzz: 1 }, "f"),
    (e: unknown) => e instanceof UserError && e.message === "f: zzzzzzzz: unknown setting",
  );
  assert.equal(closestName("learning-rate", Object.keys(TABLE)), "learning_rate");
});
