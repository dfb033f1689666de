/**
 * The tape. A Graph is one step's scope: ops record nodes on it during the
 * forward pass, `backward` walks them in reverse accumulating gradients, and
 * `release` hands every buffer the step used back to the pool so the next
 * step reuses them (no fresh allocations after the first step).
 *
 * @example
 * const g = new Graph({ backend: getBackend("auto") }); // default: the reference backend
 * const y = matmul(g, x, w);            // x: input, w: parameter
 * g.backward(y, dY);                    // dY: upstream gradient, same shape as y
 * // w.grad now holds (accumulated) dL/dw
 * g.release();                          // y, dY's copy, every intermediate: back to the pool
 */
import { InternalError, UserError } from "../errors.js";
import type { Backend } from "../kernels/backend.js";
import type { BufferPool } from "../tensor/pool.js";
import { formatShape, numel, type Shape } from "../tensor/shape.js";
import { Tensor } from "../tensor/tensor.js";
import { refBackend } from "../kernels/ref/index.js";
import { poolFor } from "./context.js";

/** `record`'s `saves` for an op whose backward reads no values (copies, adds, rotations: only dout). */
export const NOTHING_SAVED: readonly Tensor[] = [];

export interface GraphOptions {
  /** Kernel backend; default: the pool's backend, else the reference backend (plain TypeScript). */
  backend?: Backend;
  /** Buffer pool; default: the backend's shared pool. Must belong to `backend`. */
  pool?: BufferPool;
  /** false = no-grad mode (inference): nothing is recorded, buffers still pooled. Default true. */
  grad?: boolean;
  /**
   * true = `backward` frees each saved intermediate as soon as no rule still to run reads it, discarding large ones
   * (`BufferPool.release`): the backward pass then ends holding its parameter gradients, not the activations too.
   * Intermediate values are then not readable after `backward` (read what you need before). Default false.
   */
  freeInBackward?: boolean;
}

/** One recorded op: its output, inputs and the rule that turns dOut into input gradients. */
export interface Node {
  readonly op: string;
  readonly out: Tensor;
  readonly inputs: readonly Tensor[];
  /** Accumulates into the inputs' gradients (via `graph.gradOf`); `dout` is out's gradient. */
  readonly backward: (dout: Float32Array) => void;
  /** The tensors (bases) whose values `backward` reads. */
  readonly saves: readonly Tensor[];
}

/**
 * How a recomputable intermediate is made again: `fill` rewrites its values from `reads`. `state` is "live" until
 * `freeUnsaved` evicts it, "refilled" while backward holds a recomputed copy; `views` are its views (made before
 * the eviction), which share its buffer.
 */
interface Recompute {
  readonly fill: (out: Float32Array) => void;
  readonly reads: readonly Tensor[];
  views: Tensor[];
  state: "live" | "evicted" | "refilled";
}

export class Graph {
  readonly backend: Backend;
  readonly pool: BufferPool;
  /** false in no-grad mode. */
  readonly gradEnabled: boolean;
  private readonly freeInBackward: boolean;
  private tape: Node[] = [];
  /** Every pool buffer this graph handed out (data, gradients, scratch). */
  private owned = new Set<Float32Array>();
  private tensors: Tensor[] = [];
  /** Tensors (bases, not views) whose values some recorded backward rule reads. */
  private saved = new Set<Tensor>();
  /** Intermediates whose producing op said how to recompute them (`recomputable`). */
  private recomputes = new Map<Tensor, Recompute>();
  private backwardDone = false;

  constructor(options: GraphOptions = {}) {
    this.backend = options.backend ?? options.pool?.backend ?? refBackend;
    this.pool = options.pool ?? poolFor(this.backend);
    if (this.pool.backend !== this.backend) {
      throw new UserError("Graph: the pool belongs to a different backend");
    }
    this.gradEnabled = options.grad ?? true;
    this.freeInBackward = options.freeInBackward ?? false;
  }

  /** Number of recorded nodes (for tests and debugging). */
  get nodeCount(): number {
    return this.tape.length;
  }

