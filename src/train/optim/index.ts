/**
 * Builds the optimiser a run asks for (`--optim`), with the hyper-parameters
 * named as in HF TrainingArguments.
 *
 * @example
 * const opt = createOptimizer("adamw", store.segments, { weight_decay: 0.0, adam_beta1: 0.9, adam_beta2: 0.999, adam_epsilon: 1e-8 });
 */
import { UserError } from "../../errors.js";
import type { Backend } from "../../kernels/backend.js";
import { Adafactor } from "./adafactor.js";
import { AdamW } from "./adamw.js";
import { Sgd } from "./sgd.js";
import { OPTIMIZER_NAMES, type Optimizer, type OptimizerName, type ParamSegment } from "./types.js";

export { Adafactor, type AdafactorKernels, type AdafactorOptions } from "./adafactor.js";
export { AdamW, type AdamWOptions } from "./adamw.js";
export { type ClipKernels, clipGradNorm, gradNorm } from "./clip.js";
export { Sgd, type SgdOptions } from "./sgd.js";
export {
  decaysWeight,
  OPTIMIZER_NAMES,
  segmentsFromSpecs,
  validateSegments,
  type Optimizer,
  type OptimizerName,
  type OptimizerState,
  type ParamSegment,
} from "./types.js";

export interface OptimizerHyperParams {
  weight_decay: number;
  adam_beta1: number;
  adam_beta2: number;
  adam_epsilon: number;
}

/** The backend kernels (and allocator) the optimizers can use; each falls back to its reference loop where absent. */
export type OptimizerKernels = Partial<
  Pick<Backend, "adamwUpdate" | "sgdUpdate" | "adafactorStats" | "adafactorSumSquares" | "adafactorApply" | "alloc">
>;

/** `kernels`: the backend whose fast optimizer kernels (native or WASM SIMD) and memory to use, where it has them. */
export function createOptimizer(
  name: OptimizerName,
  segments: readonly ParamSegment[],
  hp: OptimizerHyperParams,
  kernels?: OptimizerKernels,
): Optimizer {
  switch (name) {
    case "adamw":
      return new AdamW(segments, { ...hp, kernels });
    case "adafactor":
      return new Adafactor(segments, { weight_decay: hp.weight_decay, kernels });
    case "sgd":
      return new Sgd(segments, { weight_decay: hp.weight_decay, kernels });
    default:
      throw new UserError(`unknown optimizer "${String(name)}" (expected one of ${OPTIMIZER_NAMES.join(", ")})`);
  }
}
