// AssemblyScript (compiled by scripts/build-wasm.mjs, not by tsc): pointwise
// activations and the LM head's per-row softmax pieces, f32x4 with scalar
// tails. Same argument order as the plain TypeScript kernels in kernels/ref
// (pointers are byte offsets into the shared memory); backward ACCUMULATES.
import { expF32, expF32x4, logF64, sumLanesF64 } from "./simd-math";

const GELU_K: f32 = 0.7978845608; // sqrt(2 / pi)
const GELU_C: f32 = 0.044715;
// tanh(y) = 1 - 2 / (e^{2y} + 1); beyond |y| = 10 it is +-1 in f32, and e^{2y} stays finite.
const TANH_CLAMP: f32 = 10;

@inline function tanhF32x4(y: v128): v128 {
  y = f32x4.min(f32x4.max(y, f32x4.splat(-TANH_CLAMP)), f32x4.splat(TANH_CLAMP));
  const e = expF32x4(f32x4.add(y, y));
  return f32x4.sub(f32x4.splat(1), f32x4.div(f32x4.splat(2), f32x4.add(e, f32x4.splat(1))));
}

@inline function geluInner(x: v128): v128 {
  const x3 = f32x4.mul(f32x4.mul(x, x), x);
  return f32x4.mul(f32x4.splat(GELU_K), f32x4.add(x, f32x4.mul(f32x4.splat(GELU_C), x3)));
}

@inline function geluOut(x: v128): v128 {
  const t = tanhF32x4(geluInner(x));
  return f32x4.mul(f32x4.mul(f32x4.splat(0.5), x), f32x4.add(f32x4.splat(1), t));
}

// d gelu / dx = 0.5 (1 + t) + 0.5 x K (1 + 3 c x^2) (1 - t^2)
@inline function geluSlope(x: v128): v128 {
  const t = tanhF32x4(geluInner(x));
  const one = f32x4.splat(1);
  const half = f32x4.splat(0.5);
  const poly = f32x4.add(one, f32x4.mul(f32x4.splat(3 * GELU_C), f32x4.mul(x, x)));
  const dt = f32x4.mul(f32x4.mul(f32x4.splat(GELU_K), poly), f32x4.sub(one, f32x4.mul(t, t)));
  return f32x4.add(f32x4.mul(half, f32x4.add(one, t)), f32x4.mul(f32x4.mul(half, x), dt));
}

@inline function sigmoidF32x4(x: v128): v128 {
  const one = f32x4.splat(1);
  return f32x4.div(one, f32x4.add(one, expF32x4(f32x4.neg(x))));
}

// Tails load one lane through a splat, so every element takes the same arithmetic path.
@inline function lane(p: usize): v128 {
  return v128.load32_splat(p);
}

export function geluForward(out: usize, inp: usize, n: i32): void {
  const nv = n & ~3;
  let i = 0;
  for (; i < nv; i += 4) v128.store(out + <usize>i * 4, geluOut(v128.load(inp + <usize>i * 4)));
  for (; i < n; i++) store<f32>(out + <usize>i * 4, f32x4.extract_lane(geluOut(lane(inp + <usize>i * 4)), 0));
}

export function geluBackward(dinp: usize, inp: usize, dout: usize, n: i32): void {
  const nv = n & ~3;
  let i = 0;
  for (; i < nv; i += 4) {
    const o = <usize>i * 4;
    const g = f32x4.mul(v128.load(dout + o), geluSlope(v128.load(inp + o)));
    v128.store(dinp + o, f32x4.add(v128.load(dinp + o), g));
  }
  for (; i < n; i++) {
    const o = <usize>i * 4;
    const s = f32x4.extract_lane(geluSlope(lane(inp + o)), 0);
    store<f32>(dinp + o, load<f32>(dinp + o) + load<f32>(dout + o) * s);
  }
}

