/**
 * What a newcomer trips on: every case exits with the right code and one clear
 * message, and leaves nothing overwritten or half-written behind.
 */
import assert from "node:assert/strict";
import { cpSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { EXIT_INTERNAL_ERROR, EXIT_USER_ERROR, buildProgram, reportError } from "../../src/cli/main.js";
import { InternalError, UserError } from "../../src/errors.js";
import { fixture, repoRoot, runRrhf, tempDir } from "../helpers.js";

const GPT2 = fixture("models", "gpt2-tiny");
const TRAIN_DATA = fixture("train", "tiny-train.jsonl");

/** Every file under `dir` (relative paths, hidden ones included) with its bytes. */
function snapshot(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string, rel: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const r = rel === "" ? e.name : `${rel}/${e.name}`;
      if (e.isDirectory()) walk(join(d, e.name), r);
      else out.set(r, readFileSync(join(d, e.name)).toString("base64"));
    }
  };
  walk(dir, "");
  return out;
}

function captureIo(): { io: { stdout: (t: string) => void; stderr: (t: string) => void }; err: () => string } {
  let err = "";
  return { io: { stdout: () => {}, stderr: (t) => (err += t) }, err: () => err };
}

test("init-model --out models/tiny creates the missing models/ folder, as train does", () => {
  const cwd = tempDir();
  const r = runRrhf(["init-model", "--config", join(GPT2, "config.json"), "--out", "models/tiny"], { cwd });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(readdirSync(join(cwd, "models")), ["tiny"]);
  assert.ok(readdirSync(join(cwd, "models", "tiny")).includes("model.safetensors"));
});

test("init-model over an existing model names the real flag (--force), and --force works", () => {
  const cwd = tempDir();
  const args = ["init-model", "--config", join(GPT2, "config.json"), "--out", "m"];
  assert.equal(runRrhf(args, { cwd }).code, 0);
  const before = snapshot(cwd);
  const again = runRrhf([...args, "--seed", "7"], { cwd });
  assert.equal(again.code, EXIT_USER_ERROR);
  assert.equal(again.stderr, "rrhf: error: m: folder exists and is not empty (pass --force to replace it)\n");
  assert.deepEqual(snapshot(cwd), before);
  assert.equal(runRrhf([...args, "--seed", "7", "--force"], { cwd }).code, 0);
  assert.notDeepEqual(snapshot(cwd), before);
});

test("init-model --out through a file is a user error naming the path, and writes nothing", () => {
  const cwd = tempDir();
  writeFileSync(join(cwd, "FILE"), "keep me");
  const r = runRrhf(["init-model", "--config", join(GPT2, "config.json"), "--out", "FILE/tiny"], { cwd });
  assert.equal(r.code, EXIT_USER_ERROR);
  assert.match(r.stderr, /^rrhf: error: --out FILE\/tiny: .*FILE is a file, not a folder; choose another path\n$/);
  assert.deepEqual([...snapshot(cwd).keys()], ["FILE"]);
  assert.equal(readFileSync(join(cwd, "FILE"), "utf8"), "keep me");
});

test("train --out FILE (a file, not a folder) is a user error, before any work", () => {
  const cwd = tempDir();
  writeFileSync(join(cwd, "FILE"), "keep me");
  const r = runRrhf(["train", "--model", GPT2, "--data", TRAIN_DATA, "--out", "FILE", "--max-steps", "1"], { cwd });
  assert.equal(r.code, EXIT_USER_ERROR);
  assert.equal(r.stderr, "rrhf: error: --out FILE: exists and is a file, not a folder; choose a folder path\n");
  assert.equal(r.stdout, "");
  assert.deepEqual([...snapshot(cwd).keys()], ["FILE"]);
});