  /**
   * Wraps caller-owned data as an input tensor (no copy; the graph never
   * releases it). With `requiresGrad`, its gradient (pooled) is filled by backward.
   */
  input(data: Float32Array, shape: Shape, opts: { requiresGrad?: boolean; name?: string } = {}): Tensor {
    const t = new Tensor({
      shape,
      data,
      requiresGrad: (opts.requiresGrad ?? false) && this.gradEnabled,
      kind: "input",
      name: opts.name,
    });
    this.tensors.push(t);
    return t;
  }

  /** A pooled input tensor filled with a copy of `values`. */
  constant(values: ArrayLike<number>, shape: Shape, opts: { requiresGrad?: boolean; name?: string } = {}): Tensor {
    const n = numel(shape);
    if (values.length !== n) {
      throw new UserError(`constant: ${values.length} values for shape ${formatShape(shape)}`);
    }
    const data = this.scratch(n);
    for (let i = 0; i < n; i++) data[i] = values[i];
    return this.input(data, shape, opts);
  }

  /** A pooled input tensor of zeros. */
  zeros(shape: Shape, opts: { requiresGrad?: boolean; name?: string } = {}): Tensor {
    return this.input(this.scratchZeroed(numel(shape)), shape, opts);
  }

  /**
   * For op implementations: a new intermediate tensor with pooled data of
   * UNSPECIFIED contents (the op overwrites it), requiring grad when any
   * input does (and grad mode is on).
   */
  output(shape: Shape, inputs: readonly Tensor[], zeroed = false): Tensor {
    for (const t of inputs) {
      if (t.released) throw new InternalError(`use of released tensor ${t.describe()}`);
    }
    const n = numel(shape);
    const data = zeroed ? this.scratchZeroed(n) : this.scratch(n);
    const t = new Tensor({
      shape,
      data,
      requiresGrad: this.gradEnabled && inputs.some((x) => x.requiresGrad),
      kind: "intermediate",
    });
    this.tensors.push(t);
    return t;
  }

  /** For op implementations: a zero-copy view of `base` with another shape (same size). */
  view(base: Tensor, shape: Shape): Tensor {
    if (base.released) throw new InternalError(`use of released tensor ${base.describe()}`);
    const t = new Tensor({
      shape,
      data: base.data,
      requiresGrad: this.gradEnabled && base.requiresGrad,
      kind: "intermediate",
      viewOf: base.viewOf ?? base,
    });
    this.tensors.push(t);
    return t;
  }

  /**
   * For op implementations: records `backward` if `out` needs gradients. `saves` lists the tensors whose values
   * `backward` reads (default: the inputs and the output); an op whose rule reads fewer says so, which lets
   * `freeUnsaved` hand the others' buffers back during the forward pass.
   */
  record(op: string, out: Tensor, inputs: readonly Tensor[], backward: (dout: Float32Array) => void, saves?: readonly Tensor[]): void {
    if (!out.requiresGrad) return;
    const bases = (saves ?? [...inputs, out]).map((t) => t.viewOf ?? t);
    this.tape.push({ op, out, inputs, backward, saves: bases });
    for (const t of bases) this.saved.add(t);
  }

  /**
   * For op implementations whose output is cheap to make again (norms, pointwise activations, layout copies):
   * `fill(buf)` must write into `buf` exactly the values `out` holds now, reading only `reads` (and parameters or
   * the op's own scratch). Then `freeUnsaved` may free `out` even though a backward rule reads it; backward
   * recomputes it just before the first rule that reads it and frees it again once its producer's rule has run.
   * So a step keeps one such tensor per block alive at a time instead of all of them, and since the same kernels
   * run on the same inputs, gradients are bit-identical.
   */
  recomputable(out: Tensor, reads: readonly Tensor[], fill: (buf: Float32Array) => void): void {
    if (!this.gradEnabled || out.kind !== "intermediate" || out.viewOf !== null) return;
    this.recomputes.set(out, { fill, reads, views: [], state: "live" });
  }

  /** A mark for `freeUnsaved`: the tensors made from now on. */
  mark(): number {
    return this.tensors.length;
  }

