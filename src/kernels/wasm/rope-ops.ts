/**
 * The WASM backend's RoPE (assembly/rope.ts), split over the thread pool by
 * (b, h, t) rows, which are independent: every value is computed as
 * kernels/ref/rope.ts computes it (f64, rounded once), so results equal it bit
 * for bit on any thread count. q/k buffers outside the backend's memory are
 * copied in (and the written one back out). The cos/sin tables are plain
 * arrays as models build them (up to max_position_embeddings rows), so only
 * the rows the call's positions reach are copied in, not the whole table.
 */
import type { Backend } from "../backend.js";
import type { RopeDims } from "../ref/rope.js";
import type { WasmArena } from "./arena.js";
import { type PoolJob, ropeJob } from "./jobs.js";
import { IN, INOUT, OUT, staged } from "./ops.js";

/** The RoPE kernels the WASM backend implements. */
export type WasmRopeOps = Required<Pick<Backend, "ropeForward" | "ropeBackward">>;

/** The least work a task gets, in values (as the other row kernels). */
const MIN_VALUES_PER_TASK = 1 << 14;

function checkDims(d: RopeDims): void {
  for (const v of [d.B, d.H, d.T, d.D]) {
    if (!Number.isInteger(v) || v < 0) throw new RangeError(`wasm rope: dims must be integers >= 0, got ${JSON.stringify(d)}`);
  }
  if (d.D % 2 !== 0) throw new RangeError(`wasm rope: head dim ${d.D} must be even`);
}

/** The first and one past the last table row the call reads; RangeError where a position falls outside the tables. */
function tableRows(positions: Int32Array | null, past: number, d: RopeDims, tableLen: number): [number, number] {
  let lo = past;
  let hi = past + d.T;
  if (positions) {
    if (positions.length < d.B * d.T) throw new RangeError(`wasm rope: positions has ${positions.length} entries, needs ${d.B * d.T}`);
    lo = Number.POSITIVE_INFINITY;
    hi = 0;
    for (let i = 0; i < d.B * d.T; i++) {
      lo = Math.min(lo, positions[i]);
      hi = Math.max(hi, positions[i] + 1);
    }
  }
  if (!Number.isInteger(past) || lo < 0 || hi * (d.D / 2) > tableLen) {
    throw new RangeError(`wasm rope: positions ${lo}..${hi - 1} (past ${past}) fall outside the cos/sin tables`);
  }
  return [lo, hi];
}

/** Binds the RoPE kernels to an arena; `run` runs a job on the pool (or the calling thread alone). */
export function createWasmRopeOps(arena: WasmArena, threads: number, run: (job: PoolJob) => void): WasmRopeOps {
  const rope = (
    backward: boolean,
    y: Float32Array,
    x: Float32Array,
    cos: Float32Array,
    sin: Float32Array,
    positions: Int32Array | null,
    past: number,
    d: RopeDims,
  ): void => {
    checkDims(d);
    const rows = d.B * d.H * d.T;
    const n = rows * d.D;
    if (n === 0) return;
    const half = d.D / 2;
    const [lo, hi] = tableRows(positions, past, d, Math.min(cos.length, sin.length));
    // The table rows [lo, hi) and the positions, copied into the memory where they are not in it already.
    const table = (t: Float32Array): [number, Float32Array | null] => {
      const own = arena.offsetOf(t);
      if (own !== undefined) return [own + 4 * lo * half, null];
      const tmp = arena.alloc((hi - lo) * half);
      tmp.set(t.subarray(lo * half, hi * half));
      return [arena.offsetOf(tmp) ?? 0, tmp];
    };
    const temps: Float32Array[] = [];
    try {
      const [c, cTmp] = table(cos);
      const [s, sTmp] = table(sin);
      for (const t of [cTmp, sTmp]) if (t) temps.push(t);
      let pos = 0;
      if (positions) {
        const tmp = arena.alloc(d.B * d.T);
        temps.push(tmp);
        new Int32Array(tmp.buffer, tmp.byteOffset, d.B * d.T).set(positions.subarray(0, d.B * d.T));
        pos = arena.offsetOf(tmp) ?? 0;
      }
      const perTask = Math.max(Math.ceil(rows / (2 * threads)), Math.ceil(MIN_VALUES_PER_TASK / d.D));
      const args = backward ? [INOUT(y, n), IN(x, n)] : [OUT(y, n), IN(x, n)];
      staged(arena, backward ? "ropeBackward" : "ropeForward", args, ([yp, xp]) =>
        run(ropeJob({ y: yp, x: xp, cos: c, sin: s, pos, past, pBase: lo, H: d.H, T: d.T, D: d.D, rows, backward }, perTask)),
      );
    } finally {
      for (const t of temps) arena.release(t);
    }
  };
  return {
    ropeForward: (out, inp, cos, sin, positions, past, d) => rope(false, out, inp, cos, sin, positions, past, d),
    ropeBackward: (dinp, dout, cos, sin, positions, past, d) => rope(true, dinp, dout, cos, sin, positions, past, d),
  };
}