test("train refuses --out equal to --model (also through a symlink or another spelling); the model is untouched", () => {
  const cwd = tempDir();
  cpSync(GPT2, join(cwd, "model"), { recursive: true });
  symlinkSync("model", join(cwd, "link"));
  const before = snapshot(join(cwd, "model"));
  for (const out of ["model", "./model/", "link", join(cwd, "model")]) {
    const r = runRrhf(["train", "--model", "model", "--data", TRAIN_DATA, "--out", out, "--max-steps", "1", "--overwrite-output-dir"], {
      cwd,
    });
    assert.equal(r.code, EXIT_USER_ERROR, out);
    assert.equal(
      r.stderr,
      `rrhf: error: --out ${out} is the same path as --model model: writing it would replace the input; choose another --out\n`,
    );
    assert.deepEqual(snapshot(join(cwd, "model")), before, "the model's files, and nothing beside them");
  }
  assert.deepEqual(readdirSync(cwd).sort(), ["link", "model"]);
});

test("convert refuses the same input and output; the input is unchanged and no temp file is left", () => {
  const cwd = tempDir();
  const text = `${JSON.stringify({ prompt: "a", chosen: "b", rejected: "c" })}\n`;
  writeFileSync(join(cwd, "pairs.jsonl"), text);
  symlinkSync("pairs.jsonl", join(cwd, "alias.jsonl"));
  for (const out of ["pairs.jsonl", "./pairs.jsonl", "alias.jsonl"]) {
    const r = runRrhf(["convert", "--from", "pairs", "pairs.jsonl", "--out", out], { cwd });
    assert.equal(r.code, EXIT_USER_ERROR, out);
    assert.equal(
      r.stderr,
      `rrhf: error: --out ${out} is the same path as input pairs.jsonl: writing it would replace the input; choose another --out\n`,
    );
    assert.deepEqual(readdirSync(cwd).sort(), ["alias.jsonl", "pairs.jsonl"]);
    assert.equal(readFileSync(join(cwd, "pairs.jsonl"), "utf8"), text);
  }
});

test("validate on a raw HH-RLHF or pairs file suggests the matching rrhf convert", () => {
  const cwd = tempDir();
  const hh = { chosen: "\n\nHuman: hi\n\nAssistant: yes", rejected: "\n\nHuman: hi\n\nAssistant: no" };
  writeFileSync(join(cwd, "hh.jsonl"), `${JSON.stringify(hh)}\n`);
  writeFileSync(join(cwd, "pairs.jsonl"), `${JSON.stringify({ prompt: "p", chosen: "a", rejected: "b" })}\n`);
  const h = runRrhf(["validate", "hh.jsonl"], { cwd });
  assert.equal(h.code, EXIT_USER_ERROR);
  assert.match(
    h.stderr,
    /^hh\.jsonl:1: -: an HH-RLHF \{chosen, rejected\} record, not an RRHF record .*rrhf convert --from hh hh\.jsonl --out OUT\.jsonl$/m,
  );
  const p = runRrhf(["validate", "pairs.jsonl"], { cwd });
  assert.equal(p.code, EXIT_USER_ERROR);
  assert.match(
    p.stderr,
    /^pairs\.jsonl:1: -: a \{prompt, chosen, rejected\} pair, .*rrhf convert --from pairs pairs\.jsonl --out OUT\.jsonl$/m,
  );
  // The suggested command works, and its output validates.
  assert.equal(runRrhf(["convert", "--from", "hh", "hh.jsonl", "--out", "hh-rrhf.jsonl"], { cwd }).code, 0);
  assert.equal(runRrhf(["validate", "hh-rrhf.jsonl"], { cwd }).code, 0);
});

test("an internal error (a bug) exits 70 with its stack and a request to report it", () => {
  for (const err of [new InternalError("broken invariant"), new TypeError("x is not a function")]) {
    const { io, err: stderr } = captureIo();
    assert.equal(reportError(err, io, false), EXIT_INTERNAL_ERROR);
    assert.match(stderr(), new RegExp(`^rrhf: internal error: ${err.message}\\n`));
    assert.match(stderr(), /^\s+at /m, "the stack is shown without --debug");
    assert.match(stderr(), /please report this, with the command and the output of --debug/);
  }
});

