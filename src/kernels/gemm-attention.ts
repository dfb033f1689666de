/**
 * Causal attention through a backend's sgemm: the same function as the fused
 * reference kernels in ref/attention.ts (its specification, tested against
 * it), computed as batched matrix products over tiles of queries.
 *
 * Per tile of up to TILE_ROWS queries that share their key ranges (one batch
 * row, or one packed segment), and per head:
 *   scores = scale * Q K^T          (sgemm)
 *   P      = softmax(masked scores) (the backend's SIMD row kernels)
 *   out    = P V                    (sgemm)
 * and in backward, with P recomputed from the saved log-sum-exp:
 *   dP = dO V^T, dS = P * (dP - rowsum(dO * O)) * scale,
 *   dQ += dS K, dK += dS^T Q, dV += P^T dO (all sgemm).
 * The keys of a tile are its context range (a packed segment's shared query
 * prefix) followed by its own causal range; when both are non-empty they are
 * gathered into one contiguous block. Masked scores are exactly 0 in P.
 *
 * Why: the fused kernels are scalar loops on one thread; this puts almost
 * all the work on the backend's threaded SIMD sgemm. A backend with the
 * native tiled kernels (attention-tiles.ts) gets the plan and runs the same
 * loops there, (batch row, KV head) pairs on its threads at once.
 */
import type { Backend } from "./backend.js";
import { keyOf, planTiles, rowSpans, type Tile, TILE_ROWS, type TiledAttentionKernels, tilePlan } from "./attention-tiles.js";
import type { AttentionDims } from "./ref/attention.js";
import { copyBlocks, run } from "./ref/memops.js";
import { logSumExpRowsRef, scaledSoftmaxRowsRef } from "./ref/row-softmax.js";

export type { TiledAttentionKernels } from "./attention-tiles.js";

/** The kernels the gemm attention needs from a backend. */
type GemmAttentionBackend = Pick<Backend, "sgemm" | "alloc" | "release" | "logSumExpRows" | "scaledSoftmaxRows" | "copyBlocks"> &
  Partial<TiledAttentionKernels>;

/**
 * Fills, per row of the tile, its visible key columns as two spans
 * [spans[4i], spans[4i+1]) and [spans[4i+2], spans[4i+3]) (context columns
 * first, so the spans are ordered), by the same rule as the reference kernel
 * (keyRanges). With a keyMask, `visible` [rows, L] also marks each column.
 * anyVisible[i]: whether row i sees any key.
 */
function tileMask(d: AttentionDims, tile: Tile, L: number, w: Workspace): void {
  const r = new Int32Array(4);
  const { spans, visible, anyVisible } = w;
  const mask = d.keyMask;
  for (let t = tile.t0; t < tile.t1; t++) {
    const i = t - tile.t0;
    rowSpans(d, tile, t, r, spans, 4 * i);
    const [a0, a1, b0, b1] = spans.subarray(4 * i, 4 * i + 4);
    let any = a1 > a0 || b1 > b0;
    if (mask) {
      any = false;
      const row = i * L;
      for (let j = 0; j < L; j++) {
        const inSpan = (j >= a0 && j < a1) || (j >= b0 && j < b1);
        const ok = inSpan && mask[tile.b * d.S + keyOf(tile, j)] !== 0;
        visible[row + j] = ok ? 1 : 0;
        if (ok) any = true;
      }
    }
    anyVisible[i] = any ? 1 : 0;
  }
}

/** Sets every score row i cannot see to `value` (the spans' complement, then the keyMask). */
function fillMasked(w: Workspace, rows: number, L: number, hasKeyMask: boolean, value: number): void {
  const { scores, spans, visible } = w;
  for (let i = 0; i < rows; i++) {
    const o = i * L;
    const a0 = spans[4 * i];
    const a1 = spans[4 * i + 1];
    const b0 = spans[4 * i + 2];
    const b1 = spans[4 * i + 3];
    if (a1 > a0) {
      scores.fill(value, o, o + a0);
      scores.fill(value, o + a1, o + Math.max(a1, b1 > b0 ? b0 : L));
    } else scores.fill(value, o, o + (b1 > b0 ? b0 : L));
    if (b1 > b0) scores.fill(value, o + b1, o + L);
    if (hasKeyMask) for (let j = 0; j < L; j++) if (visible[o + j] === 0) scores[o + j] = value;
  }
}

