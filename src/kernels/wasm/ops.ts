import type { Backend } from "../backend.js";
import { keyRanges as keyRangesRef, type AttentionDims } from "../ref/attention.js";
import type { WasmArena } from "./arena.js";
import type { OpExports } from "./kernel-module.js";

/** Names of the optional Backend kernels the WASM backend implements. */
export const WASM_OP_NAMES = [
  "geluForward",
  "geluBackward",
  "siluForward",
  "siluBackward",
  "logSumExpRows",
  "scaledSoftmaxRows",
  "attentionForward",
  "attentionBackward",
] as const;

/** The optional Backend kernels the WASM backend implements. */
export type WasmOps = Required<Pick<Backend, (typeof WASM_OP_NAMES)[number]>>;

/** One buffer argument: how many values the kernel touches, and which way they flow. */
interface Arg {
  buf: Float32Array | null;
  n: number;
  /** Read by the kernel (copied in when the buffer lives outside the memory). */
  read: boolean;
  /** Written by the kernel (copied back out when outside). */
  write: boolean;
}

/**
 * Runs `kernel` on byte offsets of `args` in the arena. Buffers already in the
 * memory are passed in place (the normal case: tensors come from the backend's
 * pool); others take the copy path through temporary blocks. A length short of
 * what the kernel touches is a caller bug: RangeError, before any raw access.
 */
function staged(arena: WasmArena, op: string, args: readonly Arg[], kernel: (ptrs: number[]) => void): void {
  for (const a of args) {
    if (a.buf && a.buf.length < a.n) throw new RangeError(`wasm ${op}: a buffer has ${a.buf.length} values, needs ${a.n}`);
  }
  const temps: Float32Array[] = [];
  const copies: Array<{ from: Float32Array; to: Float32Array; n: number }> = [];
  try {
    const ptrs = args.map((a) => {
      if (a.buf === null) return 0; // kernels read 0 as "not wanted"; offset 0 is never a block
      const own = arena.offsetOf(a.buf);
      if (own !== undefined) return own;
      const tmp = arena.alloc(a.n);
      temps.push(tmp);
      if (a.read) tmp.set(a.buf.subarray(0, a.n));
      if (a.write) copies.push({ from: tmp, to: a.buf, n: a.n });
      return arena.offsetOf(tmp) ?? 0;
    });
    kernel(ptrs);
    for (const c of copies) c.to.set(c.from.subarray(0, c.n));
  } finally {
    for (const t of temps) arena.release(t);
  }
}

const IN = (buf: Float32Array, n: number): Arg => ({ buf, n, read: true, write: false });
const OUT = (buf: Float32Array, n: number): Arg => ({ buf, n, read: false, write: true });
const INOUT = (buf: Float32Array | null, n: number): Arg => ({ buf, n, read: true, write: true });

/**
 * The keys query t of batch b sees, as two half-open ranges per (b, t),
 * int32 [B*T, 4] — the same rule as ref/attention.ts's keyRanges, resolved
 * once on the host so the kernel needs no typed-array arguments. Clamped to
 * [0, S], so the kernel never reads outside the key buffers.
 */
function keyRanges(d: AttentionDims, out: Int32Array): void {
  const r = new Int32Array(4);
  for (let b = 0; b < d.B; b++) {
    for (let t = 0; t < d.T; t++) {
      keyRangesRef(d, b, t, r);
      const o = (b * d.T + t) * 4;
      for (let i = 0; i < 4; i++) out[o + i] = Math.max(0, Math.min(d.S, r[i]));
    }
  }
}

