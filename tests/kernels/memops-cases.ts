/** Block-copy patterns the autodiff ops use, shared by the native and WASM kernel tests. */
import { type BlockCopy, rows, run } from "../../src/kernels/ref/memops.js";

/** [name, dst length, src length, copy]: the patterns the ops use, small and past 2 x 65536 values. */
export const COPY_CASES: ReadonlyArray<readonly [string, number, number, BlockCopy]> = [
  ["run", 100, 90, run(7, 3, 80, false)],
  ["split a fused projection", 449 * 384, 449 * 1152, rows(0, 384, 384, 1152, 449, 384, false)],
  ["bias into every row (broadcast)", 449 * 1536, 1536, rows(0, 1536, 0, 0, 449, 1536, false)],
  // [T, H, D] -> [H, T, D], the head split of one batch row
  [
    "head swap",
    449 * 6 * 64,
    449 * 6 * 64,
    { dOff: 0, sOff: 0, n0: 449, dS0: 64, sS0: 384, n1: 6, dS1: 449 * 64, sS1: 64, cols: 64, accumulate: false },
  ],
  [
    "odd sizes",
    3 * 5 * 7 + 9,
    3 * 5 * 7 + 2,
    { dOff: 9, sOff: 2, n0: 3, dS0: 35, sS0: 35, n1: 5, dS1: 7, sS1: 7, cols: 7, accumulate: false },
  ],
];
