import assert from "node:assert/strict";
import { test } from "node:test";
import { UserError } from "../../src/errors.js";
import {
  DEFAULT_RRHF_CONFIG,
  lossOptionsFromConfig,
  parseRrhfConfig,
  RRHF_CONFIG_HELP,
} from "../../src/rrhf/config.js";

test("an empty config takes every default", () => {
  assert.deepEqual(parseRrhfConfig({}), {
    lengthPenalty: 1,
    rrhfWeight: 1,
    compat: "none",
    onlyUseProvide: false,
    onlyUseSample: false,
  });
  assert.deepEqual(parseRrhfConfig(undefined), { ...DEFAULT_RRHF_CONFIG });
});

test("compat official keeps rrhfWeight 1 unless set", () => {
  const c = parseRrhfConfig({ compat: "official", lengthPenalty: 0.5 });
  assert.deepEqual(lossOptionsFromConfig(c), { lengthPenalty: 0.5, rrhfWeight: 1, compat: "official" });
});

function rejects(input: unknown, pattern: RegExp): void {
  assert.throws(
    () => parseRrhfConfig(input, "train.yaml: rrhf"),
    (e: unknown) => e instanceof UserError && pattern.test(e.message),
  );
}

test("invalid values are user errors naming the source and field", () => {
  rejects({ lengthPenalty: Number.POSITIVE_INFINITY }, /^train\.yaml: rrhf: lengthPenalty: /);
  rejects({ lengthPenalty: Number.NaN }, /lengthPenalty: /);
  rejects({ lengthPenalty: "1" }, /lengthPenalty: /);
  rejects({ rrhfWeight: -0.5 }, /rrhfWeight: /);
  rejects({ rrhfWeight: Number.POSITIVE_INFINITY }, /rrhfWeight: /);
  rejects({ compat: "paper" }, /compat: /);
  rejects({ rrhf_weight: 1 }, /rrhf_weight/);
  rejects({ onlyUseProvide: true, onlyUseSample: true }, /onlyUseSample: .*exclude each other/);
});

test("every config field has a distinct flag and help text", () => {
  const keys = Object.keys(DEFAULT_RRHF_CONFIG).sort();
  assert.deepEqual(Object.keys(RRHF_CONFIG_HELP).sort(), keys);
  const flags = Object.values(RRHF_CONFIG_HELP).map((h) => h.flag);
  assert.equal(new Set(flags).size, flags.length);
  for (const h of Object.values(RRHF_CONFIG_HELP)) {
    assert.match(h.flag, /^--[a-z-]+$/);
    assert.ok(h.help.length > 20);
  }
  assert.match(RRHF_CONFIG_HELP.rrhfWeight.help, /100/);
});
