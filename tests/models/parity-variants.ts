/**
 * Variants of the committed fixture folders, written to a temp dir: edit
 * config.json and the tensors (e.g. untie a head) to test equivalences
 * without committing more fixtures.
 */
import { copyFileSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { readSafetensors, writeSafetensors, type F32Tensor } from "../../src/io/safetensors.js";
import { fixture, tempDir } from "../helpers.js";

export function variantFolder(
  name: string,
  editConfig: (config: Record<string, unknown>) => void,
  editTensors: (tensors: Map<string, F32Tensor>) => void = () => {},
): string {
  const src = fixture("models", name);
  const dir = tempDir(`rrhf-${name}-`);
  const config = JSON.parse(readFileSync(join(src, "config.json"), "utf8")) as Record<string, unknown>;
  editConfig(config);
  writeFileSync(join(dir, "config.json"), JSON.stringify(config, null, 2));
  const tensors = readSafetensors(join(src, "model.safetensors"));
  editTensors(tensors);
  writeSafetensors(
    join(dir, "model.safetensors"),
    [...tensors].map(([n, t]) => ({ name: n, ...t })),
  );
  for (const f of ["tokenizer.json", "tokenizer_config.json"]) {
    if (existsSync(join(src, f))) copyFileSync(join(src, f), join(dir, f));
  }
  return dir;
}

/** A copy whose LM head is a separate `lm_head.weight` equal to the embedding. */
export function untiedCopy(name: string, embedding: string): string {
  return variantFolder(
    name,
    (c) => {
      c.tie_word_embeddings = false;
    },
    (t) => {
      const emb = t.get(embedding);
      if (!emb) throw new Error(`${name}: no ${embedding}`);
      t.set("lm_head.weight", { shape: [...emb.shape], data: Float32Array.from(emb.data) });
    },
  );
}