/** The key (or value) block of a tile for one KV head: a view when contiguous, else gathered into `into`. */
function keyBlock(src: Float32Array, base: number, tile: Tile, D: number, into: Float32Array): Float32Array {
  const nc = tile.c1 - tile.c0;
  const no = tile.o1 - tile.o0;
  if (nc === 0) return src.subarray(base + tile.o0 * D, base + tile.o1 * D);
  if (no === 0 || tile.c1 === tile.o0) return src.subarray(base + tile.c0 * D, base + (tile.c0 + nc + no) * D);
  into.set(src.subarray(base + tile.c0 * D, base + tile.c1 * D), 0);
  into.set(src.subarray(base + tile.o0 * D, base + tile.o1 * D), nc * D);
  return into.subarray(0, (nc + no) * D);
}

/** Adds a gathered key-block gradient [L, D] back into dk/dv rows of one KV head. */
function scatterAdd(be: GemmAttentionBackend, dst: Float32Array, base: number, tile: Tile, D: number, block: Float32Array): void {
  const nc = tile.c1 - tile.c0;
  copyBlocks(be, dst, block, run(base + tile.c0 * D, 0, nc * D, true));
  copyBlocks(be, dst, block, run(base + tile.o0 * D, nc * D, (tile.o1 - tile.o0) * D, true));
}

/** Whether a tile's keys are one contiguous range (so gradients can go to dk/dv in place). */
function contiguous(tile: Tile): boolean {
  return tile.c1 === tile.c0 || tile.o1 === tile.o0 || tile.c1 === tile.o0;
}

/** Workspace of one call, from the backend's allocator (WASM: inside its memory, so sgemm runs in place). */
interface Workspace {
  scores: Float32Array;
  grad: Float32Array;
  kBlock: Float32Array;
  vBlock: Float32Array;
  dkBlock: Float32Array;
  dvBlock: Float32Array;
  lse: Float32Array;
  ones: Float32Array;
  /** Per row: two spans of visible columns (see tileMask). */
  spans: Int32Array;
  /** Per score: visible (1) or not, only filled when the call has a keyMask. */
  visible: Uint8Array;
  anyVisible: Uint8Array;
}

/** A buffer shorter than the call reads is a caller bug: RangeError before any work. */
function checkLengths(d: AttentionDims, bufs: ReadonlyArray<[Float32Array | null, "q" | "kv" | "row"]>): void {
  const n = { q: d.B * d.Hq * d.T * d.D, kv: d.B * d.Hkv * d.S * d.D, row: d.B * d.Hq * d.T };
  for (const [buf, kind] of bufs) {
    if (buf && buf.length < n[kind]) throw new RangeError(`gemm attention: a buffer has ${buf.length} values, needs ${n[kind]}`);
  }
  if (d.keyMask && d.keyMask.length < d.B * d.S)
    throw new RangeError(`gemm attention: keyMask has ${d.keyMask.length} entries, needs ${d.B * d.S}`);
}

function maxKeys(tiles: readonly Tile[]): number {
  let m = 1;
  for (const t of tiles) m = Math.max(m, t.c1 - t.c0 + t.o1 - t.o0);
  return m;
}

/** The workspace each backend keeps between calls (grown on demand), so a step does not allocate per layer. */
const workspaces = new WeakMap<GemmAttentionBackend, { L: number; D: number; hasKeyMask: boolean; w: Workspace }>();

function makeWorkspace(be: GemmAttentionBackend, L: number, D: number, hasKeyMask: boolean): Workspace {
  const ones = be.alloc(TILE_ROWS);
  ones.fill(1);
  return {
    scores: be.alloc(TILE_ROWS * L),
    grad: be.alloc(TILE_ROWS * L),
    kBlock: be.alloc(L * D),
    vBlock: be.alloc(L * D),
    dkBlock: be.alloc(L * D),
    dvBlock: be.alloc(L * D),
    lse: be.alloc(TILE_ROWS),
    ones,
    spans: new Int32Array(TILE_ROWS * 4),
    visible: new Uint8Array(hasKeyMask ? TILE_ROWS * L : 0),
    anyVisible: new Uint8Array(TILE_ROWS),
  };
}

/**
 * Takes the backend's cached workspace when it is large enough, else makes a
 * bigger one. Taken, not shared: a nested call (none today) would make its own.
 */
function acquireWorkspace(be: GemmAttentionBackend, L: number, D: number, hasKeyMask: boolean): Workspace {
  const cached = workspaces.get(be);
  if (cached && cached.L >= L && cached.D >= D && (cached.hasKeyMask || !hasKeyMask)) {
    workspaces.delete(be);
    return cached.w;
  }
  if (cached) {
    workspaces.delete(be);
    freeWorkspace(be, cached.w);
  }
  return makeWorkspace(be, Math.max(L, cached?.L ?? 0), Math.max(D, cached?.D ?? 0), hasKeyMask || (cached?.hasKeyMask ?? false));
}

