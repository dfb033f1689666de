// AssemblyScript (compiled by scripts/build-wasm.mjs, not by tsc): layer norm
// and RMS norm, forward and backward, the loops of kernels/ref/layernorm.ts and
// ref/rmsnorm.ts in the same f64 arithmetic and order, so results equal the
// reference's JavaScript bit for bit. Pointers are byte offsets.
//
// Why rows go four at a time: the reference sums each row's values one after
// another, and one f64 add chain runs at an add's latency. Four rows side by
// side (rows 0-1 and 2-3 in the two lanes of two f64x2 sums) keep four chains
// in flight; each lane still adds its own row in the reference's order.
// Elementwise passes run along a row as f64x2. The parameter gradients sum
// over rows, so they are a separate kernel over a column range that visits the
// rows in order (the reference's order for every column).

// Two f32 at p, widened to f64x2.
@inline function widen2(p: usize): v128 {
  return f64x2.promote_low_f32x4(v128.load64_zero(p));
}

// One f32 from each of two rows (lane 0 from a, lane 1 from b), widened.
@inline function pair(a: usize, b: usize): v128 {
  return f64x2.promote_low_f32x4(v128.load32_lane(b, v128.load32_zero(a), 1));
}

// Stores the two f64 lanes of v as f32 at p.
@inline function store2(p: usize, v: v128): void {
  v128.store64_lane(p, f32x4.demote_f64x2_zero(v), 0);
}

@inline function loadF(p: usize): f64 {
  return <f64>load<f32>(p);
}

// Row r's byte offset in a [*, C] buffer; rows past `last` repeat row `last` (a short group computes it twice, stores once).
@inline function rowAt(base: usize, r: i32, last: i32, C: i32): usize {
  return base + <usize>(r < last ? r : last) * <usize>C * 4;
}

// Lane `i` (0..3) of the pair (lo, hi).
@inline function laneOf(lo: v128, hi: v128, i: i32): f64 {
  if (i == 0) return f64x2.extract_lane(lo, 0);
  if (i == 1) return f64x2.extract_lane(lo, 1);
  if (i == 2) return f64x2.extract_lane(hi, 0);
  return f64x2.extract_lane(hi, 1);
}

// out = ((x - m) * s) * w + b for one row (b = 0 without bias, as the reference adds 0).
function layernormRow(out: usize, x: usize, w: usize, b: usize, m: f64, s: f64, C: i32): void {
  const M = f64x2.splat(m);
  const S = f64x2.splat(s);
  let c = 0;
  for (; c + 2 <= C; c += 2) {
    const o = <usize>c * 4;
    const y = f64x2.mul(f64x2.mul(f64x2.sub(widen2(x + o), M), S), widen2(w + o));
    store2(out + o, f64x2.add(y, b != 0 ? widen2(b + o) : f64x2.splat(0)));
  }
  if (c < C) {
    const o = <usize>c * 4;
    store<f32>(out + o, <f32>((loadF(x + o) - m) * s * loadF(w + o) + (b != 0 ? loadF(b + o) : 0)));
  }
}

// Rows [r0, r1) of inp [*, C]: out, and mean/rstd per row.
export function layernormForward(out: usize, mean: usize, rstd: usize, inp: usize, w: usize, b: usize, r0: i32, r1: i32, C: i32, eps: f64): void {
  const Cv = f64x2.splat(<f64>C);
  for (let r = r0; r < r1; r += 4) {
    const last = r1 - 1;
    const x0 = rowAt(inp, r, last, C), x1 = rowAt(inp, r + 1, last, C);
    const x2 = rowAt(inp, r + 2, last, C), x3 = rowAt(inp, r + 3, last, C);
    let lo = f64x2.splat(0), hi = f64x2.splat(0);
    for (let c = 0; c < C; c++) {
      const o = <usize>c * 4;
      lo = f64x2.add(lo, pair(x0 + o, x1 + o));
      hi = f64x2.add(hi, pair(x2 + o, x3 + o));
    }
    const mLo = f64x2.div(lo, Cv), mHi = f64x2.div(hi, Cv);
    lo = f64x2.splat(0);
    hi = f64x2.splat(0);
    for (let c = 0; c < C; c++) {
      const o = <usize>c * 4;
      const dLo = f64x2.sub(pair(x0 + o, x1 + o), mLo);
      const dHi = f64x2.sub(pair(x2 + o, x3 + o), mHi);
      lo = f64x2.add(lo, f64x2.mul(dLo, dLo));
      hi = f64x2.add(hi, f64x2.mul(dHi, dHi));
    }
    const one = f64x2.splat(1), e = f64x2.splat(eps);
    const sLo = f64x2.div(one, f64x2.sqrt(f64x2.add(f64x2.div(lo, Cv), e)));
    const sHi = f64x2.div(one, f64x2.sqrt(f64x2.add(f64x2.div(hi, Cv), e)));
    for (let i = 0; i < 4 && r + i < r1; i++) {
      const m = laneOf(mLo, mHi, i), s = laneOf(sLo, sHi, i);
      layernormRow(rowAt(out, r + i, last, C), rowAt(inp, r + i, last, C), w, b, m, s, C);
      store<f32>(mean + <usize>(r + i) * 4, <f32>m);
      store<f32>(rstd + <usize>(r + i) * 4, <f32>s);
    }
  }
}

