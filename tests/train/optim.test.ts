import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { UserError } from "../../src/errors.js";
import {
  Adafactor,
  AdamW,
  clipGradNorm,
  createOptimizer,
  gradNorm,
  type Optimizer,
  type ParamSegment,
  Sgd,
  segmentsFromSpecs,
  validateSegments,
} from "../../src/train/optim/index.js";
import { fixture } from "../helpers.js";

type Named = Record<string, number[]>;
interface Run {
  lrs: number[];
  weight_decay: number;
  momentum?: number;
  max_grad_norm: number;
  grad_norms?: number[];
  after: Named[];
}
interface Golden {
  version: number;
  segments: { name: string; shape: number[] }[];
  params0: Named;
  grads: Named[];
  sgd: Run;
  sgd_momentum: Run;
  adamw: Run;
  adafactor: Run;
}

const GOLDEN_VERSION = 1;
const golden = JSON.parse(readFileSync(fixture("optim", "optim_golden.json"), "utf8")) as Golden;

function layout(): ParamSegment[] {
  let offset = 0;
  return golden.segments.map(({ name, shape }) => {
    const length = shape.reduce((a, b) => a * b, 1);
    const seg = { name, offset, length, shape };
    offset += length;
    return seg;
  });
}

function arena(segments: ParamSegment[], named: Named): Float32Array {
  const out = new Float32Array(segments.reduce((a, s) => a + s.length, 0));
  for (const s of segments) out.set(named[s.name], s.offset);
  return out;
}

/** Compares element-wise with a relative tolerance (plus a tiny absolute floor). */
function assertClose(actual: Float32Array, expected: Float32Array, what: string, rtol = 1e-5, atol = 1e-7): void {
  assert.equal(actual.length, expected.length);
  for (let i = 0; i < actual.length; i++) {
    const diff = Math.abs(actual[i] - expected[i]);
    if (!(diff <= atol + rtol * Math.abs(expected[i]))) {
      assert.fail(`${what}[${i}]: got ${actual[i]}, expected ${expected[i]} (diff ${diff})`);
    }
  }
}

/** Runs the golden's steps (clip, then step, as the HF Trainer does) and checks every step. */
function replay(opt: Optimizer, run: Run): void {
  const segs = layout();
  const params = arena(segs, golden.params0);
  run.after.forEach((expected, k) => {
    const grads = arena(segs, golden.grads[k]);
    const norm = clipGradNorm(grads, run.max_grad_norm);
    if (run.grad_norms) assert.ok(Math.abs(norm - run.grad_norms[k]) <= 1e-5 * run.grad_norms[k], `grad norm step ${k + 1}`);
    opt.step(params, grads, run.lrs[k]);
    assertClose(params, arena(segs, expected), `${opt.name} step ${k + 1}`);
  });
  assert.equal(opt.stepCount, run.after.length);
}

test("golden fixture version matches (else re-run tests/reference/make_optim_golden.py)", () => {
  assert.equal(golden.version, GOLDEN_VERSION);
});

test("one SGD step equals torch.optim.SGD (L2 weight decay on 2-D tensors only)", () => {
  replay(new Sgd(layout(), { weight_decay: golden.sgd.weight_decay }), golden.sgd);
});

test("two SGD steps with momentum equal torch.optim.SGD", () => {
  const r = golden.sgd_momentum;
  replay(new Sgd(layout(), { weight_decay: r.weight_decay, momentum: r.momentum }), r);
});

test("two AdamW steps with clipping and decoupled weight decay equal torch.optim.AdamW", () => {
  replay(new AdamW(layout(), { weight_decay: golden.adamw.weight_decay }), golden.adamw);
});

test("two Adafactor steps (HF Trainer settings, factored 2-D and 3-D moments) equal the reference", () => {
  replay(new Adafactor(layout(), { weight_decay: golden.adafactor.weight_decay }), golden.adafactor);
});

test("the golden steps really move the parameters (a no-op optimizer would fail)", () => {
  const segs = layout();
  const p0 = arena(segs, golden.params0);
  for (const run of [golden.sgd, golden.adamw, golden.adafactor]) {
    const p1 = arena(segs, run.after[0]);
    assert.ok(p1.some((v, i) => Math.abs(v - p0[i]) > 1e-4));
  }
});

test("weight decay is skipped for 1-D tensors: zero grads change only 2-D+ tensors", () => {
  const segs = layout();
  for (const name of ["adamw", "adafactor", "sgd"] as const) {
    const opt = createOptimizer(name, segs, { weight_decay: 0.5, adam_beta1: 0.9, adam_beta2: 0.999, adam_epsilon: 1e-8 });
    const params = arena(segs, golden.params0);
    const before = params.slice();
    opt.step(params, new Float32Array(params.length), 0.1);
    for (const s of segs) {
      const changed = params.subarray(s.offset, s.offset + s.length).some((v, i) => v !== before[s.offset + i]);
      assert.equal(changed, s.shape.length >= 2, `${name}: ${s.name}`);
      if (s.shape.length >= 2) {
        // Pure decay: p * (1 - lr * wd) = p * 0.95
        assert.ok(Math.abs(params[s.offset] - before[s.offset] * 0.95) < 1e-6, `${name}: ${s.name} decayed by 0.95`);
      }
    }
  }
});

