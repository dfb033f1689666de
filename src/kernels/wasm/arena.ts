import { UserError } from "../../errors.js";
import { WASM_PAGE_BYTES, type WasmApi, type WasmMemory } from "./wasm-api.js";

/** Every block starts on a cache line, so SIMD loads never straddle two. */
export const ALIGN_BYTES = 64;
/** The first page is left to the module (it has no static data today, but may). */
const RESERVED_BYTES = WASM_PAGE_BYTES;
/** Blocks above this are sized to whole pages and reused only by equal sizes. */
const LARGE_BYTES = 1 << 20;

export interface ArenaOptions {
  /** Initial size of the memory in bytes (default 16 MiB). */
  initialBytes?: number;
  /** Hard cap in bytes (default and most 4 GiB, the wasm32 limit); reserved up front as address space. */
  maximumBytes?: number;
}

/**
 * A shared WebAssembly.Memory that holds tensor buffers, with a simple
 * allocator: 64-byte aligned blocks, size classes (powers of two and
 * 1.5x powers of two, so waste is under a third) with free lists, and exact
 * page-multiple sizes for large blocks, which training reallocates with the
 * same shapes every step. Freed blocks are never returned to the memory.
 *
 * Growth and views: a shared memory never moves or detaches when it grows, so
 * every Float32Array handed out earlier stays valid. Only `memory.buffer`
 * changes (a new SharedArrayBuffer object covering the larger size), so the
 * arena re-reads it after each grow and builds new views on the new object.
 */
export class WasmArena {
  readonly memory: WasmMemory;
  readonly maximumBytes: number;
  private buffer: SharedArrayBuffer;
  /** Every buffer object this memory has shown; a view on any of them is inside. */
  private readonly buffers = new Set<SharedArrayBuffer>();
  private top = RESERVED_BYTES;
  private readonly free = new Map<number, number[]>();
  private readonly live = new Map<number, number>();

  constructor(api: WasmApi, opts: ArenaOptions = {}) {
    const maxBytes = opts.maximumBytes ?? 4 * 1024 ** 3;
    const initBytes = Math.min(opts.initialBytes ?? 16 * 1024 ** 2, maxBytes);
    const maximum = Math.min(65536, Math.ceil(maxBytes / WASM_PAGE_BYTES));
    const initial = Math.max(1, Math.ceil(initBytes / WASM_PAGE_BYTES));
    if (initial > maximum) throw new UserError("wasm backend: initial memory exceeds the maximum");
    this.memory = new api.Memory({ initial, maximum, shared: true });
    this.maximumBytes = maximum * WASM_PAGE_BYTES;
    this.buffer = this.memory.buffer;
    this.buffers.add(this.buffer);
  }

  /** Bytes currently in the memory (grows on demand). */
  get byteLength(): number {
    return this.buffer.byteLength;
  }

  /** Bytes handed out so far, including freed blocks kept for reuse. */
  get usedBytes(): number {
    return this.top;
  }

  /** `n` zero-filled float32 values inside the memory, 64-byte aligned. */
  alloc(n: number): Float32Array {
    const bytes = this.blockBytes(n);
    const reused = this.free.get(bytes)?.pop();
    const offset = reused ?? this.bump(bytes);
    this.live.set(offset, bytes);
    const view = new Float32Array(this.buffer, offset, n);
    if (reused !== undefined) view.fill(0); // fresh memory is already zero
    return view;
  }

  /** Returns a block from `alloc` to its free list. */
  release(view: Float32Array): void {
    const offset = this.offsetOf(view);
    const bytes = offset === undefined ? undefined : this.live.get(offset);
    if (offset === undefined || bytes === undefined) {
      throw new Error("wasm arena: release of a buffer that is not a live block of this arena");
    }
    this.live.delete(offset);
    let list = this.free.get(bytes);
    if (!list) {
      list = [];
      this.free.set(bytes, list);
    }
    list.push(offset);
  }

  /** Byte offset of a view inside this memory, or undefined when it lives elsewhere. */
  offsetOf(view: Float32Array): number | undefined {
    const buf = view.buffer;
    return buf instanceof SharedArrayBuffer && this.buffers.has(buf) ? view.byteOffset : undefined;
  }

  private blockBytes(n: number): number {
    if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`wasm arena: alloc(${n}): need a non-negative integer`);
    const raw = Math.max(ALIGN_BYTES, n * 4);
    if (raw > LARGE_BYTES) return Math.ceil(raw / WASM_PAGE_BYTES) * WASM_PAGE_BYTES;
    let cls = ALIGN_BYTES;
    while (cls < raw) {
      const mid = cls + cls / 2; // 1.5x step, still a multiple of 64 from 128 on
      if (cls >= 128 && mid >= raw) return mid;
      cls *= 2;
    }
    return cls;
  }

  private bump(bytes: number): number {
    const offset = this.top;
    const end = offset + bytes;
    if (end > this.maximumBytes) {
      throw new UserError(
        `wasm backend: out of memory (${formatMiB(end)} needed, maximum ${formatMiB(this.maximumBytes)}); ` +
          "raise maxMemoryBytes (wasm32 stops at 4 GiB) or use the native backend",
      );
    }
    if (end > this.buffer.byteLength) {
      // Grow by at least a quarter so repeated small growths stay rare.
      const need = Math.ceil((end - this.buffer.byteLength) / WASM_PAGE_BYTES);
      const quarter = Math.ceil(this.buffer.byteLength / WASM_PAGE_BYTES / 4);
      const room = this.maximumBytes / WASM_PAGE_BYTES - this.buffer.byteLength / WASM_PAGE_BYTES;
      const pages = Math.min(Math.max(need, quarter), room);
      try {
        this.memory.grow(pages);
      } catch (err) {
        // The engine could not reserve the pages (the host is out of memory).
        throw new UserError(
          `wasm backend: out of memory: cannot grow from ${formatMiB(this.buffer.byteLength)} to ` +
            `${formatMiB(this.buffer.byteLength + pages * WASM_PAGE_BYTES)} for a block of ${formatMiB(bytes)} ` +
            `(${err instanceof Error ? err.message : String(err)}); use smaller batches or the native backend`,
        );
      }
      this.buffer = this.memory.buffer;
      this.buffers.add(this.buffer);
    }
    this.top = end;
    return offset;
  }
}

function formatMiB(bytes: number): string {
  return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
}
