import type { Backend } from "../backend.js";
import { sgemmRef } from "./sgemm.js";

/** The plain TypeScript backend: always available, the numerical reference. */
export const refBackend: Backend = {
  name: "ref",
  alloc: (n) => new Float32Array(n),
  release: () => {},
  sgemm: sgemmRef,
};
