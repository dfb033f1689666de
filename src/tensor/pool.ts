/**
 * A size-class buffer pool over a Backend's alloc/release. Fresh pages are
 * expensive (and for WASM they grow linear memory for good), so every
 * non-parameter buffer a step needs comes from here and goes back here;
 * a second identical step then allocates nothing new from the backend.
 *
 * Size classes: powers of two split in four (…, 1024, 1280, 1536, 1792,
 * 2048, …), so a request wastes at most 25% and similar shapes share buffers.
 * A request whose class has no free buffer takes one of a larger class, up to
 * twice its size, before asking the backend for more; when it does ask, free
 * buffers of smaller classes idle since an earlier step go back (`beginStep`).
 * A buffer released with `discard` (an activation the backward pass is done
 * with) gives its memory back to the OS where the backend can (Backend.discard):
 * the pool keeps it, and the kernel lends its pages to the parameter gradients
 * the backward pass is filling meanwhile.
 */
import { UserError } from "../errors.js";
import { HUGE_PAGE_FLOATS, type Backend } from "../kernels/backend.js";

/** Counters for tests and memory reports. */
export interface PoolStats {
  /** Buffers ever requested from the backend. */
  backendAllocs: number;
  /** Floats ever requested from the backend (sum of class sizes). */
  backendFloats: number;
  /** Buffers currently handed out. */
  inUse: number;
  /** Buffers waiting in free lists. */
  free: number;
  /** Of those, the ones whose memory went back to the OS (`release(buf, true)`). */
  discarded: number;
}

const MIN_CLASS = 16;

/**
 * By default `release(buf, true)` discards buffers of at least one huge page, where the backend can: the native
 * backend maps those on huge pages, which fault back in at about the cost of writing them, where smaller buffers
 * sit on 4 KiB pages and would cost several times that.
 */
export const DISCARD_MIN_FLOATS = HUGE_PAGE_FLOATS;

export interface BufferPoolOptions {
  /** The smallest buffer `release(buf, true)` discards; default DISCARD_MIN_FLOATS (tests lower it). */
  discardMinFloats?: number;
}

/** The class size (in floats) that serves a request of `n` floats. */
export function sizeClass(n: number): number {
  if (n <= MIN_CLASS) return MIN_CLASS;
  const pow = 2 ** Math.floor(Math.log2(n));
  if (pow === n) return n;
  const quarter = pow / 4;
  return pow + Math.ceil((n - pow) / quarter) * quarter;
}

/** `backend.alloc(cls)`, turning a failed allocation into an error that says how much was asked. */
function allocOrExplain(backend: Backend, cls: number, n: number): Float32Array {
  try {
    return backend.alloc(cls);
  } catch (err) {
    if (err instanceof UserError || !(err instanceof RangeError)) throw err;
    throw new UserError(
      `out of memory: cannot allocate a buffer of ${cls} floats (${((cls * 4) / 1024 ** 2).toFixed(1)} MiB) ` +
        `for ${n} values (${err.message}); use smaller batches or shorter sequences`,
    );
  }
}

export class BufferPool {
  private readonly freeLists = new Map<number, Float32Array[]>();
  /** Handed-out view → the class-sized buffer it was cut from. */
  private readonly owners = new Map<Float32Array, Float32Array>();
  private allocs = 0;
  private floats = 0;
  private freeCount = 0;
  /** Steps begun so far (`beginStep`), and the step in which each free buffer was handed back. */
  private steps = 0;
  private readonly freedAt = new Map<Float32Array, number>();
  /** Free buffers whose pages went back to the OS (`release(buf, true)`); they are handed out after the others. */
  private readonly discarded = new Set<Float32Array>();

  private readonly discardMinFloats: number;

  constructor(
    readonly backend: Backend,
    options: BufferPoolOptions = {},
  ) {
    this.discardMinFloats = options.discardMinFloats ?? DISCARD_MIN_FLOATS;
  }

