/**
 * Finite-difference gradient checking for autodiff tests. The op under test
 * runs in float32; the scalar probe f = sum(u * out) is accumulated in
 * float64 and differentiated by central differences, then compared with the
 * gradients backward() produced for the same upstream u.
 */
import assert from "node:assert/strict";
import { Graph, type Shape, type Tensor } from "../../src/autodiff/index.js";

/** Deterministic uniform values in [-scale, scale) (xorshift; seeds differ per call site). */
export function rand(n: number, seed: number, scale = 1): Float32Array {
  let s = (seed * 2654435761) >>> 0 || 1;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    out[i] = ((s / 4294967296) * 2 - 1) * scale;
  }
  return out;
}

export interface CheckInput {
  data: Float32Array;
  shape: Shape;
  /** Skip the numeric check for this input (e.g. it must stay positive). Default true. */
  check?: boolean;
}

export type Build = (g: Graph, xs: Tensor[]) => Tensor;

function probe(build: Build, inputs: CheckInput[], u: Float32Array): number {
  const g = new Graph({ grad: false });
  const xs = inputs.map((inp) => g.input(inp.data, inp.shape));
  const out = build(g, xs);
  let f = 0;
  for (let i = 0; i < out.size; i++) f += u[i] * out.data[i];
  g.release();
  return f;
}

/** Runs build once with gradients; returns the analytic gradients and the output size. */
export function analyticGrads(
  build: Build,
  inputs: CheckInput[],
  u: (n: number) => Float32Array,
): { grads: Float64Array[]; u: Float32Array } {
  const g = new Graph();
  const xs = inputs.map((inp) => g.input(inp.data, inp.shape, { requiresGrad: inp.check !== false }));
  const out = build(g, xs);
  const up = u(out.size);
  g.backward(out, up);
  const grads = xs.map((x) => Float64Array.from(x.grad ?? new Float32Array(x.size)));
  g.release();
  return { grads, u: up };
}

/**
 * Asserts backward() matches central differences for every checked input
 * element: |analytic - numeric| <= atol + rtol * |numeric|.
 */
export function gradCheck(
  build: Build,
  inputs: CheckInput[],
  opts: { eps?: number; atol?: number; rtol?: number; seed?: number } = {},
): void {
  const eps = opts.eps ?? 1e-2;
  const atol = opts.atol ?? 2e-3;
  const rtol = opts.rtol ?? 1e-2;
  const { grads, u } = analyticGrads(build, inputs, (n) => rand(n, opts.seed ?? 99));
  inputs.forEach((inp, k) => {
    if (inp.check === false) return;
    const x = inp.data;
    for (let i = 0; i < x.length; i++) {
      const orig = x[i];
      x[i] = orig + eps;
      const fp = probe(build, inputs, u);
      x[i] = orig - eps;
      const fm = probe(build, inputs, u);
      x[i] = orig;
      const numeric = (fp - fm) / (2 * eps);
      const analytic = grads[k][i];
      const err = Math.abs(analytic - numeric);
      assert.ok(err <= atol + rtol * Math.abs(numeric), `input ${k} element ${i}: analytic ${analytic} vs numeric ${numeric} (err ${err})`);
    }
  });
}

/** Asserts two arrays agree elementwise within atol + rtol * |expected|. */
export function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, atol = 1e-5, rtol = 1e-4, what = "value"): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < actual.length; i++) {
    const err = Math.abs(actual[i] - expected[i]);
    assert.ok(err <= atol + rtol * Math.abs(expected[i]), `${what}[${i}]: ${actual[i]} vs ${expected[i]} (err ${err})`);
  }
}
