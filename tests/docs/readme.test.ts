/**
 * Runs every fenced code block of README.md, so the README cannot drift
 * from the code (the convention is in readme-blocks.ts):
 * - `sh`/`bash` run in bash; `npx rrhf` and `rrhf` are the built CLI;
 * - `console` runs each `$ ` command and checks that its output holds the
 *   lines shown (numbers and backend names may differ);
 * - `ts`/`js` run as ES modules that `import ... from "rrhf"`;
 * - `json`/`jsonl` are parsed, `yaml` is loaded as a `rrhf train --config` file;
 * - the `ts` blocks, all together, also type-check against the built package.
 *
 * Each block runs in its own temporary folder that holds `tests` (a link to
 * the repository's, for the fixture paths the examples use) and
 * `node_modules/rrhf` (a link to the repository, whose package.json exports
 * the built dist/src/index.js), so whatever an example writes (runs/...)
 * lands there and is removed afterwards.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import ts from "typescript";
import YAML from "yaml";
import { resolveTrainConfig } from "../../src/train/config.js";
import { repoRoot, tempDir } from "../helpers.js";
import {
  consoleSteps,
  indentedCodeLines,
  markdownBlocks,
  missingOutputLine,
  RUNNABLE_LANGUAGES,
  TEXT_LANGUAGES,
  type MarkdownBlock,
} from "./readme-blocks.js";

const README = join(repoRoot, "README.md");
const BIN = join(repoRoot, "dist", "src", "cli", "bin.js");
const BLOCK_TIMEOUT_MS = 300_000;
const blocks = markdownBlocks(readFileSync(README, "utf8"));

/** A scratch folder laid out like the repository root for the examples' relative paths. */
function workspace(): string {
  const dir = tempDir("rrhf-readme-");
  symlinkSync(join(repoRoot, "tests"), join(dir, "tests"), "dir");
  mkdirSync(join(dir, "node_modules"));
  symlinkSync(repoRoot, join(dir, "node_modules", "rrhf"), "dir");
  writeFileSync(join(dir, "package.json"), `${JSON.stringify({ name: "readme-examples", private: true, type: "module" })}\n`);
  const bin = join(dir, ".bin");
  mkdirSync(bin);
  writeFileSync(join(bin, "rrhf"), `#!/bin/sh\nexec "${process.execPath}" "${BIN}" "$@"\n`);
  chmodSync(join(bin, "rrhf"), 0o755);
  return dir;
}

/** Bash with `rrhf` on PATH and `npx rrhf` meaning the built CLI (never a download). */
function bash(script: string, cwd: string): { code: number; output: string } {
  const prelude = `set -euo pipefail\nnpx() { if [ "$1" = rrhf ]; then shift; rrhf "$@"; else echo "README test: npx $1 is not allowed" >&2; return 127; fi; }\n`;
  const r = spawnSync("bash", ["-c", `${prelude}${script}\n`], {
    cwd,
    encoding: "utf8",
    timeout: BLOCK_TIMEOUT_MS,
    env: { ...process.env, PATH: `${join(cwd, ".bin")}:${process.env.PATH ?? ""}` },
    maxBuffer: 64 * 1024 * 1024,
  });
  return { code: r.status ?? -1, output: `${r.stdout}${r.stderr}${r.error ? String(r.error) : ""}` };
}

function where(block: MarkdownBlock): string {
  return `README.md:${block.line}`;
}

function runShell(block: MarkdownBlock, dir: string): void {
  const r = bash(block.code, dir);
  assert.equal(r.code, 0, `${where(block)} exited ${r.code}:\n${r.output}`);
}

function runConsole(block: MarkdownBlock, dir: string): void {
  const steps = consoleSteps(block.code);
  assert.ok(steps.length > 0, `${where(block)}: a console block shows at least one "$ " command`);
  for (const step of steps) {
    const r = bash(`${step.command} 2>&1`, dir);
    assert.equal(r.code, 0, `${where(block)}: \`${step.command}\` exited ${r.code}:\n${r.output}`);
    const missing = missingOutputLine(step.expected, r.output);
    assert.equal(missing, null, `${where(block)}: \`${step.command}\` did not print a line like\n  ${missing}\nit printed:\n${r.output}`);
  }
}

