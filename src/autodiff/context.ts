/**
 * The shared buffer pool of each backend. There is no global default
 * backend: a Graph takes its backend as an option (`new Graph({ backend })`)
 * and falls back to the reference backend, so nothing configures the engine
 * behind a caller's back.
 */
import type { Backend } from "../kernels/backend.js";
import { BufferPool } from "../tensor/pool.js";

const pools = new WeakMap<Backend, BufferPool>();

/** The shared pool of `backend` (one per backend, created on first use). */
export function poolFor(backend: Backend): BufferPool {
  let pool = pools.get(backend);
  if (!pool) {
    pool = new BufferPool(backend);
    pools.set(backend, pool);
  }
  return pool;
}

/** Makes `pool` the shared pool of its backend (one made with other options), before anything used the backend's pool. */
export function setPoolFor(pool: BufferPool): void {
  if (pools.has(pool.backend)) throw new Error("setPoolFor: this backend already has a shared pool");
  pools.set(pool.backend, pool);
}
