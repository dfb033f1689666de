/**
 * Fused, chunked LM head + log-softmax + label gather. The N x V logits are
 * never materialised at once: rows are processed in chunks; forward keeps
 * each row's log-sum-exp, backward recomputes the chunk's logits to form
 * dlogits = dout * (onehot(label) - softmax) and turns them into dh and dW
 * with two sgemms. Rows labelled -100 cost nothing (they are skipped before
 * any compute). Equal to matmul -> logSoftmax -> gatherLabels (tested).
 */
import { UserError } from "../../errors.js";
import type { Backend } from "../../kernels/backend.js";
import type { Tensor } from "../../tensor/tensor.js";
import type { Graph } from "../graph.js";
import { logSumExpRowsRef, scaledSoftmaxRowsRef } from "../../kernels/ref/row-softmax.js";
import { checkLabels, IGNORE_INDEX } from "./gather.js";

export interface LmHeadOptions {
  /**
   * Unembedding layout: "vc" = [V, C] (tied embeddings, Llama lm_head.weight;
   * default) or "cv" = [C, V].
   */
  layout?: "vc" | "cv";
  /** Max rows per chunk; default: as many as keep a chunk's logits near 16M floats (64 MiB). */
  chunkRows?: number;
}

/**
 * Logits per chunk. Measured through `rrhf train` (bench/train.ts --logged-steps 6, 2 threads, native; 2026-12-05):
 * GPT-2-small (vocab 50257, 256 scored rows) 1.28-1.32 s/step at 2^20, 1.02-1.04 at 2^22, 0.96-0.97 at 2^23 and
 * 0.88 at 2^24 (one chunk; peak RSS +70 MiB over 2^22); SmolLM-135M 1.18-1.22 at 2^22 against 1.11-1.12 at 2^24.
 * Fewer, taller chunks keep the LM head's matrix products efficient; 64 MiB bounds the extra memory.
 */
const CHUNK_FLOATS = 1 << 24;

/** Sizes and the rows that are scored, checked once for forward and backward. */
interface LmHeadPlan {
  V: number;
  C: number;
  N: number;
  /** Indices of the rows whose label is not -100. */
  rows: number[];
  /** Rows per chunk. */
  chunk: number;
  /** True for the "vc" layout ([V, C], used transposed). */
  transW: boolean;
}

function planLmHead(h: Tensor, weight: Tensor, labels: Int32Array, opts: LmHeadOptions): LmHeadPlan {
  const layout = opts.layout ?? "vc";
  if (weight.rank !== 2) throw new UserError(`lmHeadLogProbs: weight must be 2-D, got ${weight.describe()}`);
  const V = layout === "vc" ? weight.dim(0) : weight.dim(1);
  const C = layout === "vc" ? weight.dim(1) : weight.dim(0);
  if (h.dim(-1) !== C) throw new UserError(`lmHeadLogProbs: hidden ${h.describe()} does not match weight ${weight.describe()} (${layout})`);
  const N = C === 0 ? 0 : h.size / C;
  if (labels.length !== N) throw new UserError(`lmHeadLogProbs: ${labels.length} labels for ${N} rows`);
  checkLabels("lmHeadLogProbs", labels, V);
  const cr = opts.chunkRows;
  // A fractional (or NaN) chunk would index rows between integers: garbage or all-zero log-probs.
  if (cr !== undefined && (Number.isNaN(cr) || (Number.isFinite(cr) && !Number.isInteger(cr)))) {
    throw new UserError(`lmHeadLogProbs: chunkRows must be a whole number of rows, got ${cr}`);
  }
  const rows: number[] = [];
  for (let n = 0; n < N; n++) if (labels[n] !== IGNORE_INDEX) rows.push(n);
  const chunk = Math.max(1, Math.min(opts.chunkRows ?? Math.floor(CHUNK_FLOATS / Math.max(V, 1)), Math.max(rows.length, 1)));
  return { V, C, N, rows, chunk, transW: layout === "vc" };
}

/**
 * Per-position log-prob of the label: out[n] = log_softmax(h[n] @ W^T)[labels[n]],
 * 0 where labels[n] is -100.
 *
 * Shapes: h [N, C] (leading dims flatten into N); weight [V, C] (or [C, V]
 * with layout "cv"); labels [N]. Out: [N].
 *
 * @example
 * const logp = lmHeadLogProbs(g, hidden, wte, labels); // tied GPT-2 head
 * g.backward(logp, dLogp); // dLogp from the RRHF loss
 */
export function lmHeadLogProbs(g: Graph, h: Tensor, weight: Tensor, labels: Int32Array, opts: LmHeadOptions = {}): Tensor {
  const p = planLmHead(h, weight, labels, opts);
  const out = g.output([p.N], [h, weight], true);
  const lse = g.scratch(p.N);
  // When every scored row fits one chunk, backward reuses the forward's logits instead of recomputing them
  // (one product of the four saved, for the chunk's memory held until backward).
  const keep = out.requiresGrad && p.rows.length <= p.chunk;
  const kept = forwardChunks(g, h, weight, labels, p, out.data, lse, keep);
  g.record("lmHeadLogProbs", out, [h, weight], (dout) => backwardChunks(g, h, weight, labels, p, lse, dout, kept));
  return out;
}

