import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { it } from "node:test";
import { repoRoot } from "../helpers.js";

// The kernel binary is committed (base64, in kernel-binary.generated.ts) so that
// it ships without a build step; this keeps it honest against its source.
it("the committed WASM kernel binary equals a fresh AssemblyScript build", (t) => {
  if (!existsSync(join(repoRoot, "node_modules", "assemblyscript", "bin", "asc.js"))) {
    return t.skip("AssemblyScript is not installed");
  }
  const r = spawnSync(process.execPath, [join(repoRoot, "scripts", "build-wasm.mjs"), "--check"], {
    encoding: "utf8",
    timeout: 120_000,
  });
  assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
  assert.match(r.stdout, /matches a fresh build/);
});