test("state() / loadState() continue bit-identically", () => {
  const segs = layout();
  for (const name of ["adamw", "adafactor", "sgd"] as const) {
    const hp = { weight_decay: 0.1, adam_beta1: 0.9, adam_beta2: 0.999, adam_epsilon: 1e-8 };
    const straight = name === "sgd" ? new Sgd(segs, { weight_decay: 0.1, momentum: 0.9 }) : createOptimizer(name, segs, hp);
    const pA = arena(segs, golden.params0);
    straight.step(pA, arena(segs, golden.grads[0]), 0.01);
    const saved = straight.state();
    const pB = pA.slice();
    straight.step(pA, arena(segs, golden.grads[1]), 0.01);

    const resumed = name === "sgd" ? new Sgd(segs, { weight_decay: 0.1, momentum: 0.9 }) : createOptimizer(name, segs, hp);
    resumed.loadState(saved);
    assert.equal(resumed.stepCount, 1);
    resumed.step(pB, arena(segs, golden.grads[1]), 0.01);
    assert.deepEqual(pB, pA, name);
  }
});

test("loadState rejects a state of another size or a missing key", () => {
  const segs = layout();
  const opt = new AdamW(segs);
  assert.throws(() => opt.loadState({ step: 1, exp_avg: new Float32Array(3), exp_avg_sq: new Float32Array(3) }), /exp_avg.*expected/);
  assert.throws(() => opt.loadState({ step: 1 }), UserError);
  assert.throws(() => new Adafactor(segs).loadState({ exp_avg_sq_row: new Float32Array(0) }), /missing number "step"/);
});

test("clipGradNorm follows clip_grad_norm_: coefficient max/(norm+1e-6), only when < 1", () => {
  const g = new Float32Array([3, 4]); // norm 5
  assert.equal(clipGradNorm(g, 1), 5);
  const coef = 1 / (5 + 1e-6);
  assert.ok(Math.abs(g[0] - 3 * coef) < 1e-7 && Math.abs(g[1] - 4 * coef) < 1e-7);
  const small = new Float32Array([0.3, 0.4]);
  assert.ok(Math.abs(clipGradNorm(small, 1) - 0.5) < 1e-7);
  assert.deepEqual(small, new Float32Array([0.3, 0.4]));
  const off = new Float32Array([30, 40]);
  assert.equal(clipGradNorm(off, 0), 50); // max_grad_norm 0 disables clipping
  assert.deepEqual(off, new Float32Array([30, 40]));
});

test("clipGradNorm reports a non-finite norm and leaves the gradients alone", () => {
  const g = new Float32Array([1, Number.NaN, 2]);
  assert.ok(Number.isNaN(clipGradNorm(g, 1)));
  assert.equal(g[0], 1);
  assert.equal(gradNorm(new Float32Array([Infinity, 1])), Infinity);
});

test("segments must tile the arena exactly", () => {
  const ok: ParamSegment[] = [
    { name: "a", offset: 0, length: 6, shape: [2, 3] },
    { name: "b", offset: 6, length: 2, shape: [2] },
  ];
  validateSegments(ok, 8);
  assert.throws(() => validateSegments(ok, 9), /cover 8 values but the arena holds 9/);
  assert.throws(() => validateSegments([ok[1], ok[0]], 8), /starts at 6, expected 0/);
  assert.throws(() => validateSegments([{ ...ok[0], shape: [4, 3] }], 6), /shape \[4, 3\] but length 6/);
  assert.throws(() => validateSegments([ok[0], { ...ok[0], offset: 6 }], 12), /duplicate/);
  assert.throws(() => new AdamW(ok).step(new Float32Array(8), new Float32Array(7), 0.1), /arenas hold/);
});

test("createOptimizer rejects an unknown name with the choices", () => {
  const hp = { weight_decay: 0, adam_beta1: 0.9, adam_beta2: 0.999, adam_epsilon: 1e-8 };
  assert.throws(() => createOptimizer("lamb" as "sgd", layout(), hp), /expected one of adamw, adafactor, sgd/);
});

test("segmentsFromSpecs packs tensors back to back, as ParamStore does; empty tensors are harmless", () => {
  const segs = segmentsFromSpecs([
    { name: "a", shape: [2, 3] },
    { name: "empty", shape: [0, 4] },
    { name: "b", shape: [4] },
  ]);
  assert.deepEqual(
    segs.map((s) => [s.offset, s.length]),
    [
      [0, 6],
      [6, 0],
      [6, 4],
    ],
  );
  const params = new Float32Array(10).fill(1);
  const opt = new Adafactor(segs);
  opt.step(params, new Float32Array(10).fill(0.5), 0.1);
  assert.ok(params.every((v) => Number.isFinite(v) && v < 1));
});
