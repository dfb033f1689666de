import assert from "node:assert/strict";
import { readFileSync, statSync } from "node:fs";
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

test("a user error exits 1 with one message on stderr and no stack trace", () => {
  const r = runRrhf(["validate", "no-such-file.jsonl"]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^rrhf: error: no-such-file\.jsonl: no such file/m);
  assert.doesNotMatch(r.stderr, /^\s+at /m);
});

test("--debug adds the stack trace, before or after the command", () => {
  for (const args of [
    ["--debug", "validate", "no-such-file.jsonl"],
    ["validate", "no-such-file.jsonl", "--debug"],
  ]) {
    const r = runRrhf(args);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /rrhf: error: no-such-file\.jsonl: no such file/);
    assert.match(r.stderr, /^\s+at /m);
  }
});

test("every command has --help that exits 0", () => {
  for (const cmd of ["validate", "convert", "init-model", "loss", "train"]) {
    const r = runRrhf([cmd, "--help"]);
    assert.equal(r.code, 0, cmd);
    assert.match(r.stdout, new RegExp(`Usage: rrhf ${cmd}`));
  }
});

test("the built bin is executable, so npx rrhf and the npm bin link run it", () => {
  const mode = statSync(join(repoRoot, "dist", "src", "cli", "bin.js")).mode;
  assert.equal(mode & 0o111, 0o111);
});
