/**
 * The RoPE cos/sin table of a Llama-family config: default frequencies,
 * `llama3` scaling (through the autodiff rope module) or `linear` scaling
 * (positions divided by `factor`, i.e. every frequency divided by it).
 */
import { createRopeTable, ropeInvFreq, ropeTableFromInvFreq, type RopeTable } from "../../autodiff/ops/rope.js";
import { UserError } from "../../errors.js";
import type { NormalizedConfig } from "../hf/config-types.js";

export function llamaRopeTable(c: NormalizedConfig): RopeTable {
  if (c.rope === null) throw new UserError(`${c.architecture}: config has no RoPE parameters`);
  const { theta, scaling } = c.rope;
  const base = { headDim: c.headDim, theta, maxPositions: c.maxPositions };
  if (scaling === null) return createRopeTable(base);
  if (scaling.type === "llama3") {
    return createRopeTable({
      ...base,
      scaling: {
        rope_type: "llama3",
        factor: scaling.factor,
        low_freq_factor: scaling.lowFreqFactor,
        high_freq_factor: scaling.highFreqFactor,
        original_max_position_embeddings: scaling.originalMaxPositionEmbeddings,
      },
    });
  }
  // Linear: HF divides the positions by `factor`; same angles as dividing the frequencies.
  const invFreq = ropeInvFreq(base);
  for (let i = 0; i < invFreq.length; i++) invFreq[i] = Math.fround(invFreq[i] / scaling.factor);
  return ropeTableFromInvFreq(invFreq, c.maxPositions);
}
