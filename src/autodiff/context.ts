/**
 * Which backend (and so which buffer pool) a new Graph uses when none is
 * given. The ref backend is the default; the WASM/native backends plug in
 * with `setDefaultBackend` (or per graph via `new Graph({ backend })`)
 * without any change to the ops.
 */
import type { Backend } from "../kernels/backend.js";
import { refBackend } from "../kernels/ref/index.js";
import { BufferPool } from "../tensor/pool.js";

let current: Backend = refBackend;
const pools = new WeakMap<Backend, BufferPool>();

/** Makes `backend` the default for graphs created from now on. */
export function setDefaultBackend(backend: Backend): void {
  current = backend;
}

export function getDefaultBackend(): Backend {
  return current;
}

/** The shared pool of `backend` (one per backend, created on first use). */
export function poolFor(backend: Backend): BufferPool {
  let pool = pools.get(backend);
  if (!pool) {
    pool = new BufferPool(backend);
    pools.set(backend, pool);
  }
  return pool;
}
