/**
 * An fp32 tensor: a shape plus a row-major Float32Array, and (when it takes
 * part in differentiation) a gradient buffer of the same size.
 *
 * Three kinds:
 * - "parameter": wraps views into arenas owned elsewhere (the model's
 *   parameter and gradient arenas). Never released by a graph. Its gradient
 *   ACCUMULATES across backward passes (micro-batch gradient accumulation);
 *   whoever owns the gradient arena zeroes it between optimiser steps.
 * - "input": data given to a graph (token features, test inputs); may ask
 *   for a gradient.
 * - "intermediate": produced by an op inside a graph; its buffers come from
 *   the graph's pool and go back on `graph.release()`.
 */
import { UserError } from "../errors.js";
import { checkShape, formatShape, numel, type Shape } from "./shape.js";

export type TensorKind = "parameter" | "input" | "intermediate";

export class Tensor {
  readonly shape: Shape;
  /** Number of elements (product of `shape`). */
  readonly size: number;
  /**
   * The values. Replaced only by the graph that made the tensor, when it evicts a recomputable intermediate during
   * the forward pass and refills it in a fresh buffer for the backward rules that read it (Graph.recomputable).
   */
  data: Float32Array;
  /**
   * Gradient of the graph's output with respect to this tensor, same layout
   * as `data`. Null until a backward pass reaches it (intermediates and
   * inputs), or the arena view given at construction (parameters).
   */
  grad: Float32Array | null;
  /** Whether gradients flow to (and through) this tensor. */
  readonly requiresGrad: boolean;
  readonly kind: TensorKind;
  /** Optional name for error messages and debugging, e.g. "h.0.attn.c_attn.weight". */
  readonly name: string | undefined;
  /**
   * For zero-copy views (reshape): the tensor whose data and gradient this
   * one shares. Gradients written to a view land in the base's buffer.
   */
  readonly viewOf: Tensor | null;
  /** Set by `graph.release()` (and while a recomputable tensor is evicted); using a released tensor is a bug. */
  released = false;

  constructor(init: {
    shape: Shape;
    data: Float32Array;
    grad?: Float32Array | null;
    requiresGrad: boolean;
    kind: TensorKind;
    name?: string;
    viewOf?: Tensor | null;
  }) {
    checkShape(init.shape, init.name ?? "tensor");
    this.shape = Object.freeze([...init.shape]);
    this.size = numel(init.shape);
    if (init.data.length !== this.size) {
      throw new UserError(
        `${init.name ?? "tensor"}: data has ${init.data.length} values, shape ${formatShape(init.shape)} needs ${this.size}`,
      );
    }
    if (init.grad && init.grad.length !== this.size) {
      throw new UserError(
        `${init.name ?? "tensor"}: grad has ${init.grad.length} values, shape ${formatShape(init.shape)} needs ${this.size}`,
      );
    }
    this.data = init.data;
    this.grad = init.grad ?? null;
    this.requiresGrad = init.requiresGrad;
    this.kind = init.kind;
    this.name = init.name;
    this.viewOf = init.viewOf ?? null;
  }

  /** Rank (number of dimensions). */
  get rank(): number {
    return this.shape.length;
  }

  /** Size of dimension `i`; negative `i` counts from the end. */
  dim(i: number): number {
    const d = this.shape[i < 0 ? this.shape.length + i : i];
    if (d === undefined) throw new UserError(`dimension ${i} out of range for ${this.describe()}`);
    return d;
  }

  /** "name [2, 3]" for messages. */
  describe(): string {
    return `${this.name ?? this.kind} ${formatShape(this.shape)}`;
  }

  /** Scalar value of a one-element tensor. */
  item(): number {
    if (this.size !== 1) throw new UserError(`item(): ${this.describe()} is not a scalar`);
    return this.data[0];
  }
}

/**
 * A model parameter over existing arena views. `grad` null means frozen (no
 * gradient is computed for it). Gradients ACCUMULATE into `grad`.
 *
 * @example
 * const wte = parameter(arena.subarray(0, V * C), [V, C], gradArena.subarray(0, V * C), "wte");
 */
export function parameter(data: Float32Array, shape: Shape, grad: Float32Array | null = null, name?: string): Tensor {
  return new Tensor({ shape, data, grad, requiresGrad: grad !== null, kind: "parameter", name });
}