function releaseWorkspace(be: GemmAttentionBackend, w: Workspace): void {
  const L = w.scores.length / TILE_ROWS;
  const D = w.kBlock.length / L;
  const prev = workspaces.get(be);
  if (prev) freeWorkspace(be, prev.w);
  workspaces.set(be, { L, D, hasKeyMask: w.visible.length > 0, w });
}

function freeWorkspace(be: GemmAttentionBackend, w: Workspace): void {
  for (const buf of [w.scores, w.grad, w.kBlock, w.vBlock, w.dkBlock, w.dvBlock, w.lse, w.ones]) be.release(buf);
}

/**
 * P = softmax of the masked scores [rows, L] in place. With `lse` given
 * (backward) it is used; otherwise it is computed into w.lse. Rows that see
 * no key become 0 (their lse is -Infinity).
 */
function softmaxTile(be: GemmAttentionBackend, w: Workspace, rows: number, L: number, lse: Float32Array | null, hasKeyMask: boolean): void {
  const { scores, anyVisible } = w;
  fillMasked(w, rows, L, hasKeyMask, Number.NEGATIVE_INFINITY);
  const rowLse = w.lse.subarray(0, rows);
  if (lse) rowLse.set(lse.subarray(0, rows));
  else {
    for (let i = 0; i < rows; i++) if (anyVisible[i] === 0) scores[i * L] = 0; // keeps the kernel's max finite
    (be.logSumExpRows ?? logSumExpRowsRef)(rowLse, scores, rows, L);
  }
  for (let i = 0; i < rows; i++) if (anyVisible[i] === 0) rowLse[i] = 0;
  (be.scaledSoftmaxRows ?? scaledSoftmaxRowsRef)(scores, rowLse, w.ones, rows, L);
  fillMasked(w, rows, L, hasKeyMask, 0);
  for (let i = 0; i < rows; i++) {
    if (anyVisible[i] === 0) {
      scores.fill(0, i * L, (i + 1) * L);
      rowLse[i] = Number.NEGATIVE_INFINITY;
    }
  }
}

/** Forward: same contract as `attentionForward` in ref/attention.ts. */
export function gemmAttentionForward(
  be: GemmAttentionBackend,
  out: Float32Array,
  lse: Float32Array,
  q: Float32Array,
  k: Float32Array,
  v: Float32Array,
  d: AttentionDims,
): void {
  checkLengths(d, [
    [out, "q"],
    [lse, "row"],
    [q, "q"],
    [k, "kv"],
    [v, "kv"],
  ]);
  const { B, Hq, Hkv, T, S, D, scale } = d;
  if (be.attentionTilesForward && !d.keyMask) {
    const { tiles, spans } = tilePlan(d);
    be.attentionTilesForward(out, lse, q, k, v, tiles, spans, B, Hq, Hkv, T, S, D, scale);
    return;
  }
  const group = Hq / Hkv;
  const tiles = planTiles(d);
  const L = maxKeys(tiles);
  const w = acquireWorkspace(be, L, D, d.keyMask !== null);
  try {
    for (const tile of tiles) {
      const rows = tile.t1 - tile.t0;
      const nk = tile.c1 - tile.c0 + tile.o1 - tile.o0;
      tileMask(d, tile, nk, w);
      for (let kh = 0; kh < Hkv; kh++) {
        const kvBase = (tile.b * Hkv + kh) * S * D;
        const kb = nk > 0 ? keyBlock(k, kvBase, tile, D, w.kBlock) : w.kBlock;
        const vb = nk > 0 ? keyBlock(v, kvBase, tile, D, w.vBlock) : w.vBlock;
        for (let h = kh * group; h < (kh + 1) * group; h++) {
          const row0 = (tile.b * Hq + h) * T + tile.t0;
          const qb = q.subarray(row0 * D, (row0 + rows) * D);
          const ob = out.subarray(row0 * D, (row0 + rows) * D);
          if (nk === 0) {
            ob.fill(0);
            lse.fill(Number.NEGATIVE_INFINITY, row0, row0 + rows);
            continue;
          }
          be.sgemm(false, true, rows, nk, D, scale, qb, kb, 0, w.scores);
          softmaxTile(be, w, rows, nk, null, d.keyMask !== null);
          lse.set(w.lse.subarray(0, rows), row0);
          be.sgemm(false, false, rows, D, nk, 1, w.scores, vb, 0, ob);
        }
      }
    }
  } finally {
    releaseWorkspace(be, w);
  }
}

