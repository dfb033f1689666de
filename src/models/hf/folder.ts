import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { InternalError, UserError } from "../../errors.js";
import { siblingTempPath, type WriteBytes } from "../../io/atomic.js";
import { openModelWeights, readCheckpointInto, SINGLE_FILE } from "../../io/checkpoint.js";
import { shapeSize } from "../../io/safetensors-header.js";
import { writeSafetensors, type WriteDtype } from "../../io/safetensors.js";
import { normalizeConfig } from "./config.js";
import type { NormalizedConfig } from "./config-types.js";
import { matchCheckpoint } from "./match-checkpoint.js";
import { defaultAlloc, ParamStore, type AllocFn } from "./param-store.js";
import { weightLayout } from "./param-specs.js";
import { copyTokenizerFiles } from "./tokenizer-files.js";

/**
 * A model as loaded from (or to be saved as) a Hugging Face folder.
 *
 * @example
 * const hf: HfModel = loadModelFolder("tests/fixtures/models/gpt2-tiny");
 * console.log(hf.config.model_type, hf.params.names().length);
 */
export interface HfModel {
  /** `config.json` exactly as read (saved back unchanged but for `torch_dtype`/`dtype`, set to float32). */
  config: Record<string, unknown>;
  normalized: NormalizedConfig;
  params: ParamStore;
  /** `generation_config.json` as read, or null when the folder had none. */
  generationConfig: Record<string, unknown> | null;
  /** The folder it came from (tokenizer files are copied from here on save), or null. */
  sourceDir: string | null;
}

export interface LoadOptions {
  /** Where the parameter arena lives (default: plain memory). */
  alloc?: AllocFn;
}

function readJsonObject(file: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, "utf8"));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UserError(
      `${file}: ${code === "ENOENT" ? "not found" : `cannot read JSON (${err instanceof Error ? err.message : String(err)})`}`,
    );
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new UserError(`${file}: must hold a JSON object`);
  return parsed as Record<string, unknown>;
}

/**
 * Loads a Hugging Face model folder (config.json + model.safetensors or a
 * sharded index) strictly: every missing, unexpected or misshaped tensor is
 * reported, all of them in one UserError. F16/BF16 weights are upcast to f32.
 *
 * @example
 * const model = loadModelFolder("models/gpt2", { alloc: backend.alloc });
 * model.params.view("transformer.wte.weight"); // [vocab, n_embd]
 */
export function loadModelFolder(dir: string, opts: LoadOptions = {}): HfModel {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UserError(`${dir}: model folder not found`);
  const configFile = join(dir, "config.json");
  const config = readJsonObject(configFile);
  const normalized = normalizeConfig(config, configFile);
  const ckpt = openModelWeights(dir);
  // Every layer has tensors of its own: a layer count above the checkpoint's
  // tensor count cannot match, and listing its layout first could exhaust
  // memory (n_layer: 1e9 from a hostile config.json).
  if (normalized.numLayers > ckpt.tensors.size) {
    throw new UserError(
      `${dir}: checkpoint does not match config.json (${normalized.architecture}): ` +
        `config.json asks for ${normalized.numLayers} layers but the checkpoint holds only ${ckpt.tensors.size} tensors`,
    );
  }
  const layout = weightLayout(normalized);
  const match = matchCheckpoint(layout, ckpt, dir, normalized.architecture);

  const params = ParamStore.create(layout.specs, opts.alloc ?? defaultAlloc);
  const toCanonical = new Map([...match.sourceName].map(([canonical, source]) => [source, canonical]));
  readCheckpointInto(ckpt, [...match.sourceName.values()], (source) => params.view(toCanonical.get(source) ?? source));

  if (match.tiedHeadSource !== null) {
    // A tied checkpoint that still stores the head must store the same values.
    const head = new Float32Array(shapeSize(params.shape(layout.embedding)));
    readCheckpointInto(ckpt, [match.tiedHeadSource], () => head);
    const emb = params.view(layout.embedding);
    const differ = head.some((v, i) => !Object.is(v, emb[i]));
    if (differ) {
      throw new UserError(
        `${dir}: config ties the LM head to ${layout.embedding} (tie_word_embeddings) but the checkpoint's ${layout.lmHead} differs from it`,
      );
    }
  }
  const genFile = join(dir, "generation_config.json");
  const generationConfig = existsSync(genFile) ? readJsonObject(genFile) : null;
  return { config, normalized, params, generationConfig, sourceDir: resolve(dir) };
}

/**
 * What {@link saveModelFolder} needs; an {@link HfModel} is one, and so is a trained CausalLM's `{ config, params }`.
 *
 * @example
 * const model: SavableModel = loadModelFolder("tests/fixtures/models/gpt2-tiny");
 * saveModelFolder("runs/copy", model);
 */
export interface SavableModel {
  config: Record<string, unknown>;
  params: ParamStore;
  /** Written as generation_config.json when present. */
  generationConfig?: Record<string, unknown> | null;
  /** Default source of the tokenizer files. */
  sourceDir?: string | null;
}

/**
 * Options of {@link saveModelFolder}.
 *
 * @example
 * const options: SaveOptions = { overwrite: true, dtype: "bfloat16" };
 * saveModelFolder("runs/my-model", hf, options);
 */