// dinp += s * ((w * g - dm) - norm * dnm) for one row.
function layernormDinpRow(dinp: usize, g: usize, x: usize, w: usize, m: f64, s: f64, dm: f64, dnm: f64, C: i32): void {
  const M = f64x2.splat(m), S = f64x2.splat(s), DM = f64x2.splat(dm), DNM = f64x2.splat(dnm);
  let c = 0;
  for (; c + 2 <= C; c += 2) {
    const o = <usize>c * 4;
    const norm = f64x2.mul(f64x2.sub(widen2(x + o), M), S);
    const t = f64x2.sub(f64x2.sub(f64x2.mul(widen2(w + o), widen2(g + o)), DM), f64x2.mul(norm, DNM));
    store2(dinp + o, f64x2.add(widen2(dinp + o), f64x2.mul(S, t)));
  }
  if (c < C) {
    const o = <usize>c * 4;
    const norm = (loadF(x + o) - m) * s;
    store<f32>(dinp + o, <f32>(loadF(dinp + o) + s * (loadF(w + o) * loadF(g + o) - dm - norm * dnm)));
  }
}

// Rows [r0, r1): the input gradient (dinp += ...), from each row's two means (of dnorm and of dnorm * norm).
export function layernormBackward(dinp: usize, dout: usize, inp: usize, w: usize, mean: usize, rstd: usize, r0: i32, r1: i32, C: i32): void {
  const Cv = f64x2.splat(<f64>C);
  for (let r = r0; r < r1; r += 4) {
    const last = r1 - 1;
    const x0 = rowAt(inp, r, last, C), x1 = rowAt(inp, r + 1, last, C);
    const x2 = rowAt(inp, r + 2, last, C), x3 = rowAt(inp, r + 3, last, C);
    const g0 = rowAt(dout, r, last, C), g1 = rowAt(dout, r + 1, last, C);
    const g2 = rowAt(dout, r + 2, last, C), g3 = rowAt(dout, r + 3, last, C);
    const mLo = pair(rowAt(mean, r, last, 1), rowAt(mean, r + 1, last, 1)), mHi = pair(rowAt(mean, r + 2, last, 1), rowAt(mean, r + 3, last, 1));
    const sLo = pair(rowAt(rstd, r, last, 1), rowAt(rstd, r + 1, last, 1)), sHi = pair(rowAt(rstd, r + 2, last, 1), rowAt(rstd, r + 3, last, 1));
    let aLo = f64x2.splat(0), aHi = f64x2.splat(0), bLo = f64x2.splat(0), bHi = f64x2.splat(0);
    for (let c = 0; c < C; c++) {
      const o = <usize>c * 4;
      const wc = f64x2.splat(loadF(w + o));
      const nLo = f64x2.mul(f64x2.sub(pair(x0 + o, x1 + o), mLo), sLo);
      const nHi = f64x2.mul(f64x2.sub(pair(x2 + o, x3 + o), mHi), sHi);
      const dLo = f64x2.mul(wc, pair(g0 + o, g1 + o));
      const dHi = f64x2.mul(wc, pair(g2 + o, g3 + o));
      aLo = f64x2.add(aLo, dLo);
      aHi = f64x2.add(aHi, dHi);
      bLo = f64x2.add(bLo, f64x2.mul(dLo, nLo));
      bHi = f64x2.add(bHi, f64x2.mul(dHi, nHi));
    }
    aLo = f64x2.div(aLo, Cv);
    aHi = f64x2.div(aHi, Cv);
    bLo = f64x2.div(bLo, Cv);
    bHi = f64x2.div(bHi, Cv);
    for (let i = 0; i < 4 && r + i < r1; i++) {
      const row = r + i;
      layernormDinpRow(
        rowAt(dinp, row, last, C), rowAt(dout, row, last, C), rowAt(inp, row, last, C), w,
        laneOf(mLo, mHi, i), laneOf(sLo, sHi, i), laneOf(aLo, aHi, i), laneOf(bLo, bHi, i), C,
      );
    }
  }
}