/** dS = P * (dP - rowsum(dO * O)) * scale, in place over dP [rows, L]. */
function scoreGradient(
  P: Float32Array,
  dP: Float32Array,
  dO: Float32Array,
  O: Float32Array,
  rows: number,
  L: number,
  D: number,
  scale: number,
): void {
  for (let i = 0; i < rows; i++) {
    let dot = 0;
    for (let c = 0; c < D; c++) dot += dO[i * D + c] * O[i * D + c];
    const o = i * L;
    for (let j = 0; j < L; j++) dP[o + j] = P[o + j] * (dP[o + j] - dot) * scale;
  }
}

/** Backward: same contract as `attentionBackward` in ref/attention.ts (ACCUMULATES into dq, dk, dv). */
export function gemmAttentionBackward(
  be: GemmAttentionBackend,
  dq: Float32Array | null,
  dk: Float32Array | null,
  dv: Float32Array | null,
  dout: Float32Array,
  q: Float32Array,
  k: Float32Array,
  v: Float32Array,
  out: Float32Array,
  lse: Float32Array,
  d: AttentionDims,
): void {
  if (!dq && !dk && !dv) return;
  const bufs: Array<[Float32Array | null, "q" | "kv" | "row"]> = [
    [dq, "q"],
    [dk, "kv"],
    [dv, "kv"],
    [dout, "q"],
    [q, "q"],
  ];
  checkLengths(d, [...bufs, [k, "kv"], [v, "kv"], [out, "q"], [lse, "row"]]);
  const { B, Hq, Hkv, T, S, D, scale } = d;
  if (be.attentionTilesBackward && !d.keyMask) {
    const { tiles, spans } = tilePlan(d);
    be.attentionTilesBackward(dq, dk, dv, dout, q, k, v, out, lse, tiles, spans, B, Hq, Hkv, T, S, D, scale);
    return;
  }
  const group = Hq / Hkv;
  const tiles = planTiles(d);
  const L = maxKeys(tiles);
  const w = acquireWorkspace(be, L, D, d.keyMask !== null);
  try {
    for (const tile of tiles) {
      const rows = tile.t1 - tile.t0;
      const nk = tile.c1 - tile.c0 + tile.o1 - tile.o0;
      if (nk === 0) continue;
      const inPlace = contiguous(tile);
      const first = tile.c1 > tile.c0 ? tile.c0 : tile.o0;
      tileMask(d, tile, nk, w);
      for (let kh = 0; kh < Hkv; kh++) {
        const kvBase = (tile.b * Hkv + kh) * S * D;
        const kb = keyBlock(k, kvBase, tile, D, w.kBlock);
        const vb = keyBlock(v, kvBase, tile, D, w.vBlock);
        const dkb = dk && inPlace ? dk.subarray(kvBase + first * D, kvBase + (first + nk) * D) : w.dkBlock;
        const dvb = dv && inPlace ? dv.subarray(kvBase + first * D, kvBase + (first + nk) * D) : w.dvBlock;
        for (let h = kh * group; h < (kh + 1) * group; h++) {
          const row0 = (tile.b * Hq + h) * T + tile.t0;
          const span = [row0 * D, (row0 + rows) * D] as const;
          const qb = q.subarray(...span);
          const dob = dout.subarray(...span);
          be.sgemm(false, true, rows, nk, D, scale, qb, kb, 0, w.scores);
          softmaxTile(be, w, rows, nk, lse.subarray(row0, row0 + rows), d.keyMask !== null);
          be.sgemm(false, true, rows, nk, D, 1, dob, vb, 0, w.grad);
          scoreGradient(w.scores, w.grad, dob, out.subarray(...span), rows, nk, D, scale);
          if (dq) be.sgemm(false, false, rows, D, nk, 1, w.grad, kb, 1, dq.subarray(...span));
          const accumulate = inPlace || h > kh * group ? 1 : 0;
          if (dk) be.sgemm(true, false, nk, D, rows, 1, w.grad, qb, accumulate, dkb);
          if (dv) be.sgemm(true, false, nk, D, rows, 1, w.scores, dob, accumulate, dvb);
        }
        if (!inPlace && dk) scatterAdd(be, dk, kvBase, tile, D, w.dkBlock);
        if (!inPlace && dv) scatterAdd(be, dv, kvBase, tile, D, w.dvBlock);
      }
    }
  } finally {
    releaseWorkspace(be, w);
  }
}