/** The one chunk's gathered hidden rows and logits, kept from forward for backward. */
interface KeptChunk {
  hc: Float32Array;
  logits: Float32Array;
}

/** Forward: out[n] and the log-sum-exp lse[n] of every scored row, chunk by chunk; returns the chunk when `keep`. */
function forwardChunks(
  g: Graph,
  h: Tensor,
  weight: Tensor,
  labels: Int32Array,
  p: LmHeadPlan,
  out: Float32Array,
  lse: Float32Array,
  keep: boolean,
): KeptChunk | null {
  const { C, V, rows, chunk } = p;
  const hc = g.scratch(chunk * C);
  const logits = g.scratch(chunk * V);
  const lseChunk = g.scratch(chunk);
  const logSumExp = g.backend.logSumExpRows?.bind(g.backend) ?? logSumExpRowsRef;
  for (let r0 = 0; r0 < rows.length; r0 += chunk) {
    const r = Math.min(chunk, rows.length - r0);
    chunkLogits(g.backend, h.data, weight.data, rows, r0, r, C, V, p.transW, hc, logits);
    logSumExp(lseChunk, logits, r, V);
    for (let i = 0; i < r; i++) {
      const n = rows[r0 + i];
      lse[n] = lseChunk[i];
      out[n] = logits[i * V + labels[n]] - lse[n];
    }
  }
  g.freeScratch(lseChunk);
  if (keep) return { hc, logits };
  // Work space goes back now; backward takes its own (the pool hands the same buffers back).
  g.freeScratch(hc);
  g.freeScratch(logits);
  return null;
}

/** Backward: recomputes each chunk's logits, forms dlogits and accumulates dh and dW. */
function backwardChunks(
  g: Graph,
  h: Tensor,
  weight: Tensor,
  labels: Int32Array,
  p: LmHeadPlan,
  lse: Float32Array,
  dout: Float32Array,
  kept: KeptChunk | null,
): void {
  const { C, V, rows, chunk, transW } = p;
  const dh = h.requiresGrad ? g.gradOf(h) : null;
  const dW = weight.requiresGrad ? g.gradOf(weight) : null;
  const be = g.backend;
  const hcB = kept ? kept.hc : g.scratch(chunk * C);
  const dl = kept ? kept.logits : g.scratch(chunk * V);
  const dhc = g.scratch(chunk * C);
  const lseC = g.scratch(chunk);
  const negDout = g.scratch(chunk);
  const softmaxRows = be.scaledSoftmaxRows?.bind(be) ?? scaledSoftmaxRowsRef;
  for (let r0 = 0; r0 < rows.length; r0 += chunk) {
    const r = Math.min(chunk, rows.length - r0);
    if (!kept) chunkLogits(be, h.data, weight.data, rows, r0, r, C, V, transW, hcB, dl);
    // dlogits = dout * (onehot - softmax), in place over the recomputed logits.
    for (let i = 0; i < r; i++) {
      lseC[i] = lse[rows[r0 + i]];
      negDout[i] = -dout[rows[r0 + i]];
    }
    softmaxRows(dl, lseC, negDout, r, V);
    for (let i = 0; i < r; i++) dl[i * V + labels[rows[r0 + i]]] += dout[rows[r0 + i]];
    const dlc = dl.subarray(0, r * V);
    const hcc = hcB.subarray(0, r * C);
    if (dh) {
      // dh_chunk [r, C] = dl [r, V] @ W_vc [V, C]   (or dl @ W_cv^T)
      const dhcc = dhc.subarray(0, r * C);
      be.sgemm(false, !transW, r, C, V, 1, dlc, weight.data, 0, dhcc);
      for (let i = 0; i < r; i++) {
        const o = rows[r0 + i] * C;
        for (let c = 0; c < C; c++) dh[o + c] += dhcc[i * C + c];
      }
    }
    if (dW) {
      // "vc": dW [V, C] += dl^T [V, r] @ hc [r, C];  "cv": dW [C, V] += hc^T [C, r] @ dl [r, V]
      if (transW) be.sgemm(true, false, V, C, r, 1, dlc, hcc, 1, dW);
      else be.sgemm(true, false, C, V, r, 1, hcc, dlc, 1, dW);
    }
  }
  for (const buf of [hcB, dhc, lseC, negDout]) g.freeScratch(buf);
  // The logits are the largest buffer of a step and the next forward pass is the next to need one this size.
  g.freeScratch(dl, true);
}

/** Gathers `r` scored rows of h into hc [r, C] and computes their logits [r, V]. */
function chunkLogits(
  be: Backend,
  h: Float32Array,
  w: Float32Array,
  rows: readonly number[],
  r0: number,
  r: number,
  C: number,
  V: number,
  transW: boolean,
  hc: Float32Array,
  logits: Float32Array,
): void {
  for (let i = 0; i < r; i++) {
    const n = rows[r0 + i];
    hc.set(h.subarray(n * C, n * C + C), i * C);
  }
  be.sgemm(false, transW, r, V, C, 1, hc.subarray(0, r * C), w, 0, logits.subarray(0, r * V));
}