  /** A buffer of exactly `n` floats with UNSPECIFIED contents (it may be reused). */
  acquire(n: number): Float32Array {
    const cls = sizeClass(n);
    let base = this.takeFree(cls);
    if (base) {
      this.freeCount--;
      this.discarded.delete(base);
    } else {
      this.releaseOutgrown(cls);
      base = allocOrExplain(this.backend, cls, n);
      this.allocs++;
      this.floats += cls;
    }
    const view = base.length === n ? base : base.subarray(0, n);
    this.owners.set(view, base);
    return view;
  }

  /**
   * A free buffer of class `cls`, else of the smallest larger class up to twice its size: batches of varying length
   * ask for sizes in ever other classes, and without this every class a step once used would keep its own set of
   * buffers (a small model's pool grew to 5x a step's need over 20 steps of HH-like lengths).
   */
  private takeFree(cls: number): Float32Array | undefined {
    for (let c = cls; c <= 2 * cls; c = sizeClass(c + 1)) {
      const buf = this.freeLists.get(c)?.pop();
      if (buf) return buf;
    }
    return undefined;
  }

  /** A buffer of exactly `n` floats, all zero. */
  acquireZeroed(n: number): Float32Array {
    const buf = this.acquire(n);
    buf.fill(0);
    return buf;
  }

  /**
   * Returns a buffer from `acquire`; using it afterwards is a bug. With `discard` (a buffer not needed again soon,
   * e.g. an activation the backward pass is done with), a large one's memory goes back to the OS where the backend
   * can do that cheaply (`Backend.discard`); the pool hands it out again after its resident buffers.
   */
  release(view: Float32Array, discard = false): void {
    const base = this.owners.get(view);
    if (!base) throw new Error("BufferPool.release: buffer not from this pool or released twice");
    this.owners.delete(view);
    let list = this.freeLists.get(base.length);
    if (!list) {
      list = [];
      this.freeLists.set(base.length, list);
    }
    if (discard && this.backend.discard && base.length >= this.discardMinFloats) {
      this.backend.discard(base);
      this.discarded.add(base);
      list.unshift(base);
    } else {
      list.push(base);
    }
    this.freedAt.set(base, this.steps);
    this.freeCount++;
  }

  /** Tells the pool a new training step begins (see `releaseOutgrown`). */
  beginStep(): void {
    this.steps++;
  }

  /**
   * Before allocating `cls` floats: gives the backend back up to as much in free buffers of smaller classes that no
   * request of this step has taken. A batch longer than every earlier one allocates its own set of buffers; the set
   * the shorter batches used sits idle beside it (the new, larger buffers serve those lengths from now on), so
   * keeping it would leave the pool with two sets. Within a step, and in runs of one shape, nothing is released.
   */
  private releaseOutgrown(cls: number): void {
    if (this.steps === 0) return;
    let budget = cls;
    const smaller = [...this.freeLists.keys()].filter((c) => c < cls).sort((a, b) => b - a);
    for (const c of smaller) {
      const list = this.freeLists.get(c) ?? [];
      for (let i = list.length - 1; i >= 0 && budget >= c; i--) {
        const buf = list[i];
        if ((this.freedAt.get(buf) ?? this.steps) >= this.steps) continue;
        list.splice(i, 1);
        this.freedAt.delete(buf);
        this.discarded.delete(buf);
        this.backend.release(buf);
        this.freeCount--;
        budget -= c;
      }
      if (budget <= 0) return;
    }
  }

  /** Hands every free buffer back to the backend (e.g. before loading a bigger model). */
  trim(): void {
    for (const list of this.freeLists.values()) {
      for (const buf of list) this.backend.release(buf);
    }
    this.freeLists.clear();
    this.freedAt.clear();
    this.discarded.clear();
    this.freeCount = 0;
  }

  stats(): PoolStats {
    return {
      backendAllocs: this.allocs,
      backendFloats: this.floats,
      inUse: this.owners.size,
      free: this.freeCount,
      discarded: this.discarded.size,
    };
  }
}