/** Ranges and key mask copied into the memory (as float32 blocks) for one attention call. */
function attentionArgs(arena: WasmArena, d: AttentionDims): { ranges: Float32Array; mask: Float32Array | null } {
  // Checked before any block is taken, so a rejected call leaves nothing live in the arena.
  if (d.keyMask && d.keyMask.length < d.B * d.S) {
    throw new RangeError(`wasm attention: keyMask has ${d.keyMask.length} entries, needs ${d.B * d.S}`);
  }
  const ranges = arena.alloc(d.B * d.T * 4);
  keyRanges(d, new Int32Array(ranges.buffer, ranges.byteOffset, ranges.length));
  let mask: Float32Array | null = null;
  if (d.keyMask) {
    mask = arena.alloc(Math.ceil((d.B * d.S) / 4));
    new Uint8Array(mask.buffer, mask.byteOffset, d.B * d.S).set(d.keyMask.subarray(0, d.B * d.S));
  }
  return { ranges, mask };
}

/** Binds the WASM op kernels to an arena (calling thread only; these ops are not split across workers). */
export function createWasmOps(arena: WasmArena, k: OpExports): WasmOps {
  const off = (buf: Float32Array | null): number => (buf === null ? 0 : (arena.offsetOf(buf) ?? 0));
  return {
    geluForward: (out, inp, n) => staged(arena, "geluForward", [OUT(out, n), IN(inp, n)], (p) => k.geluForward(p[0], p[1], n)),
    geluBackward: (dinp, inp, dout, n) =>
      staged(arena, "geluBackward", [INOUT(dinp, n), IN(inp, n), IN(dout, n)], (p) => k.geluBackward(p[0], p[1], p[2], n)),
    siluForward: (out, inp, n) => staged(arena, "siluForward", [OUT(out, n), IN(inp, n)], (p) => k.siluForward(p[0], p[1], n)),
    siluBackward: (dinp, inp, dout, n) =>
      staged(arena, "siluBackward", [INOUT(dinp, n), IN(inp, n), IN(dout, n)], (p) => k.siluBackward(p[0], p[1], p[2], n)),
    logSumExpRows: (lse, x, N, C) => staged(arena, "logSumExpRows", [OUT(lse, N), IN(x, N * C)], (p) => k.logSumExpRows(p[0], p[1], N, C)),
    scaledSoftmaxRows: (x, lse, scale, N, C) =>
      staged(arena, "scaledSoftmaxRows", [INOUT(x, N * C), IN(lse, N), IN(scale, N)], (p) => k.scaledSoftmaxRows(p[0], p[1], p[2], N, C)),
    attentionForward: (out, lse, q, kk, v, d) => {
      const { B, Hq, Hkv, T, S, D } = d;
      if (B * Hq * T === 0) return;
      const { ranges, mask } = attentionArgs(arena, d);
      let scores: Float32Array | null = null;
      try {
        scores = arena.alloc(Math.max(S, 1));
        const nq = B * Hq * T * D;
        const nk = B * Hkv * S * D;
        staged(arena, "attentionForward", [OUT(out, nq), OUT(lse, B * Hq * T), IN(q, nq), IN(kk, nk), IN(v, nk)], (p) =>
          k.attentionForward(p[0], p[1], p[2], p[3], p[4], off(ranges), off(mask), off(scores), B, Hq, Hkv, T, S, D, d.scale),
        );
      } finally {
        if (scores) arena.release(scores);
        arena.release(ranges);
        if (mask) arena.release(mask);
      }
    },
    attentionBackward: (dq, dk, dv, dout, q, kk, v, out, lse, d) => {
      const { B, Hq, Hkv, T, S, D } = d;
      if (B * Hq * T === 0 || (!dq && !dk && !dv)) return;
      const { ranges, mask } = attentionArgs(arena, d);
      try {
        const nq = B * Hq * T * D;
        const nk = B * Hkv * S * D;
        const args = [
          INOUT(dq, nq),
          INOUT(dk, nk),
          INOUT(dv, nk),
          IN(dout, nq),
          IN(q, nq),
          IN(kk, nk),
          IN(v, nk),
          IN(out, nq),
          IN(lse, B * Hq * T),
        ];
        staged(arena, "attentionBackward", args, (p) =>
          k.attentionBackward(p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7], p[8], off(ranges), off(mask), B, Hq, Hkv, T, S, D, d.scale),
        );
      } finally {
        arena.release(ranges);
        if (mask) arena.release(mask);
      }
    },
  };
}