// Columns [c0, c1): dweight[c] += norm * g and dbias[c] += g over rows 0..N-1 in order (either may be 0: not wanted).
export function layernormParamGrads(dw: usize, db: usize, dout: usize, inp: usize, mean: usize, rstd: usize, N: i32, C: i32, c0: i32, c1: i32): void {
  for (let n = 0; n < N; n++) {
    const x = rowAt(inp, n, n, C), g = rowAt(dout, n, n, C);
    const m = loadF(mean + <usize>n * 4), s = loadF(rstd + <usize>n * 4);
    const M = f64x2.splat(m), S = f64x2.splat(s);
    let c = c0;
    for (; c + 2 <= c1; c += 2) {
      const o = <usize>c * 4;
      const gv = widen2(g + o);
      if (db != 0) store2(db + o, f64x2.add(widen2(db + o), gv));
      if (dw != 0) store2(dw + o, f64x2.add(widen2(dw + o), f64x2.mul(f64x2.mul(f64x2.sub(widen2(x + o), M), S), gv)));
    }
    if (c < c1) {
      const o = <usize>c * 4;
      const gc = loadF(g + o);
      if (db != 0) store<f32>(db + o, <f32>(loadF(db + o) + gc));
      if (dw != 0) store<f32>(dw + o, <f32>(loadF(dw + o) + (loadF(x + o) - m) * s * gc));
    }
  }
}

// Rows [r0, r1): out = (x * s) * w with s = 1 / sqrt(mean(x^2) + eps), and rstd per row.
export function rmsnormForward(out: usize, rstd: usize, inp: usize, w: usize, r0: i32, r1: i32, C: i32, eps: f64): void {
  const Cv = f64x2.splat(<f64>C);
  for (let r = r0; r < r1; r += 4) {
    const last = r1 - 1;
    const x0 = rowAt(inp, r, last, C), x1 = rowAt(inp, r + 1, last, C);
    const x2 = rowAt(inp, r + 2, last, C), x3 = rowAt(inp, r + 3, last, C);
    let lo = f64x2.splat(0), hi = f64x2.splat(0);
    for (let c = 0; c < C; c++) {
      const o = <usize>c * 4;
      const vLo = pair(x0 + o, x1 + o), vHi = pair(x2 + o, x3 + o);
      lo = f64x2.add(lo, f64x2.mul(vLo, vLo));
      hi = f64x2.add(hi, f64x2.mul(vHi, vHi));
    }
    const one = f64x2.splat(1), e = f64x2.splat(eps);
    const sLo = f64x2.div(one, f64x2.sqrt(f64x2.add(f64x2.div(lo, Cv), e)));
    const sHi = f64x2.div(one, f64x2.sqrt(f64x2.add(f64x2.div(hi, Cv), e)));
    for (let i = 0; i < 4 && r + i < r1; i++) {
      const s = laneOf(sLo, sHi, i);
      const x = rowAt(inp, r + i, last, C), y = rowAt(out, r + i, last, C);
      const S = f64x2.splat(s);
      let c = 0;
      for (; c + 2 <= C; c += 2) {
        const o = <usize>c * 4;
        store2(y + o, f64x2.mul(f64x2.mul(widen2(x + o), S), widen2(w + o)));
      }
      if (c < C) store<f32>(y + <usize>c * 4, <f32>(loadF(x + <usize>c * 4) * s * loadF(w + <usize>c * 4)));
      store<f32>(rstd + <usize>(r + i) * 4, <f32>s);
    }
  }
}

