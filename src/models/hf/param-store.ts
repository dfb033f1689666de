import type { ParamSpec } from "./param-specs.js";

/** Allocates `n` zero-filled float32 values (e.g. `Backend.alloc`, so WASM kernels read them in place). */
export type AllocFn = (n: number) => Float32Array;

export const defaultAlloc: AllocFn = (n) => new Float32Array(n);

interface Slot {
  offset: number;
  size: number;
  shape: readonly number[];
}

/**
 * All parameters of a model in ONE Float32Array arena, packed without gaps
 * in spec order, seen through named views. Optimisers, gradient norms and
 * zeroing loop over `data`; model code reads `view(name)`.
 *
 * @example
 * const store = ParamStore.create([{ name: "w", shape: [2, 3] }]);
 * store.view("w").fill(1); // store.data[0..6] are now 1
 * const grads = store.createGradStore(); // same names and offsets, zeros
 */
export class ParamStore {
  private readonly slots: Map<string, Slot>;
  private readonly views = new Map<string, Float32Array>();

  private constructor(
    /** The arena: every parameter, back to back, in `names()` order. */
    readonly data: Float32Array,
    private readonly order: readonly string[],
    slots: Map<string, Slot>,
  ) {
    this.slots = slots;
  }

  /** Lays out `specs` in one arena of exactly their total size, obtained from `alloc`. */
  static create(specs: readonly ParamSpec[], alloc: AllocFn = defaultAlloc): ParamStore {
    const slots = new Map<string, Slot>();
    let offset = 0;
    for (const s of specs) {
      if (slots.has(s.name)) throw new Error(`parameter "${s.name}" listed twice`);
      if (!s.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
        throw new Error(`parameter "${s.name}" has an invalid shape [${s.shape.join(", ")}]`);
      }
      const size = s.shape.reduce((a, b) => a * b, 1);
      slots.set(s.name, { offset, size, shape: Object.freeze([...s.shape]) });
      offset += size;
    }
    const data = alloc(offset);
    if (data.length !== offset) throw new Error(`alloc(${offset}) returned ${data.length} values`);
    return new ParamStore(data, Object.freeze(specs.map((s) => s.name)), slots);
  }

  /** Parameter names in arena order. */
  names(): readonly string[] {
    return this.order;
  }

  has(name: string): boolean {
    return this.slots.has(name);
  }

  private slot(name: string): Slot {
    const s = this.slots.get(name);
    if (s === undefined) throw new Error(`no parameter named "${name}"`);
    return s;
  }

  /** A view (no copy) of one parameter inside the arena. */
  view(name: string): Float32Array {
    let v = this.views.get(name);
    if (v === undefined) {
      const s = this.slot(name);
      v = this.data.subarray(s.offset, s.offset + s.size);
      this.views.set(name, v);
    }
    return v;
  }

  shape(name: string): readonly number[] {
    return this.slot(name).shape;
  }

  /** Start of `name` in `data`, in float32 elements. */
  offset(name: string): number {
    return this.slot(name).offset;
  }

  /** Total number of parameter values (= `data.length`). */
  get size(): number {
    return this.data.length;
  }

  /** The specs this store was built from, in arena order. */
  specs(): ParamSpec[] {
    return this.order.map((name) => ({ name, shape: [...this.slot(name).shape] }));
  }

  /**
   * A zero-filled store with the same names, shapes and offsets: gradients,
   * Adam moments. `alloc` defaults to plain memory.
   */
  createGradStore(alloc: AllocFn = defaultAlloc): ParamStore {
    return ParamStore.create(this.specs(), alloc);
  }

  /** Copies every value of `other`, which must have the same layout. */
  copyFrom(other: ParamStore): void {
    if (!this.sameLayout(other)) throw new Error("copyFrom: the two stores have different layouts");
    this.data.set(other.data);
  }

  /** True when `other` has the same names, shapes and order. */
  sameLayout(other: ParamStore): boolean {
    if (other.order.length !== this.order.length) return false;
    return this.order.every((name, i) => {
      const a = this.slot(name).shape;
      const oname = other.order[i];
      if (oname !== name) return false;
      const b = other.slot(oname).shape;
      return a.length === b.length && a.every((d, j) => d === b[j]);
    });
  }
}