/** Type errors of TypeScript example files, checked against the built package's declarations. */
function typeErrors(files: string[], dir: string): string[] {
  const program = ts.createProgram(files, {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    lib: ["lib.es2023.d.ts"],
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    types: ["node"],
    typeRoots: [join(repoRoot, "node_modules", "@types")],
  });
  return ts.getPreEmitDiagnostics(program).map((d) => {
    const pos = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start) : null;
    const name = d.file ? d.file.fileName.slice(dir.length + 1) : "";
    return `${name}${pos ? `:${pos.line + 1}:${pos.character + 1}` : ""}: ${ts.flattenDiagnosticMessageText(d.messageText, "\n")}`;
  });
}

function runModule(block: MarkdownBlock, dir: string): void {
  const source = join(dir, block.lang === "ts" ? "example.ts" : "example.js");
  writeFileSync(source, `${block.code}\nexport {};\n`);
  let runnable = source;
  if (block.lang === "ts") {
    runnable = join(dir, "example.mjs");
    const js = ts.transpileModule(readFileSync(source, "utf8"), {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
    }).outputText;
    writeFileSync(runnable, js);
  }
  const r = spawnSync(process.execPath, [runnable], { cwd: dir, encoding: "utf8", timeout: BLOCK_TIMEOUT_MS });
  assert.equal(r.status, 0, `${where(block)} exited ${r.status}:\n${r.stdout}${r.stderr}`);
}

function parseData(block: MarkdownBlock, dir: string): void {
  if (block.lang === "json") {
    JSON.parse(block.code);
  } else if (block.lang === "jsonl") {
    for (const line of block.code.split("\n")) if (line.trim() !== "") JSON.parse(line);
  } else {
    // A YAML block is a `rrhf train --config` file: parsed, and accepted by the trainer's settings.
    assert.equal(typeof YAML.parse(block.code), "object");
    const file = join(dir, "config.yaml");
    writeFileSync(file, block.code);
    resolveTrainConfig({ configFile: file });
  }
}

function runBlock(block: MarkdownBlock): void {
  const dir = workspace();
  try {
    if (block.lang === "sh" || block.lang === "bash") runShell(block, dir);
    else if (block.lang === "console") runConsole(block, dir);
    else if (block.lang === "ts" || block.lang === "js") runModule(block, dir);
    else parseData(block, dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test("README.md has code blocks, each with a language this test knows and a well-formed marker", () => {
  assert.ok(blocks.length >= 5, `found ${blocks.length} blocks`);
  const known = new Set<string>([...RUNNABLE_LANGUAGES, ...TEXT_LANGUAGES]);
  for (const block of blocks) {
    assert.ok(known.has(block.lang), `${where(block)}: language "${block.lang}" is not one of ${[...known].join(", ")}`);
    assert.equal(block.badMarker, null, `${where(block)}: write the marker as <!-- readme-test: skip: REASON -->`);
  }
  assert.deepEqual(
    indentedCodeLines(readFileSync(README, "utf8")),
    [],
    "indented code blocks (lines listed) must be fenced, with a language",
  );
  const skipped = blocks.filter((b) => b.skip !== null);
  assert.ok(skipped.length <= 3, `only a few blocks may be skipped, found ${skipped.length}`);
});

test("README.md's TypeScript examples type-check against the built package", () => {
  const dir = workspace();
  try {
    const files = blocks
      .filter((b) => b.lang === "ts" && b.skip === null)
      .map((b) => {
        const file = join(dir, `readme-${b.line}.ts`);
        writeFileSync(file, `${b.code}\nexport {};\n`);
        return file;
      });
    assert.deepEqual(typeErrors(files, dir), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

for (const block of blocks) {
  if ((TEXT_LANGUAGES as readonly string[]).includes(block.lang)) continue;
  if (!(RUNNABLE_LANGUAGES as readonly string[]).includes(block.lang)) continue;
  const options = block.skip === null ? {} : { skip: block.skip };
  test(`${where(block)} (${block.lang}) runs as written`, options, () => runBlock(block));
}
