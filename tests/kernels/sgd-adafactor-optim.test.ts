/**
 * Sgd and Adafactor on the native and WASM kernels, whole optimizer steps:
 * after 3 steps the parameters and every state array must be bit-identical
 * to the reference loops' (no kernels), on 1 and 2 threads, and the state
 * (momentum buffer) must live in the backend's memory where it has one.
 */
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import type { Backend } from "../../src/kernels/backend.js";
import { loadNativeAddon } from "../../src/kernels/native/addon.js";
import { createNativeBackend } from "../../src/kernels/native/backend.js";
import { createWasmBackend, type WasmBackend, wasmAvailability } from "../../src/kernels/wasm/index.js";
import { Adafactor, type Optimizer, type OptimizerState, type ParamSegment, Sgd } from "../../src/train/optim/index.js";
import { seededValues } from "./wasm-ops-helpers.js";

/** 2-D (several 2^16 blocks, rows not a multiple of 8), 3-D, a [1, C] matrix, and 1-D tensors (unfactored). */
const SHAPES: readonly (readonly number[])[] = [[301, 997], [3, 41, 53], [700], [1, 5003], [1]];

function layout(): ParamSegment[] {
  let offset = 0;
  return SHAPES.map((shape, i) => {
    const length = shape.reduce((a, b) => a * b, 1);
    const seg = { name: `t${i}`, offset, length, shape };
    offset += length;
    return seg;
  });
}

type Kernels = Partial<Backend> | undefined;
const OPTIMIZERS: Record<string, (k: Kernels) => Optimizer> = {
  sgd: (kernels) => new Sgd(layout(), { weight_decay: 0.1, kernels }),
  "sgd momentum": (kernels) => new Sgd(layout(), { weight_decay: 0.1, momentum: 0.9, kernels }),
  // A low clip threshold: the update is clipped, so its scale depends on the sum of squares to the last bit.
  adafactor: (kernels) => new Adafactor(layout(), { weight_decay: 0.1, clip_threshold: 0.1, kernels }),
};

/** Three steps; params and gradients in the backend's memory where it has an allocator (as the trainer's arenas are). */
function train(make: (k: Kernels) => Optimizer, k: Kernels): { params: Float32Array; state: OptimizerState } {
  const n = layout().reduce((a, s) => a + s.length, 0);
  const arena = (v: Float32Array) => {
    if (!k?.alloc) return v;
    const out = k.alloc(v.length);
    out.set(v);
    return out;
  };
  const opt = make(k);
  const params = arena(seededValues(n, 3));
  for (let step = 0; step < 3; step++) opt.step(params, arena(seededValues(n, 40 + step, -2, 2)), 0.01 * (step + 1));
  return { params: Float32Array.from(params), state: opt.state() };
}

const backends: WasmBackend[] = [];
after(() => Promise.all(backends.map((b) => b.close())));
const load = loadNativeAddon();
const wasmOk = wasmAvailability();
const candidates: [string, () => Promise<Backend> | Backend, string | false][] = [];
for (const threads of [1, 2]) {
  const nativeSkip = !load.ok ? load.reason : typeof load.addon.sgdUpdate !== "function" ? "addon predates SGD/Adafactor" : false;
  candidates.push([`native ${threads} thread(s)`, () => createNativeBackend({ threads }), nativeSkip]);
  const makeWasm = async () => {
    const be = createWasmBackend({ threads });
    backends.push(be);
    await be.ready();
    return be;
  };
  candidates.push([`wasm ${threads} thread(s)`, makeWasm, wasmOk.ok ? false : (wasmOk.reason ?? "no WASM")]);
}

describe("Sgd and Adafactor with backend kernels equal the reference loops bit for bit", () => {
  for (const [backendName, make, skip] of candidates) {
    for (const [optName, makeOpt] of Object.entries(OPTIMIZERS)) {
      it(`${optName} on ${backendName}: params and state after 3 steps`, { skip }, async () => {
        const be = await make();
        const want = train(makeOpt, undefined);
        const got = train(makeOpt, be);
        assert.deepEqual(got.params, want.params);
        assert.deepEqual(got.state, want.state);
      });
    }
  }

  it("the momentum buffer lives in the WASM memory; without momentum there is none", { skip: wasmOk.ok ? false : wasmOk.reason }, () => {
    const be = createWasmBackend({ threads: 1 });
    backends.push(be);
    const before = be.arena.usedBytes;
    const n = layout().reduce((a, s) => a + s.length, 0);
    new Sgd(layout(), { weight_decay: 0, kernels: be });
    assert.equal(be.arena.usedBytes, before);
    const opt = new Sgd(layout(), { weight_decay: 0, momentum: 0.9, kernels: be });
    assert.ok(be.arena.usedBytes - before >= 4 * n);
    assert.equal((opt.state().momentum_buffer as Float32Array).length, n);
  });
});