export interface SaveOptions {
  /** Copy tokenizer files from here (default: the model's source folder, if any). */
  tokenizerDir?: string;
  /** Replace an existing model folder (one with config.json) or a non-empty one. Default false. */
  overwrite?: boolean;
  /**
   * Write these exact bytes as config.json instead of re-serialising
   * `model.config` (`rrhf init-model` copies the user's file verbatim). Must
   * parse to `model.config`.
   */
  configText?: string;
  /** How the caller asks for `overwrite`, named in the refusal (default "set overwrite: true"; the CLI says "pass --force"). */
  overwriteHint?: string;
  /** Byte writer for model.safetensors (tests inject a failing one to simulate a full disk). */
  writeBytes?: WriteBytes;
  /**
   * dtype of model.safetensors (default float32); config.json's `torch_dtype`
   * (and `dtype`, when present) say it. Half-size weights are rounded to
   * nearest even from the float32 parameters.
   */
  dtype?: SaveDtype;
}

/**
 * The dtypes a saved model folder can hold (Hugging Face `torch_dtype` names).
 *
 * @example
 * for (const dtype of SAVE_DTYPES) saveModelFolder(`runs/tiny-${dtype}`, hf, { dtype });
 */
export const SAVE_DTYPES = ["float32", "float16", "bfloat16"] as const;

/**
 * One of {@link SAVE_DTYPES}: the dtype of a saved model.safetensors (`--save-dtype`).
 *
 * @example
 * const dtype: SaveDtype = "bfloat16"; // half the bytes, float32's range
 */
export type SaveDtype = (typeof SAVE_DTYPES)[number];

const SAFETENSORS_DTYPE: Readonly<Record<SaveDtype, WriteDtype>> = { float32: "F32", float16: "F16", bfloat16: "BF16" };

function checkTarget(dir: string, overwrite: boolean, overwriteHint: string): boolean {
  if (!existsSync(dir)) return false;
  if (!statSync(dir).isDirectory()) throw new UserError(`${dir}: exists and is not a folder`);
  const entries = readdirSync(dir);
  if (entries.length === 0) return true;
  if (!overwrite) throw new UserError(`${dir}: folder exists and is not empty (${overwriteHint} to replace it)`);
  // Never replace an arbitrary folder wholesale: only an earlier model folder.
  if (!entries.includes("config.json")) {
    throw new UserError(`${dir}: refusing to replace a non-empty folder that is not a model folder (no config.json)`);
  }
  return true;
}

/**
 * `config` as it must be written: `torch_dtype`/`dtype` say the dtype of the
 * weights written. Half-size weights always set `torch_dtype`, so
 * transformers' `torch_dtype="auto"` loads them in that dtype.
 */
function configToWrite(config: Record<string, unknown>, dtype: SaveDtype): Record<string, unknown> {
  const out = { ...config };
  if ("torch_dtype" in out || dtype !== "float32") out.torch_dtype = dtype;
  if ("dtype" in out) out.dtype = dtype;
  return out;
}

/**
 * Writes `model` as a Hugging Face folder: config.json, model.safetensors (F32,
 * same tensor names; a tied head is not written separately),
 * generation_config.json when the model has one, and the tokenizer files.
 * Everything is written into a temporary folder beside `dir` and renamed into
 * place, so `dir` is never left half-written.
 *
 * @example
 * const hf = loadModelFolder("tests/fixtures/models/gpt2-tiny");
 * hf.params.view("transformer.wte.weight").fill(0); // ... or train a model over hf.params ...
 * saveModelFolder("runs/my-model", hf); // tokenizer files copied from hf.sourceDir
 */
export function saveModelFolder(dir: string, model: SavableModel, opts: SaveOptions = {}): void {
  const layout = weightLayout(normalizeConfig(model.config, `${dir}/config.json`));
  const sameLayout =
    layout.specs.length === model.params.names().length &&
    layout.specs.every((s, i) => {
      const name = model.params.names()[i];
      const shape = model.params.shape(name);
      return name === s.name && shape.length === s.shape.length && shape.every((d, j) => d === s.shape[j]);
    });
  if (!sameLayout) throw new InternalError("saveModelFolder: the parameters do not match the layout of model.config");

  const exists = checkTarget(dir, opts.overwrite ?? false, opts.overwriteHint ?? "set overwrite: true");
  // Parents are created as `mkdir -p` would (a new `models/tiny` needs `models/`).
  if (!exists) mkdirSync(dirname(dir), { recursive: true });
  const temp = siblingTempPath(dir, "partial");
  mkdirSync(temp);
  try {
    const dtype = opts.dtype ?? "float32";
    // A verbatim config text would claim float32 for half-size weights: it is then re-serialised with the dtype set.
    const verbatim = dtype === "float32" ? opts.configText : undefined;
    writeFileSync(join(temp, "config.json"), verbatim ?? `${JSON.stringify(configToWrite(model.config, dtype), null, 2)}\n`);
    if (model.generationConfig != null) {
      writeFileSync(join(temp, "generation_config.json"), `${JSON.stringify(model.generationConfig, null, 2)}\n`);
    }
    const p = model.params;
    const tensors = p.names().map((name) => ({ name, shape: [...p.shape(name)], data: p.view(name) }));
    writeSafetensors(join(temp, SINGLE_FILE), tensors, undefined, opts.writeBytes, SAFETENSORS_DTYPE[dtype]);
    const tokenizerDir = opts.tokenizerDir ?? model.sourceDir;
    if (tokenizerDir != null) copyTokenizerFiles(tokenizerDir, temp);
    if (exists) {
      const old = siblingTempPath(dir, "old");
      renameSync(dir, old);
      try {
        renameSync(temp, dir);
      } catch (err) {
        renameSync(old, dir);
        throw err;
      }
      rmSync(old, { recursive: true, force: true });
    } else {
      renameSync(temp, dir);
    }
  } catch (err) {
    rmSync(temp, { recursive: true, force: true });
    throw err;
  }
}
