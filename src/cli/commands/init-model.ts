/**
 * `rrhf init-model --config config.json --out DIR`: a freshly initialised
 * Hugging Face model folder (config.json copied verbatim, model.safetensors,
 * tokenizer files), loadable by `rrhf` and by transformers. With
 * `--save-dtype float16|bfloat16` the weights are written in that dtype and
 * config.json is re-serialised with `torch_dtype` saying so.
 */
import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { UserError } from "../../errors.js";
import { assertFolderTarget } from "../../io/paths.js";
import { normalizeConfig } from "../../models/hf/config.js";
import { saveModelFolder } from "../../models/hf/folder.js";
import { initParams } from "../../models/hf/init.js";
import { ParamStore } from "../../models/hf/param-store.js";
import { weightLayout } from "../../models/hf/param-specs.js";
import { tokenizerIdCount } from "../../models/hf/tokenizer-files.js";
import { SAVE_SETTINGS } from "../../models/settings.js";
import { resolveSettings, rules, setting } from "../../settings/index.js";
import { addSettingOptions, settingsFromOptions } from "../flags.js";
import type { CliIo } from "../io.js";

/** The flags of `rrhf init-model`, checked at parse time like every setting (a bad value exits 2). */
const INIT_MODEL_SETTINGS = {
  config: setting({
    rule: rules.string(),
    metavar: "file",
    help: "Hugging Face config.json describing the model; copied into the folder byte for byte.",
  }),
  out: setting({
    rule: rules.string(),
    metavar: "dir",
    help: "Folder to create (config.json, model.safetensors, tokenizer files); missing parents are created.",
  }),
  seed: setting({
    rule: rules.int({ min: 0, max: 0xffffffff }),
    default: 42,
    metavar: "n",
    help: "Random seed; the same seed gives identical weights.",
  }),
  tokenizer: setting({
    rule: rules.nullable(rules.string()),
    default: null,
    metavar: "dir",
    help: "Copy this folder's tokenizer files; its ids must fit in vocab_size.",
  }),
  force: setting({ rule: rules.boolean(), default: false, help: "Replace --out if it is an existing model folder." }),
  ...SAVE_SETTINGS,
} as const;

/** Reads and parses the config file, keeping its text for a verbatim copy. */
function readConfig(file: string): { text: string; raw: unknown } {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new UserError(`${file}: cannot read (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  try {
    return { text, raw: JSON.parse(text) };
  } catch (err) {
    throw new UserError(`${file}: not valid JSON (${err instanceof Error ? err.message : String(err)})`);
  }
}

/** Registers `rrhf init-model`. */
export function registerInitModel(program: Command, io: CliIo): void {
  const cmd = program
    .command("init-model")
    .description("write a freshly initialised Hugging Face model folder (GPT-2, Llama, Qwen2, Mistral) from a config.json");
  addSettingOptions(cmd, INIT_MODEL_SETTINGS, { requiredFlags: true });
  cmd.action((options: Record<string, unknown>) => {
    const flags = resolveSettings(INIT_MODEL_SETTINGS, settingsFromOptions(INIT_MODEL_SETTINGS, options), "flags");
    const { seed } = flags;
    assertFolderTarget(flags.out, "--out");
    const { text, raw } = readConfig(flags.config);
    const normalized = normalizeConfig(raw, flags.config);
    if (flags.tokenizer !== null) {
      const ids = tokenizerIdCount(flags.tokenizer);
      if (ids > normalized.vocabSize) {
        throw new UserError(
          `${flags.tokenizer}: the tokenizer has ${ids} token ids but ${flags.config} has vocab_size ${normalized.vocabSize}; ` +
            `raise vocab_size to at least ${ids}`,
        );
      }
    }
    const params = ParamStore.create(weightLayout(normalized).specs);
    initParams(normalized, params, seed);
    saveModelFolder(
      flags.out,
      { config: raw as Record<string, unknown>, params },
      {
        tokenizerDir: flags.tokenizer ?? undefined,
        overwrite: flags.force,
        overwriteHint: "pass --force",
        configText: text,
        dtype: flags.save_dtype,
      },
    );
    io.stdout(
      `initialised ${normalized.architecture} (${normalized.numLayers} layers, ${params.size} parameters, seed ${seed}) in ${flags.out}\n`,
    );
  });
}
