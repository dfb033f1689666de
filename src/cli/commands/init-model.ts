/**
 * `rrhf init-model --config config.json --out DIR`: a freshly initialised
 * Hugging Face model folder (config.json copied verbatim, model.safetensors,
 * tokenizer files), loadable by `rrhf` and by transformers.
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
import { resolveSettings, rules, setting } from "../../settings/index.js";
import { addSettingOptions, settingsFromOptions } from "../flags.js";
import type { CliIo } from "../io.js";

interface InitModelFlags {
  config: string;
  out: string;
  tokenizer?: string;
  force?: boolean;
}

const INIT_SETTINGS = {
  seed: setting({
    rule: rules.int({ min: 0, max: 0xffffffff }),
    default: 42,
    metavar: "n",
    help: "Random seed; the same seed gives identical weights.",
  }),
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
    .description("write a freshly initialised Hugging Face model folder (GPT-2, Llama, Qwen2, Mistral) from a config.json")
    .requiredOption("--config <file>", "Hugging Face config.json describing the model")
    .requiredOption("--out <dir>", "folder to create (config.json, model.safetensors, tokenizer files)")
    .option("--tokenizer <dir>", "copy this folder's tokenizer files; its ids must fit in vocab_size")
    .option("--force", "replace --out if it is an existing model folder");
  addSettingOptions(cmd, INIT_SETTINGS);
  cmd.action((flags: InitModelFlags & Record<string, unknown>) => {
    const { seed } = resolveSettings(INIT_SETTINGS, settingsFromOptions(INIT_SETTINGS, flags), "flags");
    assertFolderTarget(flags.out, "--out");
    const { text, raw } = readConfig(flags.config);
    const normalized = normalizeConfig(raw, flags.config);
    if (flags.tokenizer !== undefined) {
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
      { tokenizerDir: flags.tokenizer, overwrite: flags.force === true, overwriteHint: "pass --force", configText: text },
    );
    io.stdout(
      `initialised ${normalized.architecture} (${normalized.numLayers} layers, ${params.size} parameters, seed ${seed}) in ${flags.out}\n`,
    );
  });
}
