/**
 * Rotary position embeddings (HF Llama "rotate half" layout) with the
 * default and `llama3` frequency schedules. The cos/sin table is built once
 * per model; the op applies it to q or k at given positions.
 */
import { UserError } from "../../errors.js";
import { ropeBackward, ropeForward } from "../../kernels/ref/rope.js";
import type { Tensor } from "../../tensor/tensor.js";
import { type Graph, NOTHING_SAVED } from "../graph.js";

/** HF `rope_scaling` of `rope_type: "llama3"` (field names as in config.json). */
export interface Llama3RopeScaling {
  rope_type: "llama3";
  factor: number;
  low_freq_factor: number;
  high_freq_factor: number;
  original_max_position_embeddings: number;
}

export interface RopeConfig {
  /** Rotated dims per head (even). */
  headDim: number;
  /** HF `rope_theta` (10000 for Llama 2, 500000 for Llama 3). */
  theta: number;
  /** Positions the table covers (HF `max_position_embeddings`, or less). */
  maxPositions: number;
  /** HF `rope_scaling`; null/undefined = default RoPE. */
  scaling?: Llama3RopeScaling | null;
}

export interface RopeTable {
  readonly headDim: number;
  readonly maxPositions: number;
  /** [headDim / 2] inverse frequencies after scaling. */
  readonly invFreq: Float32Array;
  /** [maxPositions, headDim / 2] */
  readonly cos: Float32Array;
  /** [maxPositions, headDim / 2] */
  readonly sin: Float32Array;
}

/**
 * Inverse frequencies theta^(-2i/D), and for `llama3` scaling: wavelengths
 * longer than original_max / low_freq_factor are slowed by `factor`, those
 * shorter than original_max / high_freq_factor are kept, and the band in
 * between is blended linearly in original_max / wavelength.
 */
export function ropeInvFreq(cfg: Pick<RopeConfig, "headDim" | "theta" | "scaling">): Float32Array {
  const { headDim, theta } = cfg;
  if (headDim <= 0 || headDim % 2 !== 0) throw new UserError(`rope: head dim ${headDim} must be positive and even`);
  const half = headDim / 2;
  const inv = new Float32Array(half);
  for (let i = 0; i < half; i++) inv[i] = 1 / theta ** ((2 * i) / headDim);
  const sc = cfg.scaling;
  if (!sc) return inv;
  if (sc.rope_type !== "llama3") throw new UserError(`rope: unsupported rope_scaling type ${String(sc.rope_type)}`);
  const { factor, low_freq_factor: low, high_freq_factor: high, original_max_position_embeddings: oldLen } = sc;
  if (!(factor > 0) || !(high > low) || !(oldLen > 0)) {
    throw new UserError(`rope: invalid llama3 rope_scaling ${JSON.stringify(sc)}`);
  }
  const lowFreqWavelen = oldLen / low;
  const highFreqWavelen = oldLen / high;
  for (let i = 0; i < half; i++) {
    const f = inv[i];
    const wavelen = (2 * Math.PI) / f;
    if (wavelen < highFreqWavelen) continue;
    if (wavelen > lowFreqWavelen) {
      inv[i] = f / factor;
    } else {
      const smooth = (oldLen / wavelen - low) / (high - low);
      inv[i] = (1 - smooth) * (f / factor) + smooth * f;
    }
  }
  return inv;
}

/**
 * Precomputes cos/sin for positions [0, maxPositions). Angles are formed in
 * float32 as HF does (pos * inv_freq in fp32), so tables match its rounding.
 */
export function createRopeTable(cfg: RopeConfig): RopeTable {
  return ropeTableFromInvFreq(ropeInvFreq(cfg), cfg.maxPositions);
}

/** The cos/sin table for given inverse frequencies ([headDim / 2]), e.g. after a scaling createRopeTable does not know. */
export function ropeTableFromInvFreq(invFreq: Float32Array, maxPositions: number): RopeTable {
  const half = invFreq.length;
  const P = maxPositions;
  if (!Number.isInteger(P) || P <= 0) throw new UserError(`rope: maxPositions ${P} must be a positive integer`);
  const cos = new Float32Array(P * half);
  const sin = new Float32Array(P * half);
  for (let p = 0; p < P; p++) {
    for (let i = 0; i < half; i++) {
      const angle = Math.fround(p * invFreq[i]);
      cos[p * half + i] = Math.cos(angle);
      sin[p * half + i] = Math.sin(angle);
    }
  }
  return { headDim: 2 * half, maxPositions: P, invFreq, cos, sin };
}

export interface RopeOptions {
  /** Positions are pastLength + t (default 0) unless `positions` is given. */
  pastLength?: number;
  /** Explicit positions [B, T] (e.g. with left padding). */
  positions?: Int32Array;
}

/**
 * Rotates q or k by their positions.
 * Shapes: x [B, H, T, D] with D == table.headDim. Out: like x.
 */
export function rope(g: Graph, x: Tensor, table: RopeTable, opts: RopeOptions = {}): Tensor {
  if (x.rank !== 4 || x.dim(3) !== table.headDim) {
    throw new UserError(`rope: ${x.describe()} is not [B, H, T, ${table.headDim}]`);
  }
  const [B, H, T, D] = x.shape;
  const past = opts.pastLength ?? 0;
  const positions = opts.positions ?? null;
  if (positions) {
    if (positions.length !== B * T) throw new UserError(`rope: positions has ${positions.length} entries, needs B*T = ${B * T}`);
    for (const p of positions) {
      if (p < 0 || p >= table.maxPositions) throw new UserError(`rope: position ${p} outside table [0, ${table.maxPositions})`);
    }
  } else if (!Number.isInteger(past) || past < 0 || past + T > table.maxPositions) {
    throw new UserError(`rope: positions ${past}..${past + T - 1} outside table [0, ${table.maxPositions})`);
  }
  const dims = { B, H, T, D };
  const out = g.output(x.shape, [x]);
  // The backend's kernels when it has them (same signatures, bit-equal), else the reference ones.
  const forward = g.backend.ropeForward ?? ropeForward;
  const backward = g.backend.ropeBackward ?? ropeBackward;
  forward(out.data, x.data, table.cos, table.sin, positions, past, dims);
  g.record("rope", out, [x], (dout) => backward(g.gradOf(x), dout, table.cos, table.sin, positions, past, dims), NOTHING_SAVED);
  return out;
}
