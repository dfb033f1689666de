/**
 * The WASM backend's attention takes its tile workspace (scores, masks, key
 * blocks) from the arena; a call rejected for a bad argument must hand those
 * blocks back, or every failed call would leak arena memory for good.
 */
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import type { AttentionDims } from "../../src/kernels/ref/attention.js";
import { createWasmBackend, wasmAvailability, type WasmBackend } from "../../src/kernels/wasm/index.js";

const available = wasmAvailability().ok;

describe("wasm attention: no arena blocks left behind on a rejected call", { skip: !available }, () => {
  let be: WasmBackend | undefined;
  const backend = (): WasmBackend => (be ??= createWasmBackend({ threads: 1 }));
  after(async () => {
    await be?.close();
  });

  const B = 2,
    Hq = 2,
    Hkv = 1,
    T = 3,
    S = 3,
    D = 4;
  const dims = (): AttentionDims => ({
    B,
    Hq,
    Hkv,
    T,
    S,
    D,
    past: 0,
    scale: 0.5,
    keyLengths: null,
    keyMask: new Uint8Array(B * S - 1), // one entry short: rejected
  });

  for (const which of ["attentionForward", "attentionBackward"] as const) {
    it(`${which} with a short keyMask throws and does not grow the arena on repeats`, () => {
      const w = backend();
      const q = w.alloc(B * Hq * T * D);
      const kv = w.alloc(B * Hkv * S * D);
      const lse = w.alloc(B * Hq * T);
      const out = w.alloc(q.length);
      const call = () =>
        which === "attentionForward"
          ? w.attentionForward(out, lse, q, kv, kv, dims())
          : w.attentionBackward(out, null, null, q, q, kv, kv, q, lse, dims());
      assert.throws(call, RangeError);
      const used = w.arena.usedBytes;
      for (let i = 0; i < 3; i++) assert.throws(call, RangeError);
      // A released staging block is reused by the next call; a leaked one forces fresh memory each time.
      assert.equal(w.arena.usedBytes, used, "rejected calls left arena blocks live");
    });
  }
});
