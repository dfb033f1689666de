/**
 * The fuzz targets at CI size (a few hundred inputs each, fixed seed, well
 * under 20 s in all). The full run is `node dist/tests/fuzz/run.js --runs 100000`
 * (see docs/reliability.md).
 */
import fc from "fast-check";
import { describe, it } from "node:test";
import { FUZZ_TARGETS } from "./targets.js";

describe("fuzz (CI size)", () => {
  for (const target of FUZZ_TARGETS) {
    it(`${target.name}: ${target.ciRuns} random/mutated inputs fail cleanly or load`, async () => {
      const { arbitrary, check, dispose } = await target.prepare();
      try {
        await fc.assert(fc.asyncProperty(arbitrary, check), { numRuns: target.ciRuns, seed: 20261204 });
      } finally {
        await dispose?.();
      }
    });
  }
});
