/**
 * Saving the trained model as a Hugging Face folder (config.json,
 * model.safetensors, generation_config.json when the source had one, and
 * the source's tokenizer files): into a checkpoint's temp folder, and at the
 * end of a run into the output folder itself (beside metrics.jsonl and the
 * checkpoints, as HF's `trainer.save_model(output_dir)`).
 *
 * The output folder cannot be replaced wholesale (it holds the
 * checkpoints), so the final model is written complete into a hidden temp
 * folder first and its files are then renamed into place one by one, each
 * rename atomic, with config.json removed first and put back last: a crash in
 * between leaves a folder without config.json, which no loader mistakes for
 * a complete model.
 *
 * @example
 * saveFinalModel("out", hf);   // out/config.json, out/model.safetensors, out/tokenizer.json, ...
 * saveFinalModel("out", hf, undefined, "bfloat16"); // the same, weights in BF16 (--save-dtype)
 */
import { existsSync, readdirSync, renameSync, rmSync } from "node:fs";
import { join } from "node:path";
import { InternalError, UserError, userErrorFromFs } from "../errors.js";
import type { WriteBytes } from "../io/atomic.js";
import { assertDistinctPaths, assertFolderTarget } from "../io/paths.js";
import type { HfModel } from "../models/hf/folder.js";
import { saveModelFolder, type SaveDtype } from "../models/hf/folder.js";
import { processAlive } from "./checkpoint-fs.js";

const FINAL_TEMP = /^\.final-model\.tmp-(\d+)$/;

/** The parts of a loaded model folder a save needs. */
export type SavedModelSource = Pick<HfModel, "config" | "params" | "generationConfig" | "sourceDir">;

/**
 * Refuses, before any work, an output folder the run could not or must not
 * write: a file (or a path through one), or the input model's own folder
 * (the final save would silently replace the model being trained).
 */
export function assertOutputDirUsable(outputDir: string, modelDir: string): void {
  assertFolderTarget(outputDir, "--out");
  assertDistinctPaths("--model", modelDir, "--out", outputDir);
}

/** Throws when a parameter is NaN/inf: such weights are never saved. */
export function assertFiniteParams(model: SavedModelSource, what: string): void {
  for (const name of model.params.names()) {
    const v = model.params.view(name);
    for (let i = 0; i < v.length; i++) {
      if (!Number.isFinite(v[i]))
        throw new UserError(`refusing to save ${what}: ${name}[${i}] is ${v[i]} (NaN/inf weights are never saved)`);
    }
  }
}

/**
 * Writes the model's HF files into `dir` (which must be missing or empty),
 * weights in `dtype` (default float32; checkpoints keep float32 so a resumed
 * run continues from the exact weights).
 */
export function writeModelFiles(dir: string, model: SavedModelSource, writeBytes?: WriteBytes, dtype: SaveDtype = "float32"): void {
  assertFiniteParams(model, dir);
  saveModelFolder(dir, model, { ...(model.sourceDir ? { tokenizerDir: model.sourceDir } : {}), writeBytes, dtype });
}

/**
 * Writes the final model into `outputDir` (see the file comment for the crash
 * behaviour). A write that fails while the model is still in its temp folder
 * (a full disk) leaves `outputDir` and its checkpoints untouched and is
 * reported as a UserError; `writeBytes` lets a test simulate it.
 */
export function saveFinalModel(outputDir: string, model: SavedModelSource, writeBytes?: WriteBytes, dtype: SaveDtype = "float32"): void {
  assertFiniteParams(model, `the final model in ${outputDir}`);
  const temp = join(outputDir, `.final-model.tmp-${process.pid}`);
  rmSync(temp, { recursive: true, force: true });
  try {
    writeModelFiles(temp, model, writeBytes, dtype);
  } catch (err) {
    rmSync(temp, { recursive: true, force: true });
    throw userErrorFromFs(err, `${outputDir} (final model not saved)`) ?? err;
  }
  const files = readdirSync(temp).filter((f) => f !== "config.json");
  rmSync(join(outputDir, "config.json"), { force: true });
  for (const f of files) renameSync(join(temp, f), join(outputDir, f));
  renameSync(join(temp, "config.json"), join(outputDir, "config.json"));
  rmSync(temp, { recursive: true, force: true });
  if (!existsSync(join(outputDir, "config.json"))) throw new InternalError(`final model: ${outputDir}/config.json missing after the save`);
}

/** Removes `.final-model.tmp-<pid>` folders of processes that are gone (a crash during the final save). */
export function removeStaleFinalTemps(outputDir: string): void {
  if (!existsSync(outputDir)) return;
  for (const name of readdirSync(outputDir)) {
    const m = FINAL_TEMP.exec(name);
    if (m && Number(m[1]) !== process.pid && !processAlive(Number(m[1]))) rmSync(join(outputDir, name), { recursive: true, force: true });
  }
}
