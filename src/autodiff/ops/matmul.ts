/**
 * Matrix products on backend.sgemm, transposes expressed as sgemm flags
 * (never materialised). Batched when both operands have leading dims; a 2-D
 * right operand is shared by every batch (folded into one big sgemm).
 */
import { UserError } from "../../errors.js";
import { sameShape } from "../../tensor/shape.js";
import type { Tensor } from "../../tensor/tensor.js";
import type { Graph } from "../graph.js";
import { colSumsAcc, copyBlocks, rows } from "../../kernels/ref/memops.js";

export interface MatmulOptions {
  /** Read a's last two dims as [K, M] (use a^T). */
  transA?: boolean;
  /** Read b's last two dims as [N, K] (use b^T): HF Linear weights [out, in]. */
  transB?: boolean;
}

/**
 * op(a) @ op(b) over the last two dims.
 *
 * Shapes: a [..., M, K] ([..., K, M] with transA); b [K, N] ([N, K] with
 * transB) or [..., K, N] with the same leading dims as a. Out: [..., M, N].
 *
 * @example matmul(g, x, wq, { transB: true }) // x [B, T, C], wq [C_out, C] -> [B, T, C_out]
 */
export function matmul(g: Graph, a: Tensor, b: Tensor, opts: MatmulOptions = {}): Tensor {
  const transA = opts.transA ?? false;
  const transB = opts.transB ?? false;
  if (a.rank < 2 || b.rank < 2) {
    throw new UserError(`matmul: operands need rank >= 2, got ${a.describe()} and ${b.describe()}`);
  }
  const batchShape = a.shape.slice(0, -2);
  const batched = b.rank > 2;
  if (batched && !sameShape(batchShape, b.shape.slice(0, -2))) {
    throw new UserError(`matmul: batch dims differ: ${a.describe()} vs ${b.describe()}`);
  }
  const M = transA ? a.dim(-1) : a.dim(-2);
  const K = transA ? a.dim(-2) : a.dim(-1);
  const Kb = transB ? b.dim(-1) : b.dim(-2);
  const N = transB ? b.dim(-2) : b.dim(-1);
  if (K !== Kb) {
    throw new UserError(
      `matmul: inner dims differ (${K} vs ${Kb}) for ${a.describe()}${transA ? "^T" : ""} @ ${b.describe()}${transB ? "^T" : ""}`,
    );
  }
  let batch = 1;
  for (const d of batchShape) batch *= d;
  const out = g.output([...batchShape, M, N], [a, b]);
  const be = g.backend;
  // A shared 2-D b with untransposed a: the batch folds into M (one sgemm).
  const fold = !batched && !transA;
  const calls = fold ? 1 : batch;
  const m = fold ? batch * M : M;
  const aStep = M * K;
  const bStep = batched ? K * N : 0;
  const cStep = M * N;
  const at = (buf: Float32Array, i: number, step: number, len: number) => (calls === 1 ? buf : buf.subarray(i * step, i * step + len));
  for (let i = 0; i < calls; i++) {
    be.sgemm(transA, transB, m, N, K, 1, at(a.data, i, aStep, aStep), at(b.data, i, bStep, K * N), 0, at(out.data, i, cStep, cStep));
  }
  g.record(
    "matmul",
    out,
    [a, b],
    (dC) => {
      const dA = a.requiresGrad ? g.gradOf(a) : null;
      const dB = b.requiresGrad ? g.gradOf(b) : null;
      for (let i = 0; i < calls; i++) {
        const Ai = at(a.data, i, aStep, aStep);
        const Bi = at(b.data, i, bStep, K * N);
        const dCi = at(dC, i, cStep, cStep);
        if (dA) {
          const dAi = at(dA, i, aStep, aStep);
          // dA = dC op(B)^T, or its transpose op(B) dC^T when a was read transposed.
          if (transA) be.sgemm(transB, true, K, m, N, 1, Bi, dCi, 1, dAi);
          else be.sgemm(false, !transB, m, K, N, 1, dCi, Bi, 1, dAi);
        }
        if (dB) {
          const dBi = at(dB, i, bStep, K * N);
          // dB = op(A)^T dC, or its transpose dC^T op(A) when b was read transposed.
          if (transB) be.sgemm(true, transA, N, K, m, 1, dCi, Ai, 1, dBi);
          else be.sgemm(!transA, false, K, N, m, 1, Ai, dCi, 1, dBi);
        }
      }
    },
    [a, b],
  );
  return out;
}

