/**
 * Custom autodiff ops the shared-prefix layout needs beyond the generic set:
 * - `prependPrefix`: cached keys/values (one shared prefix, or one cache
 *   per row) placed before each row's own, gradients summed over the rows;
 * - `concatRows`: stacking [N_i, C] matrices into one [ΣN_i, C].
 * Each is a forward/backward pair recorded on the Graph; parity tests show
 * the shared-prefix layout gives the numbers of the plain one.
 */
import type { Graph } from "../autodiff/graph.js";
import { UserError } from "../errors.js";
import type { Tensor } from "../tensor/tensor.js";

/**
 * Each row's keys (or values) after the cached ones: out[b] = cache[b or 0] ++ x[b]
 * along time. A cache of batch 1 is one prefix shared by all B rows (its
 * gradient sums over them); a cache of batch B is a per-row cache (decoding).
 *
 * Shapes: cache [1 or B, H, P, D]; x [B, H, T, D]. Out: [B, H, P + T, D].
 */
export function prependPrefix(g: Graph, cache: Tensor, x: Tensor): Tensor {
  if (
    cache.rank !== 4 ||
    x.rank !== 4 ||
    cache.dim(1) !== x.dim(1) ||
    cache.dim(3) !== x.dim(3) ||
    (cache.dim(0) !== 1 && cache.dim(0) !== x.dim(0))
  ) {
    throw new UserError(`prependPrefix: need cache [1 or B, H, P, D] and x [B, H, T, D], got ${cache.describe()} and ${x.describe()}`);
  }
  const [B, H, T, D] = x.shape;
  const P = cache.dim(2);
  const S = P + T;
  const shared = cache.dim(0) === 1;
  /** Offset of (row b, head h) in the cache. */
  const at = (b: number, h: number) => ((shared ? 0 : b) * H + h) * P * D;
  const out = g.output([B, H, S, D], [cache, x]);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      const o = (b * H + h) * S * D;
      out.data.set(cache.data.subarray(at(b, h), at(b, h) + P * D), o);
      out.data.set(x.data.subarray((b * H + h) * T * D, (b * H + h + 1) * T * D), o + P * D);
    }
  }
  g.record("prependPrefix", out, [cache, x], (dout) => {
    const dc = cache.requiresGrad ? g.gradOf(cache) : null;
    const dx = x.requiresGrad ? g.gradOf(x) : null;
    for (let b = 0; b < B; b++) {
      for (let h = 0; h < H; h++) {
        const o = (b * H + h) * S * D;
        if (dc) {
          const co = at(b, h);
          for (let i = 0; i < P * D; i++) dc[co + i] += dout[o + i];
        }
        if (dx) {
          const xo = (b * H + h) * T * D;
          for (let i = 0; i < T * D; i++) dx[xo + i] += dout[o + P * D + i];
        }
      }
    }
  });
  return out;
}

/** Stacks matrices [N_i, C] into [ΣN_i, C]; backward hands each part its rows. */
export function concatRows(g: Graph, parts: readonly Tensor[]): Tensor {
  if (parts.length === 0) throw new UserError("concatRows: no parts");
  const C = parts[0].dim(-1);
  let N = 0;
  for (const p of parts) {
    if (p.rank !== 2 || p.dim(1) !== C) throw new UserError(`concatRows: ${p.describe()} is not [N, ${C}]`);
    N += p.dim(0);
  }
  const out = g.output([N, C], parts);
  let offset = 0;
  const offsets: number[] = [];
  for (const p of parts) {
    offsets.push(offset);
    out.data.set(p.data, offset);
    offset += p.size;
  }
  g.record("concatRows", out, parts, (dout) => {
    parts.forEach((p, i) => {
      if (!p.requiresGrad) return;
      const dp = g.gradOf(p);
      for (let j = 0; j < p.size; j++) dp[j] += dout[offsets[i] + j];
    });
  });
  return out;
}
