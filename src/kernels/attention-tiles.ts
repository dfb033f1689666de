/**
 * Tile planning of the sgemm attention (kernels/gemm-attention.ts): which
 * queries share one key block, and which columns of it each query sees. Also
 * the table form of a plan that the native tiled kernels (native/src/attention.h)
 * take, and their signatures.
 */
import { type AttentionDims, keyRanges } from "./ref/attention.js";

/** Most queries per tile: bounds the score block at TILE_ROWS x keys (native/src/attention.h has the same bound). */
export const TILE_ROWS = 128;

/**
 * Native kernels (native/src/attention.h) that run gemm-attention.ts's tile
 * loops for every (batch row, KV head) pair at once on the backend's threads, given
 * the tile table (b, t0, t1, c0, c1, o0, o1 per tile) and every row's two
 * visible spans ([B*T, 4]) planned here. Calls with a key mask stay here.
 */
export interface TiledAttentionKernels {
  attentionTilesForward(
    out: Float32Array,
    lse: Float32Array,
    q: Float32Array,
    k: Float32Array,
    v: Float32Array,
    tiles: Int32Array,
    spans: Int32Array,
    B: number,
    Hq: number,
    Hkv: number,
    T: number,
    S: number,
    D: number,
    scale: number,
  ): void;
  attentionTilesBackward(
    dq: Float32Array | null,
    dk: Float32Array | null,
    dv: Float32Array | null,
    dout: Float32Array,
    q: Float32Array,
    k: Float32Array,
    v: Float32Array,
    out: Float32Array,
    lse: Float32Array,
    tiles: Int32Array,
    spans: Int32Array,
    B: number,
    Hq: number,
    Hkv: number,
    T: number,
    S: number,
    D: number,
    scale: number,
  ): void;
}

/** One tile: queries [t0, t1) of batch row b and the keys they may see. */
export interface Tile {
  b: number;
  t0: number;
  t1: number;
  /** Context keys [c0, c1) (seen by every query of the tile), then own keys [o0, o1). */
  c0: number;
  c1: number;
  o0: number;
  o1: number;
}

/** Splits the queries into tiles whose rows share a context range (so one key block serves them all). */
export function planTiles(d: AttentionDims): Tile[] {
  const tiles: Tile[] = [];
  const r = new Int32Array(4);
  const r2 = new Int32Array(4);
  for (let b = 0; b < d.B; b++) {
    let t = 0;
    while (t < d.T) {
      keyRanges(d, b, t, r);
      const seg = d.segments ? d.segments.segmentOf[t] : -1;
      let t1 = t + 1;
      let o0 = r[2];
      let o1 = r[3];
      while (t1 < d.T && t1 - t < TILE_ROWS && (!d.segments || d.segments.segmentOf[t1] === seg)) {
        keyRanges(d, b, t1, r2);
        o0 = Math.min(o0, r2[2]);
        o1 = Math.max(o1, r2[3]);
        t1++;
      }
      const clamp = (x: number): number => Math.max(0, Math.min(d.S, x));
      const c0 = clamp(r[0]);
      const c1 = Math.max(c0, clamp(r[1]));
      o0 = clamp(o0);
      o1 = Math.max(o0, clamp(o1));
      tiles.push({ b, t0: t, t1, c0, c1, o0, o1 });
      t = t1;
    }
  }
  return tiles;
}

/** Absolute key index of column j of a tile's key block. */
export function keyOf(tile: Tile, j: number): number {
  const nc = tile.c1 - tile.c0;
  return j < nc ? tile.c0 + j : tile.o0 + (j - nc);
}

/** Row t's visible columns of its tile's key block, as two spans written to spans[at..at+4) (context columns first). */
export function rowSpans(d: AttentionDims, tile: Tile, t: number, r: Int32Array, spans: Int32Array, at: number): void {
  keyRanges(d, tile.b, t, r);
  const nc = tile.c1 - tile.c0;
  const a0 = Math.max(r[0], tile.c0) - tile.c0;
  const b0 = nc + Math.max(r[2], tile.o0) - tile.o0;
  spans[at] = a0;
  spans[at + 1] = Math.max(a0, Math.min(r[1], tile.c1) - tile.c0);
  spans[at + 2] = b0;
  spans[at + 3] = Math.max(b0, nc + Math.min(r[3], tile.o1) - tile.o0);
}

/** The tile table and every row's spans, for the native kernels (see TiledAttentionKernels). */
export function tilePlan(d: AttentionDims): { tiles: Int32Array; spans: Int32Array } {
  const list = planTiles(d);
  const tiles = new Int32Array(list.length * 7);
  const spans = new Int32Array(d.B * d.T * 4);
  const r = new Int32Array(4);
  list.forEach((tile, i) => {
    tiles.set([tile.b, tile.t0, tile.t1, tile.c0, tile.c1, tile.o0, tile.o1], i * 7);
    for (let t = tile.t0; t < tile.t1; t++) rowSpans(d, tile, t, r, spans, (tile.b * d.T + t) * 4);
  });
  return { tiles, spans };
}
