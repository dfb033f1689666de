// AssemblyScript source of the WASM SIMD sgemm (compiled by scripts/build-wasm.mjs,
// not by tsc). Layout follows the classic packed-panel GEMM: op(B) is packed into
// [KC x 8] column panels that stay in L1, op(A) into [KC x 4] row panels that stay
// in L2, and a 4x8 register tile accumulates with f32x4 mul+add (no relaxed-SIMD FMA,
// which Node 20 only has behind a flag). Transposes are absorbed by the packing, so
// the micro-kernel sees one layout. All pointers are byte offsets into the shared
// linear memory that the host owns; this module has no data segments and no heap.

const MR: i32 = 4;
const NR: i32 = 8;
const KC: i32 = 256;
const MC: i32 = 128;
const NC: i32 = 2048;

/** Bytes of scratch one thread needs: packed A block, packed B block, one edge tile. */
export function workBytes(): i32 {
  return (MC * KC + KC * NC + MR * NR) * 4;
}

@inline function minI(a: i32, b: i32): i32 {
  return a < b ? a : b;
}

// op(A)[i0:i0+mc, p0:p0+kc] -> panels of 4 rows, interleaved by k; rows past mc are zero.
function packA(transA: i32, A: usize, M: i32, K: i32, i0: i32, mc: i32, p0: i32, kc: i32, dst: usize): void {
  for (let ir = 0; ir < mc; ir += MR) {
    const mr = minI(MR, mc - ir);
    let d = dst + <usize>(ir * kc) * 4;
    if (transA != 0 && mr == MR) {
      // Stored [K, M]: the 4 rows of one k are contiguous.
      let s = A + (<usize>p0 * <usize>M + <usize>(i0 + ir)) * 4;
      const step = <usize>M * 4;
      for (let p = 0; p < kc; p++) {
        v128.store(d, v128.load(s));
        s += step;
        d += 16;
      }
    } else {
      for (let p = 0; p < kc; p++) {
        for (let r = 0; r < MR; r++) {
          let v: f32 = 0;
          if (r < mr) {
            const i = <usize>(i0 + ir + r);
            const k = <usize>(p0 + p);
            v = transA != 0 ? load<f32>(A + (k * <usize>M + i) * 4) : load<f32>(A + (i * <usize>K + k) * 4);
          }
          store<f32>(d, v);
          d += 4;
        }
      }
    }
  }
}

// op(B)[p0:p0+kc, j0:j0+nc] -> panels of 8 columns, interleaved by k; columns past nc are zero.
function packB(transB: i32, B: usize, N: i32, K: i32, p0: i32, kc: i32, j0: i32, nc: i32, dst: usize): void {
  for (let jr = 0; jr < nc; jr += NR) {
    const nr = minI(NR, nc - jr);
    let d = dst + <usize>(jr * kc) * 4;
    if (transB == 0 && nr == NR) {
      // Stored [K, N]: the 8 columns of one k are contiguous.
      let s = B + (<usize>p0 * <usize>N + <usize>(j0 + jr)) * 4;
      const step = <usize>N * 4;
      for (let p = 0; p < kc; p++) {
        v128.store(d, v128.load(s));
        v128.store(d, v128.load(s, 16), 16);
        s += step;
        d += 32;
      }
    } else {
      for (let p = 0; p < kc; p++) {
        for (let c = 0; c < NR; c++) {
          let v: f32 = 0;
          if (c < nr) {
            const j = <usize>(j0 + jr + c);
            const k = <usize>(p0 + p);
            v = transB != 0 ? load<f32>(B + (j * <usize>K + k) * 4) : load<f32>(B + (k * <usize>N + j) * 4);
          }
          store<f32>(d, v);
          d += 4;
        }
      }
    }
  }
}

// One output row of the tile: C = alpha*acc + beta*C, never reading C when beta == 0
// (so stale NaNs in an output buffer are overwritten, as in the reference).
@inline function storeRow(c: usize, a0: v128, a1: v128, alpha: v128, beta: f32): void {
  let r0 = f32x4.mul(a0, alpha);
  let r1 = f32x4.mul(a1, alpha);
  if (beta != 0) {
    const b = f32x4.splat(beta);
    r0 = f32x4.add(r0, f32x4.mul(v128.load(c), b));
    r1 = f32x4.add(r1, f32x4.mul(v128.load(c, 16), b));
  }
  v128.store(c, r0);
  v128.store(c, r1, 16);
}