/** Weight layouts of a linear layer. */
export type LinearLayout = "out_in" | "in_out";

/**
 * x @ W^T + bias (HF nn.Linear, weight [out, in], layout "out_in", default)
 * or x @ W + bias (GPT-2 Conv1D, weight [in, out], layout "in_out").
 *
 * Shapes: x [..., in]; weight as above; bias [out] or null. Out: [..., out].
 */
export function linear(g: Graph, x: Tensor, weight: Tensor, bias: Tensor | null = null, layout: LinearLayout = "out_in"): Tensor {
  if (weight.rank !== 2) throw new UserError(`linear: weight must be 2-D, got ${weight.describe()}`);
  const outDim = layout === "out_in" ? weight.dim(0) : weight.dim(1);
  if (bias && (bias.rank !== 1 || bias.dim(0) !== outDim)) {
    throw new UserError(`linear: bias ${bias.describe()} does not match ${outDim} outputs`);
  }
  if (x.rank < 1) throw new UserError(`linear: input must have rank >= 1, got ${x.describe()}`);
  const flatIn = x.rank === 1 ? g.view(x, [1, x.dim(0)]) : x;
  const transB = layout === "out_in";
  const out = bias ? biasedMatmul(g, flatIn, weight, bias, transB) : matmul(g, flatIn, weight, { transB });
  return x.rank === 1 ? g.view(out, [outDim]) : out;
}

/**
 * x @ op(W) + bias as one op: the output starts as the bias in every row and
 * sgemm accumulates into it (beta = 1); backward takes dbias as column sums of
 * dC. Why: the same numbers as matmul then add (bias + sum in one f32 result
 * either way, up to the order of the last rounding), without the
 * intermediate product, the broadcast add's pass and its gradient's pass.
 * Shapes: x [..., K]; W [N, K] (transB) or [K, N]; bias [N].
 */
function biasedMatmul(g: Graph, x: Tensor, w: Tensor, bias: Tensor, transB: boolean): Tensor {
  const K = x.dim(-1);
  const Kw = transB ? w.dim(1) : w.dim(0);
  const N = transB ? w.dim(0) : w.dim(1);
  if (K !== Kw) throw new UserError(`linear: inner dims differ (${K} vs ${Kw}) for ${x.describe()} @ ${w.describe()}${transB ? "^T" : ""}`);
  const M = x.size / K;
  const out = g.output([...x.shape.slice(0, -1), N], [x, w, bias]);
  const c = out.data;
  const be = g.backend;
  // The bias in every row (a zero source stride repeats it).
  copyBlocks(be, c, bias.data, rows(0, N, 0, 0, M, N, false));
  if (M > 0 && N > 0) be.sgemm(false, transB, M, N, K, 1, x.data, w.data, 1, c);
  g.record(
    "linear",
    out,
    [x, w, bias],
    (dC) => {
      if (M === 0 || N === 0) return;
      if (x.requiresGrad) be.sgemm(false, !transB, M, K, N, 1, dC, w.data, 1, g.gradOf(x));
      if (w.requiresGrad) {
        if (transB) be.sgemm(true, false, N, K, M, 1, dC, x.data, 1, g.gradOf(w));
        else be.sgemm(true, false, K, N, M, 1, x.data, dC, 1, g.gradOf(w));
      }
      if (bias.requiresGrad) colSumsAcc(be, g.gradOf(bias), dC, M, N);
    },
    [x, w],
  );
  return out;
}
