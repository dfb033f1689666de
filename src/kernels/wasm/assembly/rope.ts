// AssemblyScript (compiled by scripts/build-wasm.mjs, not by tsc): rotary
// position embedding, the loops of kernels/ref/rope.ts. Each value is formed
// in f64 and rounded once on store, as the reference's JavaScript does (the
// products of two f32 are exact in f64; WASM has no fused multiply-add), so
// results equal the reference bit for bit. Two dimensions a step as f64x2.
// Pointers are byte offsets.

@inline function widen2(p: usize): v128 {
  return f64x2.promote_low_f32x4(v128.load64_zero(p));
}

@inline function store2(p: usize, v: v128): void {
  v128.store64_lane(p, f32x4.demote_f64x2_zero(v), 0);
}

@inline function loadF(p: usize): f64 {
  return <f64>load<f32>(p);
}

// One row of D values: y = x rotated by (c, s) (forward), or y += x rotated back (backward; x is dout, y is dinp).
// y may be x in the forward: each pair (i, i + D/2) is read before it is written.
function ropeRow(y: usize, x: usize, c: usize, s: usize, half: i32, backward: bool): void {
  const h = <usize>half * 4;
  let i = 0;
  for (; i + 2 <= half; i += 2) {
    const o = <usize>i * 4;
    const a = widen2(x + o), b = widen2(x + h + o), cv = widen2(c + o), sv = widen2(s + o);
    if (backward) {
      store2(y + o, f64x2.add(widen2(y + o), f64x2.add(f64x2.mul(a, cv), f64x2.mul(b, sv))));
      store2(y + h + o, f64x2.add(widen2(y + h + o), f64x2.sub(f64x2.mul(b, cv), f64x2.mul(a, sv))));
    } else {
      store2(y + o, f64x2.sub(f64x2.mul(a, cv), f64x2.mul(b, sv)));
      store2(y + h + o, f64x2.add(f64x2.mul(b, cv), f64x2.mul(a, sv)));
    }
  }
  if (i < half) {
    const o = <usize>i * 4;
    const a = loadF(x + o), b = loadF(x + h + o), cv = loadF(c + o), sv = loadF(s + o);
    if (backward) {
      store<f32>(y + o, <f32>(loadF(y + o) + (a * cv + b * sv)));
      store<f32>(y + h + o, <f32>(loadF(y + h + o) + (b * cv - a * sv)));
    } else {
      store<f32>(y + o, <f32>(a * cv - b * sv));
      store<f32>(y + h + o, <f32>(b * cv + a * sv));
    }
  }
}

// Rows [r0, r1) of [B*H*T, D]: row r is (b, h, t) with t = r % T, b = r / (H*T); its table row is
// positions[b*T + t] (pos != 0, i32) or past + t, less pBase (the first row of the cos/sin given).
export function ropeRows(y: usize, x: usize, cos: usize, sin: usize, pos: usize, past: i32, pBase: i32, H: i32, T: i32, D: i32, r0: i32, r1: i32, backward: i32): void {
  const half = D >> 1;
  for (let r = r0; r < r1; r++) {
    const t = r % T, b = r / (H * T);
    const p = (pos != 0 ? load<i32>(pos + <usize>(b * T + t) * 4) : past + t) - pBase;
    const tab = <usize>p * <usize>half * 4;
    const o = <usize>r * <usize>D * 4;
    ropeRow(y + o, x + o, cos + tab, sin + tab, half, backward != 0);
  }
}
