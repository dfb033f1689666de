// AssemblyScript (compiled by scripts/build-wasm.mjs, not by tsc): the
// memory-bound helpers of the autodiff ops, kernels/ref/memops.ts's loops
// with f32x4 bodies. Each value is one f32 copy or one f32 add, in the
// reference's order, so results equal the reference bit for bit.
// Pointers are byte offsets (the block offsets already added in).

// Blocks i in [i0, i1): for j < n1, c < cols: dst[i*dS0 + j*dS1 + c] = (or +=) src[i*sS0 + j*sS1 + c]; strides in elements.
export function copyBlocks(dst: usize, src: usize, i0: i32, i1: i32, dS0: i32, sS0: i32, n1: i32, dS1: i32, sS1: i32, cols: i32, acc: i32): void {
  const cv = cols & ~3;
  const bytes = <usize>cols * 4;
  for (let i = i0; i < i1; i++) {
    for (let j = 0; j < n1; j++) {
      const d = dst + (<usize>i * <usize>dS0 + <usize>j * <usize>dS1) * 4;
      const s = src + (<usize>i * <usize>sS0 + <usize>j * <usize>sS1) * 4;
      if (acc == 0) {
        memory.copy(d, s, bytes);
        continue;
      }
      let c = 0;
      for (; c < cv; c += 4) {
        const o = <usize>c * 4;
        v128.store(d + o, f32x4.add(v128.load(d + o), v128.load(s + o)));
      }
      for (; c < cols; c++) {
        const o = <usize>c * 4;
        store<f32>(d + o, load<f32>(d + o) + load<f32>(s + o));
      }
    }
  }
}

// Columns [c0, c1) of x [M, N]: sum[c] += x[0, c] + x[1, c] + ... in row order, one f32 add at a time.
export function colSumsAcc(sum: usize, x: usize, M: i32, N: i32, c0: i32, c1: i32): void {
  const cv = c0 + ((c1 - c0) & ~3);
  for (let i = 0; i < M; i++) {
    const row = x + <usize>i * <usize>N * 4;
    let c = c0;
    for (; c < cv; c += 4) {
      const o = <usize>c * 4;
      v128.store(sum + o, f32x4.add(v128.load(sum + o), v128.load(row + o)));
    }
    for (; c < c1; c++) {
      const o = <usize>c * 4;
      store<f32>(sum + o, load<f32>(sum + o) + load<f32>(row + o));
    }
  }
}

// out[i] = a[i] * b[i] for i < n (one f32 multiply each, as the reference).
export function productForward(out: usize, a: usize, b: usize, n: i32): void {
  const nv = n & ~3;
  let i = 0;
  for (; i < nv; i += 4) {
    const o = <usize>i * 4;
    v128.store(out + o, f32x4.mul(v128.load(a + o), v128.load(b + o)));
  }
  for (; i < n; i++) {
    const o = <usize>i * 4;
    store<f32>(out + o, load<f32>(a + o) * load<f32>(b + o));
  }
}

// Two f32 at p, widened to f64x2.
@inline function widen2(p: usize): v128 {
  return f64x2.promote_low_f32x4(v128.load64_zero(p));
}

// acc[i] = f32(acc[i] + dout[i] * x[i]) for i < n, in f64 as the reference's JavaScript (the product is exact in f64).
export function productGrad(acc: usize, dout: usize, x: usize, n: i32): void {
  let i = 0;
  for (; i + 2 <= n; i += 2) {
    const o = <usize>i * 4;
    const s = f64x2.add(widen2(acc + o), f64x2.mul(widen2(dout + o), widen2(x + o)));
    v128.store64_lane(acc + o, f32x4.demote_f64x2_zero(s), 0);
  }
  if (i < n) {
    const o = <usize>i * 4;
    store<f32>(acc + o, <f32>(<f64>load<f32>(acc + o) + <f64>load<f32>(dout + o) * <f64>load<f32>(x + o)));
  }
}