// 4x8 register tile over kc >= 1 packed steps. The k-loop splats A straight from
// memory and advances pointers with a bottom-tested loop: Binaryen does not fold
// these itself, and written this way V8 emits the same code clang would.
function kernel4x8(
  pa: usize, pb: usize, kc: i32, c: usize, ldcBytes: usize,
  alphaS: f32, beta: f32, mr: i32, nr: i32, tile: usize,
): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  const end = pb + <usize>kc * 32;
  do {
    const b0 = v128.load(pb);
    const b1 = v128.load(pb, 16);
    let a = v128.load32_splat(pa);
    c00 = f32x4.add(c00, f32x4.mul(a, b0));
    c01 = f32x4.add(c01, f32x4.mul(a, b1));
    a = v128.load32_splat(pa, 4);
    c10 = f32x4.add(c10, f32x4.mul(a, b0));
    c11 = f32x4.add(c11, f32x4.mul(a, b1));
    a = v128.load32_splat(pa, 8);
    c20 = f32x4.add(c20, f32x4.mul(a, b0));
    c21 = f32x4.add(c21, f32x4.mul(a, b1));
    a = v128.load32_splat(pa, 12);
    c30 = f32x4.add(c30, f32x4.mul(a, b0));
    c31 = f32x4.add(c31, f32x4.mul(a, b1));
    pa += 16;
    pb += 32;
  } while (pb < end);

  const alpha = f32x4.splat(alphaS);
  if (mr == MR && nr == NR) {
    storeRow(c, c00, c01, alpha, beta);
    storeRow(c + ldcBytes, c10, c11, alpha, beta);
    storeRow(c + 2 * ldcBytes, c20, c21, alpha, beta);
    storeRow(c + 3 * ldcBytes, c30, c31, alpha, beta);
    return;
  }
  // Edge tile: spill the registers, then write only the valid part of C.
  v128.store(tile, c00); v128.store(tile, c01, 16);
  v128.store(tile, c10, 32); v128.store(tile, c11, 48);
  v128.store(tile, c20, 64); v128.store(tile, c21, 80);
  v128.store(tile, c30, 96); v128.store(tile, c31, 112);
  for (let r = 0; r < mr; r++) {
    const row = c + <usize>r * ldcBytes;
    for (let j = 0; j < nr; j++) {
      const acc = load<f32>(tile + <usize>(r * NR + j) * 4) * alphaS;
      const dst = row + <usize>j * 4;
      store<f32>(dst, beta != 0 ? acc + beta * load<f32>(dst) : acc);
    }
  }
}

// K == 0: op(A) @ op(B) is empty, so C = beta * C (zeros when beta == 0).
function scaleC(N: i32, beta: f32, C: usize, m0: i32, m1: i32, n0: i32, n1: i32): void {
  for (let i = m0; i < m1; i++) {
    for (let j = n0; j < n1; j++) {
      const p = C + (<usize>i * <usize>N + <usize>j) * 4;
      store<f32>(p, beta != 0 ? beta * load<f32>(p) : 0);
    }
  }
}

// Block of columns the small-M path accumulates at a time (fits in L1 beside B rows).
const SMALL_NB: i32 = 1024;

@inline function writeOut(dst: usize, acc: f32, alpha: f32, beta: f32): void {
  store<f32>(dst, beta != 0 ? alpha * acc + beta * load<f32>(dst) : alpha * acc);
}

// op(A) row i copied to `dst` contiguously (it is strided when A is transposed).
function loadRowA(transA: i32, A: usize, M: i32, K: i32, i: i32, dst: usize): usize {
  if (transA == 0) return A + <usize>i * <usize>K * 4;
  for (let k = 0; k < K; k++) store<f32>(dst + <usize>k * 4, load<f32>(A + (<usize>k * <usize>M + <usize>i) * 4));
  return dst;
}