export function siluForward(out: usize, inp: usize, n: i32): void {
  const nv = n & ~3;
  let i = 0;
  for (; i < nv; i += 4) {
    const x = v128.load(inp + <usize>i * 4);
    v128.store(out + <usize>i * 4, f32x4.mul(x, sigmoidF32x4(x)));
  }
  for (; i < n; i++) {
    const x = lane(inp + <usize>i * 4);
    store<f32>(out + <usize>i * 4, f32x4.extract_lane(f32x4.mul(x, sigmoidF32x4(x)), 0));
  }
}

// d silu / dx = s (1 + x (1 - s)), s = sigmoid(x)
@inline function siluSlope(x: v128): v128 {
  const s = sigmoidF32x4(x);
  const one = f32x4.splat(1);
  return f32x4.mul(s, f32x4.add(one, f32x4.mul(x, f32x4.sub(one, s))));
}

export function siluBackward(dinp: usize, inp: usize, dout: usize, n: i32): void {
  const nv = n & ~3;
  let i = 0;
  for (; i < nv; i += 4) {
    const o = <usize>i * 4;
    const g = f32x4.mul(v128.load(dout + o), siluSlope(v128.load(inp + o)));
    v128.store(dinp + o, f32x4.add(v128.load(dinp + o), g));
  }
  for (; i < n; i++) {
    const o = <usize>i * 4;
    const s = f32x4.extract_lane(siluSlope(lane(inp + o)), 0);
    store<f32>(dinp + o, load<f32>(dinp + o) + load<f32>(dout + o) * s);
  }
}

/** lse[i] = log(sum_j exp(x[i, j])) per row of x [N, C], max-shifted; the sum is kept in f64. */
export function logSumExpRows(lse: usize, x: usize, N: i32, C: i32): void {
  const cv = C & ~3;
  for (let i = 0; i < N; i++) {
    const row = x + <usize>i * <usize>C * 4;
    let mv = f32x4.splat(-Infinity);
    let j = 0;
    for (; j < cv; j += 4) mv = f32x4.max(mv, v128.load(row + <usize>j * 4));
    let top = max<f32>(max<f32>(f32x4.extract_lane(mv, 0), f32x4.extract_lane(mv, 1)), max<f32>(f32x4.extract_lane(mv, 2), f32x4.extract_lane(mv, 3)));
    for (; j < C; j++) top = max<f32>(top, load<f32>(row + <usize>j * 4));
    const mx = f32x4.splat(top);
    let sum: f64 = 0;
    // Blocks of 256 values are summed in f32 lanes, then added to the f64 total: cheap and accurate enough.
    j = 0;
    while (j < cv) {
      const end = min<i32>(cv, j + 256);
      let acc = f32x4.splat(0);
      for (; j < end; j += 4) acc = f32x4.add(acc, expF32x4(f32x4.sub(v128.load(row + <usize>j * 4), mx)));
      sum += sumLanesF64(acc);
    }
    for (; j < C; j++) sum += <f64>expF32(load<f32>(row + <usize>j * 4) - top);
    store<f32>(lse + <usize>i * 4, <f32>(<f64>top + logF64(sum)));
  }
}

/** In place over x [N, C]: x[i, j] = scale[i] * exp(x[i, j] - lse[i]) (softmax times a row weight). */
export function scaledSoftmaxRows(x: usize, lse: usize, scale: usize, N: i32, C: i32): void {
  const cv = C & ~3;
  for (let i = 0; i < N; i++) {
    const row = x + <usize>i * <usize>C * 4;
    const l = load<f32>(lse + <usize>i * 4);
    const g = load<f32>(scale + <usize>i * 4);
    const lv = f32x4.splat(l);
    const gv = f32x4.splat(g);
    let j = 0;
    for (; j < cv; j += 4) {
      const p = row + <usize>j * 4;
      v128.store(p, f32x4.mul(gv, expF32x4(f32x4.sub(v128.load(p), lv))));
    }
    for (; j < C; j++) {
      const p = row + <usize>j * 4;
      store<f32>(p, g * expF32(load<f32>(p) - l));
    }
  }
}
