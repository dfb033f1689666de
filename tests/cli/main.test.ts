import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { repoRoot, runRrhf } from "../helpers.js";

test("--version prints the package version and exits 0", () => {
  const pkg = JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8")) as { version: string };
  const r = runRrhf(["--version"]);
  assert.equal(r.code, 0);
  assert.equal(r.stdout.trim(), pkg.version);
});

test("--help lists the program and exits 0", () => {
  const r = runRrhf(["--help"]);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /Usage: rrhf/);
});

test("an unknown option is a usage error: exit 2, message on stderr", () => {
  const r = runRrhf(["--no-such-flag"]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /unknown option/);
  assert.equal(r.stdout, "");
});

test("an unknown command is a usage error: exit 2", () => {
  const r = runRrhf(["no-such-command"]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /unknown command/);
});