// Rows of C one at a time, for M < 4 (token-by-token generation): a 4-row tile
// would waste most of its work and packing B would double the memory traffic,
// so B is streamed once per row, unpacked. `work` holds one A row and one C block.
function sgemmSmallM(
  transA: i32, transB: i32, M: i32, N: i32, K: i32, alpha: f32, A: usize, B: usize, beta: f32, C: usize,
  m0: i32, m1: i32, n0: i32, n1: i32, work: usize,
): void {
  const acc = work + <usize>K * 4;
  for (let i = m0; i < m1; i++) {
    const a = loadRowA(transA, A, M, K, i, work);
    const cRow = C + <usize>i * <usize>N * 4;
    if (transB != 0) {
      // B stored [N, K]: each C[i, j] is a dot product of two contiguous rows.
      for (let j = n0; j < n1; j++) {
        const b = B + <usize>j * <usize>K * 4;
        let s0 = f32x4.splat(0), s1 = f32x4.splat(0), s2 = f32x4.splat(0), s3 = f32x4.splat(0);
        let k = 0;
        for (; k + 16 <= K; k += 16) {
          const o = <usize>k * 4;
          s0 = f32x4.add(s0, f32x4.mul(v128.load(a + o), v128.load(b + o)));
          s1 = f32x4.add(s1, f32x4.mul(v128.load(a + o, 16), v128.load(b + o, 16)));
          s2 = f32x4.add(s2, f32x4.mul(v128.load(a + o, 32), v128.load(b + o, 32)));
          s3 = f32x4.add(s3, f32x4.mul(v128.load(a + o, 48), v128.load(b + o, 48)));
        }
        const s = f32x4.add(f32x4.add(s0, s1), f32x4.add(s2, s3));
        let dot = f32x4.extract_lane(s, 0) + f32x4.extract_lane(s, 1) + f32x4.extract_lane(s, 2) + f32x4.extract_lane(s, 3);
        for (; k < K; k++) dot += load<f32>(a + <usize>k * 4) * load<f32>(b + <usize>k * 4);
        writeOut(cRow + <usize>j * 4, dot, alpha, beta);
      }
    } else {
      // B stored [K, N]: C row += a[k] * B row k, a block of columns at a time.
      for (let jb = n0; jb < n1; jb += SMALL_NB) {
        const nb = minI(SMALL_NB, n1 - jb);
        const nv = nb & ~3;
        memory.fill(acc, 0, <usize>nb * 4);
        for (let k = 0; k < K; k++) {
          const av = v128.load32_splat(a + <usize>k * 4);
          const as = load<f32>(a + <usize>k * 4);
          const b = B + (<usize>k * <usize>N + <usize>jb) * 4;
          let j = 0;
          for (; j < nv; j += 4) {
            const o = <usize>j * 4;
            v128.store(acc + o, f32x4.add(v128.load(acc + o), f32x4.mul(av, v128.load(b + o))));
          }
          for (; j < nb; j++) store<f32>(acc + <usize>j * 4, load<f32>(acc + <usize>j * 4) + as * load<f32>(b + <usize>j * 4));
        }
        for (let j = 0; j < nb; j++) writeOut(cRow + <usize>(jb + j) * 4, load<f32>(acc + <usize>j * 4), alpha, beta);
      }
    }
  }
}

/**
 * C[m0:m1, n0:n1] = alpha * op(A) @ op(B) + beta * C for that block of C.
 * A: [M, K] ([K, M] if transA), B: [K, N] ([N, K] if transB), C: [M, N], row-major.
 * `work` is this thread's scratch of workBytes() bytes, 16-byte aligned.
 */
export function sgemm(
  transA: i32, transB: i32, M: i32, N: i32, K: i32,
  alpha: f32, A: usize, B: usize, beta: f32, C: usize,
  m0: i32, m1: i32, n0: i32, n1: i32, work: usize,
): void {
  if (m1 <= m0 || n1 <= n0) return;
  if (K == 0) {
    scaleC(N, beta, C, m0, m1, n0, n1);
    return;
  }
  if (M < MR && K + SMALL_NB <= MC * KC + KC * NC) {
    sgemmSmallM(transA, transB, M, N, K, alpha, A, B, beta, C, m0, m1, n0, n1, work);
    return;
  }
  const packedA = work;
  const packedB = work + <usize>(MC * KC) * 4;
  const tile = packedB + <usize>(KC * NC) * 4;
  const ldcBytes = <usize>N * 4;
  for (let jc = n0; jc < n1; jc += NC) {
    const nc = minI(NC, n1 - jc);
    for (let pc = 0; pc < K; pc += KC) {
      const kc = minI(KC, K - pc);
      // Later K blocks add onto what the first block wrote.
      const betaEff: f32 = pc == 0 ? beta : 1;
      packB(transB, B, N, K, pc, kc, jc, nc, packedB);
      for (let ic = m0; ic < m1; ic += MC) {
        const mc = minI(MC, m1 - ic);
        packA(transA, A, M, K, ic, mc, pc, kc, packedA);
        for (let jr = 0; jr < nc; jr += NR) {
          const nr = minI(NR, nc - jr);
          const pb = packedB + <usize>(jr * kc) * 4;
          for (let ir = 0; ir < mc; ir += MR) {
            const mr = minI(MR, mc - ir);
            const c = C + (<usize>(ic + ir) * <usize>N + <usize>(jc + jr)) * 4;
            kernel4x8(packedA + <usize>(ir * kc) * 4, pb, kc, c, ldcBytes, alpha, betaEff, mr, nr, tile);
          }
        }
      }
    }
  }
}

// This file is the module's entry (scripts/build-wasm.mjs compiles it), so the
// other kernels are exported from here.
export { geluForward, geluBackward, siluForward, siluBackward, logSumExpRows, scaledSoftmaxRows } from "./pointwise";
export { adamwUpdate, sumSquares, scaleInPlace, sgdUpdate } from "./optim";
export { adafactorRowSums, adafactorColSums, adafactorSumSquaresBlock, adafactorApply } from "./adafactor";
export { copyBlocks, colSumsAcc, productForward, productGrad } from "./memops";
export { layernormForward, layernormBackward, layernormParamGrads, rmsnormForward, rmsnormBackward, rmsnormParamGrads } from "./norm";
export { ropeRows } from "./rope";