  /**
   * Frees, now, the buffers of the intermediates made since `mark` that no recorded backward rule reads and that
   * are not (views of) `keep`: a transformer block's raw projections, head copies and residual branches are dead
   * once the block has returned, so the next block reuses their buffers instead of the step holding them all.
   * The caller promises the forward pass reads none of them again; they are marked released, so a read through
   * an op fails loudly instead of seeing reused memory. Saved intermediates that are `recomputable` (a block's norm
   * outputs, activations, merged heads) are freed too and remade in the backward pass when a rule needs them.
   */
  freeUnsaved(mark: number, keep: readonly Tensor[]): void {
    const kept = new Set(keep.map((t) => t.viewOf ?? t));
    const freeable = (t: Tensor) => t.kind === "intermediate" && t.viewOf === null && !t.released && this.owned.has(t.data) && !kept.has(t);
    const made = this.tensors.slice(mark);
    // Saved but recomputable: evicted, and what its recompute reads is kept for it.
    const evicted = new Set(made.filter((t) => freeable(t) && this.saved.has(t) && this.recomputes.get(t)?.state === "live"));
    for (const t of evicted) for (const r of this.recomputes.get(t)?.reads ?? []) this.saved.add(r.viewOf ?? r);
    const dead = new Set(made.filter((t) => freeable(t) && !this.saved.has(t)));
    if (dead.size === 0 && evicted.size === 0) return;
    for (const t of made) {
      const base = t.viewOf ?? t;
      if (dead.has(base) || evicted.has(base)) t.released = true;
      if (t !== base && evicted.has(base)) this.recomputes.get(base)?.views.push(t);
    }
    for (const t of dead) this.freeScratch(t.data);
    for (const t of evicted) {
      this.freeScratch(t.data);
      (this.recomputes.get(t) as Recompute).state = "evicted";
    }
  }

  /** Makes an evicted recomputable tensor (a base) present again in a fresh buffer, its own inputs first. */
  private refill(t: Tensor): void {
    const r = this.recomputes.get(t);
    if (r === undefined || r.state !== "evicted") return;
    for (const x of r.reads) {
      this.refill(x.viewOf ?? x);
      if (x.released) throw new InternalError(`recompute of ${t.describe()} reads released ${x.describe()}`);
    }
    const buf = this.scratch(t.size);
    r.fill(buf);
    for (const v of [t, ...r.views]) {
      v.data = buf;
      v.released = false;
    }
    r.state = "refilled";
  }

  /** After the rule of `t`'s producer ran, nothing reads a refilled `t` again: its buffer goes back. */
  private dropRefilled(t: Tensor): void {
    const r = this.recomputes.get(t);
    if (r === undefined || r.state !== "refilled") return;
    for (const v of [t, ...r.views]) v.released = true;
    this.freeScratch(t.data);
    r.state = "evicted";
  }

  /** A pooled buffer (unspecified contents) owned by this graph until `release`. */
  scratch(n: number): Float32Array {
    const buf = this.pool.acquire(n);
    this.owned.add(buf);
    return buf;
  }

  /** A zero-filled pooled buffer owned by this graph until `release`. */
  scratchZeroed(n: number): Float32Array {
    const buf = this.scratch(n);
    buf.fill(0);
    return buf;
  }

  /** Returns a `scratch` buffer to the pool early (e.g. per-chunk work space); `discard`: see `BufferPool.release`. */
  freeScratch(buf: Float32Array, discard = false): void {
    if (!this.owned.delete(buf)) throw new Error("freeScratch: buffer not owned by this graph");
    this.pool.release(buf, discard);
  }

  /**
   * The gradient buffer of `t` (zero-filled on first use), for backward rules
   * to accumulate into. Views resolve to their base's buffer.
   */
  gradOf(t: Tensor): Float32Array {
    const base = t.viewOf ?? t;
    if (!base.requiresGrad) throw new Error(`gradOf: ${base.describe()} does not require grad`);
    if (base.grad === null) base.grad = this.scratchZeroed(base.size);
    return base.grad;
  }

