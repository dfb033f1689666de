/**
 * The native backend's page advice (native/src/pages.h, kernels/native/pages.ts):
 * discarding zeroes a buffer and, on Linux, hands its pages back (resident memory
 * falls); the backend offers `discard` only where transparent huge pages are on.
 * Skipped where the addon is not built (or predates these calls).
 */
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { createNativeBackend } from "../../src/kernels/native/backend.js";
import { hugePageMode, pageKernels } from "../../src/kernels/native/pages.js";
import { tempDir } from "../helpers.js";
import { nativeAddonFor } from "./native-addon-skip.js";

const { load, skip } = nativeAddonFor("discardPages", "its page calls");

/** Resident memory of this process in MiB (Linux). */
const residentMiB = () => (Number(readFileSync("/proc/self/statm", "utf8").split(" ")[1]) * 4096) / 2 ** 20;

describe("native page advice", { skip }, () => {
  const addon = load.ok ? load.addon : null;

  it("discardPages zeroes every value, whole pages or not", () => {
    for (const n of [5, 1000, 4096 + 3, (1 << 20) + 7]) {
      const buf = new Float32Array(n).fill(3);
      const sub = buf.subarray(1, n - 1); // unaligned ends: zeroed in place
      const gaveBack = addon?.discardPages?.(sub);
      assert.ok(
        sub.every((v) => v === 0),
        `${n}: not all zero`,
      );
      assert.equal(buf[0], 3, "outside the view: untouched");
      assert.equal(buf[n - 1], 3);
      if (process.platform === "linux") assert.equal(gaveBack, n * 4 > 3 * 4096, `${n}: whole pages given back`);
    }
  });

  it("on Linux, discarding a touched buffer lowers resident memory by about its size", { skip: process.platform !== "linux" }, () => {
    const buf = new Float32Array(64 << 18).fill(1); // 64 MiB, all resident
    const before = residentMiB();
    addon?.discardPages?.(buf);
    const dropped = before - residentMiB();
    assert.ok(dropped > 56, `resident memory fell by ${dropped.toFixed(1)} MiB`);
    buf[0] = 2; // still usable: the page faults back in, zero around the write
    assert.equal(buf[0] + buf[1], 2);
  });

  it("the backend discards only where huge pages are on; hugePageMode reads the kernel's setting", () => {
    if (!addon) return;
    assert.equal(pageKernels(addon, "never").discard, undefined);
    assert.equal(pageKernels(addon, null).discard, undefined);
    assert.equal(createNativeBackend({ threads: 1 }).discard, undefined, "opt-in: --release-memory");
    const mode = hugePageMode();
    const lean = createNativeBackend({ threads: 1, releaseMemory: true });
    assert.equal(lean.discard !== undefined, mode === "always" || mode === "madvise");
    const { alloc, discard } = pageKernels(addon, "madvise");
    const buf = alloc(1 << 20).fill(5); // large enough to be advised onto huge pages
    assert.ok(discard);
    discard(buf);
    assert.ok(buf.every((v) => v === 0));
    const dir = tempDir();
    const file = join(dir, "enabled");
    writeFileSync(file, "always [madvise] never\n");
    assert.equal(hugePageMode(file), "madvise");
    assert.equal(hugePageMode(join(dir, "missing")), null);
  });
});
