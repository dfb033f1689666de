/**
 * Shared vocabulary of the optimisers. They work llm.c style over flat
 * arenas: all parameters in one Float32Array, gradients in a second one with
 * the same layout, and a list of segments naming each tensor's slice (needed
 * for shapes: Adafactor's factored moments, weight-decay exclusions).
 */
import type { Backend } from "../../kernels/backend.js";
import { UserError } from "../../errors.js";

/** One named tensor inside the parameter arena. */
export interface ParamSegment {
  name: string;
  offset: number;
  length: number;
  shape: readonly number[];
}

/** What `state()` returns: moment arenas and scalars (e.g. the step count). */
export type OptimizerState = Record<string, Float32Array | number>;

export const OPTIMIZER_NAMES = ["adamw", "adafactor", "sgd"] as const;
export type OptimizerName = (typeof OPTIMIZER_NAMES)[number];

export interface Optimizer {
  readonly name: OptimizerName;
  /** Updates completed so far. */
  readonly stepCount: number;
  /**
   * One update in place: `params` from `grads` at learning rate `lr` (from
   * the schedule). `grads` is read only. Both are the full arenas.
   */
  step(params: Float32Array, grads: Float32Array, lr: number): void;
  /** Everything needed to continue bit-identically (arrays are copies). */
  state(): OptimizerState;
  /** Restores `state()`'s output; rejects missing keys or wrong sizes. */
  loadState(state: OptimizerState): void;
}

/**
 * Checks that segments tile the arena exactly (sorted, no gaps, no overlap,
 * shape product = length); optimisers rely on it to loop over flat arrays.
 */
export function validateSegments(segments: readonly ParamSegment[], arenaLength: number): void {
  let next = 0;
  const names = new Set<string>();
  for (const s of segments) {
    if (names.has(s.name)) throw new UserError(`parameter layout: duplicate segment name "${s.name}"`);
    names.add(s.name);
    const numel = s.shape.reduce((a, b) => a * b, 1);
    if (!s.shape.every((d) => Number.isInteger(d) && d >= 0) || numel !== s.length) {
      throw new UserError(`parameter layout: segment "${s.name}" has shape [${s.shape.join(", ")}] but length ${s.length}`);
    }
    if (s.offset !== next) {
      throw new UserError(
        `parameter layout: segment "${s.name}" starts at ${s.offset}, expected ${next} (segments must be sorted and contiguous)`,
      );
    }
    next += s.length;
  }
  if (next !== arenaLength) throw new UserError(`parameter layout: segments cover ${next} values but the arena holds ${arenaLength}`);
}

/**
 * Segments of tensors packed back to back in the given order, as
 * `ParamStore` lays them out: `segmentsFromSpecs(store.specs())`.
 */
export function segmentsFromSpecs(specs: readonly { name: string; shape: readonly number[] }[]): ParamSegment[] {
  let offset = 0;
  return specs.map(({ name, shape }) => {
    const length = shape.reduce((a, b) => a * b, 1);
    const seg: ParamSegment = { name, offset, length, shape: [...shape] };
    offset += length;
    return seg;
  });
}

/**
 * Whether weight decay applies to a tensor. HF's Trainer exempts biases and
 * LayerNorm/RMSNorm weights (by module type and "bias" in the name); we go by
 * shape: every tensor with fewer than 2 dimensions is exempt, which for
 * GPT-2 and Llama selects exactly the biases and norm weights.
 */
export function decaysWeight(segment: ParamSegment): boolean {
  return segment.shape.length >= 2;
}

export function assertSameLength(params: Float32Array, grads: Float32Array, expected: number): void {
  if (params.length !== expected || grads.length !== expected) {
    throw new Error(`optimizer: arenas hold ${params.length} params and ${grads.length} grads, layout needs ${expected}`);
  }
}

/** Reads one key of a saved state, checking its kind and size. */
export function stateArray(state: OptimizerState, key: string, length: number, who: string): Float32Array {
  const v = state[key];
  if (!(v instanceof Float32Array)) throw new UserError(`${who} state: missing array "${key}"`);
  if (v.length !== length) throw new UserError(`${who} state: "${key}" holds ${v.length} values, expected ${length} (different model?)`);
  return v;
}

export function stateNumber(state: OptimizerState, key: string, who: string): number {
  const v = state[key];
  if (typeof v !== "number" || !Number.isFinite(v)) throw new UserError(`${who} state: missing number "${key}"`);
  return v;
}

export function assertLr(lr: number): void {
  if (!Number.isFinite(lr) || lr < 0) throw new Error(`optimizer: learning rate must be finite and >= 0, got ${lr}`);
}

/**
 * Zeroed moment storage in the backend's memory where it has an allocator; where that memory is full (the WASM
 * backend stops at 4 GiB) in ordinary memory instead, which the kernels then read through their reference loop.
 */
export function allocState(n: number, kernels: Partial<Pick<Backend, "alloc">> | undefined): Float32Array {
  if (kernels?.alloc) {
    try {
      return kernels.alloc(n);
    } catch (err) {
      if (!(err instanceof UserError)) throw err;
    }
  }
  return new Float32Array(n);
}