// dinp += s * (g * w - x * k) for one row.
function rmsnormDinpRow(dinp: usize, g: usize, x: usize, w: usize, s: f64, k: f64, C: i32): void {
  const S = f64x2.splat(s), K = f64x2.splat(k);
  let c = 0;
  for (; c + 2 <= C; c += 2) {
    const o = <usize>c * 4;
    const t = f64x2.sub(f64x2.mul(widen2(g + o), widen2(w + o)), f64x2.mul(widen2(x + o), K));
    store2(dinp + o, f64x2.add(widen2(dinp + o), f64x2.mul(S, t)));
  }
  if (c < C) {
    const o = <usize>c * 4;
    store<f32>(dinp + o, <f32>(loadF(dinp + o) + s * (loadF(g + o) * loadF(w + o) - loadF(x + o) * k)));
  }
}

// Rows [r0, r1): the input gradient, from k = s * s * sum((g * w) * x) / C per row.
export function rmsnormBackward(dinp: usize, dout: usize, inp: usize, w: usize, rstd: usize, r0: i32, r1: i32, C: i32): void {
  const Cv = f64x2.splat(<f64>C);
  for (let r = r0; r < r1; r += 4) {
    const last = r1 - 1;
    const x0 = rowAt(inp, r, last, C), x1 = rowAt(inp, r + 1, last, C);
    const x2 = rowAt(inp, r + 2, last, C), x3 = rowAt(inp, r + 3, last, C);
    const g0 = rowAt(dout, r, last, C), g1 = rowAt(dout, r + 1, last, C);
    const g2 = rowAt(dout, r + 2, last, C), g3 = rowAt(dout, r + 3, last, C);
    let lo = f64x2.splat(0), hi = f64x2.splat(0);
    for (let c = 0; c < C; c++) {
      const o = <usize>c * 4;
      const wc = f64x2.splat(loadF(w + o));
      lo = f64x2.add(lo, f64x2.mul(f64x2.mul(pair(g0 + o, g1 + o), wc), pair(x0 + o, x1 + o)));
      hi = f64x2.add(hi, f64x2.mul(f64x2.mul(pair(g2 + o, g3 + o), wc), pair(x2 + o, x3 + o)));
    }
    const sLo = pair(rowAt(rstd, r, last, 1), rowAt(rstd, r + 1, last, 1)), sHi = pair(rowAt(rstd, r + 2, last, 1), rowAt(rstd, r + 3, last, 1));
    const kLo = f64x2.div(f64x2.mul(f64x2.mul(sLo, sLo), lo), Cv);
    const kHi = f64x2.div(f64x2.mul(f64x2.mul(sHi, sHi), hi), Cv);
    for (let i = 0; i < 4 && r + i < r1; i++) {
      const row = r + i;
      rmsnormDinpRow(rowAt(dinp, row, last, C), rowAt(dout, row, last, C), rowAt(inp, row, last, C), w, laneOf(sLo, sHi, i), laneOf(kLo, kHi, i), C);
    }
  }
}

// Columns [c0, c1): dweight[c] += (g * x) * s over rows 0..N-1 in order.
export function rmsnormParamGrads(dw: usize, dout: usize, inp: usize, rstd: usize, N: i32, C: i32, c0: i32, c1: i32): void {
  for (let n = 0; n < N; n++) {
    const x = rowAt(inp, n, n, C), g = rowAt(dout, n, n, C);
    const s = loadF(rstd + <usize>n * 4);
    const S = f64x2.splat(s);
    let c = c0;
    for (; c + 2 <= c1; c += 2) {
      const o = <usize>c * 4;
      store2(dw + o, f64x2.add(widen2(dw + o), f64x2.mul(f64x2.mul(widen2(g + o), widen2(x + o)), S)));
    }
    if (c < c1) {
      const o = <usize>c * 4;
      store<f32>(dw + o, <f32>(loadF(dw + o) + loadF(g + o) * loadF(x + o) * s));
    }
  }
}
