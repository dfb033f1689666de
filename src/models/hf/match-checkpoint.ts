import { UserError } from "../../errors.js";
import type { SafetensorsCheckpoint } from "../../io/checkpoint.js";
import { SCORE_HEAD, type WeightLayout } from "./param-specs.js";

/** How the tensors of a checkpoint map onto a layout's parameters. */
export interface CheckpointMatch {
  /** Parameter name → the tensor name in the checkpoint (they differ only by the base prefix). */
  sourceName: Map<string, string>;
  /** A tied LM head the checkpoint also stores (checked equal to the embedding), or null. */
  tiedHeadSource: string | null;
}

const FLOAT_DTYPES = new Set(["F32", "F16", "BF16"]);
const MAX_LISTED = 20;

function list(title: string, items: string[]): string {
  if (items.length === 0) return "";
  const shown = items.slice(0, MAX_LISTED).join("\n    ");
  const more = items.length > MAX_LISTED ? `\n    ... and ${items.length - MAX_LISTED} more` : "";
  return `\n  ${title} (${items.length}):\n    ${shown}${more}`;
}

/**
 * Matches checkpoint tensors to `layout` strictly. Names may all lack the
 * base-model prefix (checkpoints saved from `GPT2Model`/`LlamaModel`, e.g.
 * the hub's original `gpt2`), as Hugging Face accepts; mixing is not accepted.
 * Throws one UserError listing every missing, unexpected, misshaped or
 * non-float tensor.
 */
export function matchCheckpoint(layout: WeightLayout, ckpt: SafetensorsCheckpoint, where: string, architecture: string): CheckpointMatch {
  const names = [...ckpt.tensors.keys()];
  const bare = names.length > 0 && !names.some((n) => n.startsWith(layout.basePrefix));
  // The heads (lm_head, a reward model's score) sit outside the base model either way.
  const canonical = (n: string): string => (bare && n !== layout.lmHead && n !== SCORE_HEAD ? layout.basePrefix + n : n);

  const expected = new Map(layout.specs.map((s) => [s.name, s.shape]));
  const sourceName = new Map<string, string>();
  let tiedHeadSource: string | null = null;
  const unexpected: string[] = [];
  const misshaped: string[] = [];
  const badDtype: string[] = [];
  const present = new Set<string>();
  const fmt = (shape: readonly number[]): string => `[${shape.join(", ")}]`;

  for (const source of names) {
    const name = canonical(source);
    const { info } = ckpt.tensors.get(source)!;
    let want = expected.get(name);
    const isTiedHead = want === undefined && name === layout.lmHead && !expected.has(layout.lmHead);
    if (isTiedHead) want = expected.get(layout.embedding);
    else if (want !== undefined) present.add(name);
    if (want === undefined) {
      if (!layout.ignoredBuffers.some((re) => re.test(name))) unexpected.push(source);
      continue;
    }
    if (!FLOAT_DTYPES.has(info.dtype)) {
      badDtype.push(`${source}: dtype ${info.dtype} (need F32, F16 or BF16)`);
      continue;
    }
    if (info.shape.length !== want.length || info.shape.some((d, i) => d !== want[i])) {
      misshaped.push(`${source}: checkpoint ${fmt(info.shape)}, config expects ${fmt(want)}`);
      continue;
    }
    if (isTiedHead) tiedHeadSource = source;
    else sourceName.set(name, source);
  }
  // A misshaped or non-float tensor is reported as such, not again as missing.
  const missing = layout.specs.filter((s) => !present.has(s.name)).map((s) => s.name);

  if (missing.length + unexpected.length + misshaped.length + badDtype.length > 0) {
    throw new UserError(
      `${where}: checkpoint does not match config.json (${architecture}):` +
        list("missing tensors", missing) +
        list("unexpected tensors", unexpected) +
        list("tensors with the wrong shape", misshaped) +
        list("tensors with a non-float dtype", badDtype),
    );
  }
  return { sourceName, tiedHeadSource };
}
