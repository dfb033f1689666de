// AssemblyScript (compiled by scripts/build-wasm.mjs, not by tsc): fused causal
// attention, the f32x4 twin of kernels/ref/attention.ts. The host resolves
// which keys each query sees (causal limit, key lengths, packed segments and
// their context) into `ranges`: int32 [B*T, 4] = two half-open key ranges per
// (batch, query). `mask` is u8 [B, S] (0 = no mask), `scores` f32 [S] scratch.
// Pointers are byte offsets into the shared memory; backward ACCUMULATES.
import { expF32, logF64 } from "./simd-math";

@inline function dot(a: usize, b: usize, D: i32): f32 {
  const dv = D & ~7;
  let s0 = f32x4.splat(0);
  let s1 = f32x4.splat(0);
  let i = 0;
  for (; i < dv; i += 8) {
    const o = <usize>i * 4;
    s0 = f32x4.add(s0, f32x4.mul(v128.load(a + o), v128.load(b + o)));
    s1 = f32x4.add(s1, f32x4.mul(v128.load(a + o, 16), v128.load(b + o, 16)));
  }
  const s = f32x4.add(s0, s1);
  let r = f32x4.extract_lane(s, 0) + f32x4.extract_lane(s, 1) + f32x4.extract_lane(s, 2) + f32x4.extract_lane(s, 3);
  for (; i < D; i++) r += load<f32>(a + <usize>i * 4) * load<f32>(b + <usize>i * 4);
  return r;
}

/** y[0:D] += a * x[0:D] */
@inline function axpy(y: usize, a: f32, x: usize, D: i32): void {
  const dv = D & ~3;
  const av = f32x4.splat(a);
  let i = 0;
  for (; i < dv; i += 4) {
    const o = <usize>i * 4;
    v128.store(y + o, f32x4.add(v128.load(y + o), f32x4.mul(av, v128.load(x + o))));
  }
  for (; i < D; i++) store<f32>(y + <usize>i * 4, load<f32>(y + <usize>i * 4) + a * load<f32>(x + <usize>i * 4));
}

@inline function visible(mask: usize, b: i32, S: i32, s: i32): bool {
  return mask == 0 || load<u8>(mask + <usize>b * <usize>S + <usize>s) != 0;
}

export function attentionForward(
  out: usize, lse: usize, q: usize, k: usize, v: usize, ranges: usize, mask: usize, scores: usize,
  B: i32, Hq: i32, Hkv: i32, T: i32, S: i32, D: i32, scale: f32,
): void {
  const group = Hq / Hkv;
  const rowBytes = <usize>D * 4;
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < Hq; h++) {
      const kvBase = <usize>(b * Hkv + h / group) * <usize>S * rowBytes;
      for (let t = 0; t < T; t++) {
        const row = (b * Hq + h) * T + t;
        const qo = q + <usize>row * rowBytes;
        const oo = out + <usize>row * rowBytes;
        const rg = ranges + <usize>(b * T + t) * 16;
        let max: f32 = -Infinity;
        for (let part = 0; part < 2; part++) {
          const lo = load<i32>(rg + <usize>part * 8);
          const hi = load<i32>(rg + <usize>part * 8 + 4);
          for (let s = lo; s < hi; s++) {
            if (!visible(mask, b, S, s)) continue;
            const sc = dot(qo, k + kvBase + <usize>s * rowBytes, D) * scale;
            store<f32>(scores + <usize>s * 4, sc);
            if (sc > max) max = sc;
          }
        }
        memory.fill(oo, 0, rowBytes);
        if (max == -Infinity) {
          store<f32>(lse + <usize>row * 4, -Infinity);
          continue;
        }
        let sum: f32 = 0;
        for (let part = 0; part < 2; part++) {
          const lo = load<i32>(rg + <usize>part * 8);
          const hi = load<i32>(rg + <usize>part * 8 + 4);
          for (let s = lo; s < hi; s++) {
            if (!visible(mask, b, S, s)) continue;
            const p = expF32(load<f32>(scores + <usize>s * 4) - max);
            sum += p;
            axpy(oo, p, v + kvBase + <usize>s * rowBytes, D);
          }
        }
        const inv: f32 = 1 / sum;
        const iv = f32x4.splat(inv);
        const dv = D & ~3;
        let i = 0;
        for (; i < dv; i += 4) v128.store(oo + <usize>i * 4, f32x4.mul(v128.load(oo + <usize>i * 4), iv));
        for (; i < D; i++) store<f32>(oo + <usize>i * 4, load<f32>(oo + <usize>i * 4) * inv);
        store<f32>(lse + <usize>row * 4, <f32>(<f64>max + logF64(<f64>sum)));
      }
    }
  }
}

/** dq, dk, dv may be 0 (not wanted). */
export function attentionBackward(
  dq: usize, dk: usize, dv: usize, dout: usize, q: usize, k: usize, v: usize, out: usize, lse: usize,
  ranges: usize, mask: usize,
  B: i32, Hq: i32, Hkv: i32, T: i32, S: i32, D: i32, scale: f32,
): void {
  const group = Hq / Hkv;
  const rowBytes = <usize>D * 4;
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < Hq; h++) {
      const kvBase = <usize>(b * Hkv + h / group) * <usize>S * rowBytes;
      for (let t = 0; t < T; t++) {
        const row = (b * Hq + h) * T + t;
        const l = load<f32>(lse + <usize>row * 4);
        if (l == -Infinity) continue;
        const off = <usize>row * rowBytes;
        const qo = q + off;
        const go = dout + off;
        const rg = ranges + <usize>(b * T + t) * 16;
        // sum_s p_s (dout . v_s) equals dout . out: the softmax Jacobian's shared term.
        const dOutDotOut = dot(go, out + off, D);
        for (let part = 0; part < 2; part++) {
          const lo = load<i32>(rg + <usize>part * 8);
          const hi = load<i32>(rg + <usize>part * 8 + 4);
          for (let s = lo; s < hi; s++) {
            if (!visible(mask, b, S, s)) continue;
            const ko = kvBase + <usize>s * rowBytes;
            const p = expF32(dot(qo, k + ko, D) * scale - l);
            const ds = p * (dot(go, v + ko, D) - dOutDotOut) * scale;
            if (dq != 0) axpy(dq + off, ds, k + ko, D);
            if (dk != 0) axpy(dk + ko, ds, qo, D);
            if (dv != 0) axpy(dv + ko, p, go, D);
          }
        }
      }
    }
  }
}