test("a user error, or a file-system error on a path, is one line and exit 1, never an internal error", () => {
  const { io, err } = captureIo();
  assert.equal(reportError(new UserError("data.jsonl: no such file"), io, false), EXIT_USER_ERROR);
  assert.equal(err(), "rrhf: error: data.jsonl: no such file\n");
  const cases: [string, string, RegExp][] = [
    ["ENOENT", "mkdir", /^rrhf: error: out\/x: cannot create folder: no such file or folder; check the path \(ENOENT\)\n$/],
    [
      "ENOTDIR",
      "scandir",
      /^rrhf: error: out\/x: cannot list folder: a part of the path is a file, not a folder; check the path \(ENOTDIR\)\n$/,
    ],
    ["EACCES", "open", /^rrhf: error: out\/x: cannot open: permission denied; check its permissions or choose another path \(EACCES\)\n$/],
    ["EEXIST", "mkdir", /^rrhf: error: out\/x: cannot create folder: already exists; remove it or choose another path \(EEXIST\)\n$/],
    ["EISDIR", "open", /^rrhf: error: out\/x: cannot open: is a folder, not a file; name a file \(EISDIR\)\n$/],
    [
      "ENOSPC",
      "write",
      /^rrhf: error: out\/x: cannot write: no space left on the device; free some space or choose another location \(ENOSPC\)\n$/,
    ],
  ];
  for (const [code, syscall, expected] of cases) {
    const e = Object.assign(new Error(`${code}: ${syscall} 'out/x'`), { code, syscall, path: "out/x" });
    const c = captureIo();
    assert.equal(reportError(e, c.io, false), EXIT_USER_ERROR, code);
    assert.match(c.err(), expected);
  }
});

test("rrhf --help and the README mention only commands that exist", () => {
  const registered = new Set(buildProgram().commands.map((c) => c.name()));
  const help = runRrhf(["--help"]).stdout;
  const listed = [...help.split("Commands:")[1].matchAll(/^ {2}([a-z-]+)/gm)].map((m) => m[1]).filter((n) => n !== "help");
  assert.deepEqual(new Set(listed), registered);
  const readme = readFileSync(join(repoRoot, "README.md"), "utf8");
  const mentioned = new Set([...readme.matchAll(/`rrhf ([a-z][a-z-]*)/g)].map((m) => m[1]));
  for (const name of mentioned) assert.ok(registered.has(name), `README mentions rrhf ${name}, which does not exist`);
  for (const name of registered) assert.ok(mentioned.has(name), `README does not document rrhf ${name}`);
});

test("no stray folder is created by a refused init-model", () => {
  const cwd = tempDir();
  mkdirSync(join(cwd, "m"));
  writeFileSync(join(cwd, "m", "notes.txt"), "mine");
  const r = runRrhf(["init-model", "--config", join(GPT2, "config.json"), "--out", "m", "--force"], { cwd });
  assert.equal(r.code, EXIT_USER_ERROR);
  assert.match(r.stderr, /not a model folder/);
  assert.deepEqual([...snapshot(cwd).keys()], ["m/notes.txt"]);
});

test("convert --out naming a folder is a user error naming --out, not the hidden temp file, and leaves nothing", () => {
  const cwd = tempDir();
  mkdirSync(join(cwd, "outdir"));
  const r = runRrhf(["convert", "--from", "hh", fixture("data", "hh.jsonl"), "--out", "outdir"], { cwd });
  assert.equal(r.code, EXIT_USER_ERROR);
  assert.equal(r.stderr, "rrhf: error: outdir: cannot move into place: is a folder, not a file; name a file (EISDIR)\n");
  assert.deepEqual(readdirSync(cwd), ["outdir"]);
  assert.deepEqual(readdirSync(join(cwd, "outdir")), []);
});