  /**
   * Reverse-mode pass from `output`. With no `dOutput`, `output` must be a
   * scalar and is seeded with 1; otherwise `dOutput` (same size as `output`)
   * is the upstream gradient, e.g. d loss / d token-logprobs computed outside
   * autodiff. Parameter gradients ACCUMULATE (zero them between optimiser
   * steps, not between micro-batches). Callable once per step; intermediate
   * gradients are returned to the pool as soon as they are consumed, so read
   * gradients of parameters and inputs only.
   */
  backward(output: Tensor, dOutput?: ArrayLike<number>): void {
    if (!this.gradEnabled) throw new UserError("backward: this graph is in no-grad mode");
    if (this.backwardDone) throw new UserError("backward: already called for this step; release() first");
    if (!output.requiresGrad) {
      throw new UserError(`backward: ${output.describe()} does not depend on anything that requires grad`);
    }
    const seed = this.gradOf(output);
    if (dOutput === undefined) {
      if (output.size !== 1) {
        throw new UserError(`backward: ${output.describe()} is not a scalar; pass its upstream gradient`);
      }
      seed[0] += 1;
    } else {
      if (dOutput.length !== output.size) {
        throw new UserError(`backward: upstream gradient has ${dOutput.length} values, ${output.describe()} needs ${output.size}`);
      }
      for (let i = 0; i < seed.length; i++) seed[i] += dOutput[i];
    }
    this.backwardDone = true;
    const doneAfter = this.freeInBackward ? this.lastReads(output) : new Map<number, Tensor[][]>();
    for (let i = this.tape.length - 1; i >= 0; i--) {
      const node = this.tape[i];
      const dout = node.out.grad;
      // dout null: no gradient reached this node.
      if (dout !== null) {
        for (const t of node.saves) this.refill(t);
        node.backward(dout);
        // Consumed: nothing upstream reads an output's gradient after its own rule ran.
        if (node.out.kind === "intermediate" && this.owned.has(dout)) {
          node.out.grad = null;
          this.freeScratch(dout);
        }
      }
      this.dropRefilled(node.out.viewOf ?? node.out);
      for (const group of doneAfter.get(i) ?? []) this.discardValue(group);
    }
  }

  /**
   * For each tape index, the saved intermediates (bases) nothing reads once that node's rule has run: the lowest
   * index among the rules that save them or that may refill a recomputable reading them. Not `root` (the caller
   * reads it), not recomputables the eviction already freed (`dropRefilled` handles those).
   */
  private lastReads(root: Tensor): Map<number, Tensor[][]> {
    const last = new Map<Tensor, number>();
    const note = (t: Tensor, i: number): void => {
      const base = t.viewOf ?? t;
      const j = last.get(base);
      if (j === undefined || i < j) last.set(base, i);
    };
    this.tape.forEach((node, i) => {
      for (const t of node.saves) note(t, i);
    });
    // Newest first: a recomputable's reads may be recomputables themselves, made earlier.
    for (const [t, r] of [...this.recomputes].reverse()) {
      const i = last.get(t);
      if (i !== undefined) for (const x of r.reads) note(x, i);
    }
    // Each freed base with its views, which share its buffer and are released with it.
    const byIndex = new Map<number, Tensor[][]>();
    const groups = new Map<Tensor, Tensor[]>();
    for (const [t, i] of last) {
      const evictable = (this.recomputes.get(t)?.state ?? "live") === "live";
      if (t === (root.viewOf ?? root) || t.kind !== "intermediate" || t.released || !evictable || !this.owned.has(t.data)) continue;
      const group = [t];
      groups.set(t, group);
      const atIndex = byIndex.get(i);
      if (atIndex) atIndex.push(group);
      else byIndex.set(i, [group]);
    }
    for (const v of this.tensors) if (v.viewOf !== null) groups.get(v.viewOf)?.push(v);
    return byIndex;
  }

  /** Frees a saved intermediate the backward pass is done with (`group`: the base, then its views). */
  private discardValue(group: readonly Tensor[]): void {
    const base = group[0];
    if (base.released || !this.owned.delete(base.data)) return;
    for (const v of group) v.released = true;
    this.pool.release(base.data, true);
  }

  /**
   * Ends the step: every buffer this graph handed out goes back to the pool
   * and its tensors are marked released. Parameters and caller-owned input
   * data are untouched. The graph can then be reused for the next step.
   */
  release(): void {
    for (const buf of this.owned) this.pool.release(buf);
    this.owned.clear();
    for (const t of this.tensors) {
      t.released = true;
      if (t.kind !== "parameter") t.grad = null;
    }
    this.tensors = [];
    this.saved.clear();
    this.recomputes.clear();
    this.tape = [];
    this.backwardDone = false;
  }
}
