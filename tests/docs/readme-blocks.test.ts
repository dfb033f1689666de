import assert from "node:assert/strict";
import { test } from "node:test";
import { consoleSteps, indentedCodeLines, markdownBlocks, missingOutputLine, outputLinePattern } from "./readme-blocks.js";

const markdown = [
  "# Title",
  "<!-- readme-test: skip: would recurse -->",
  "",
  "```sh",
  "npm test",
  "```",
  "text between",
  "```ts",
  "const a = 1;",
  "",
  "const b = 2;",
  "```",
  "<!-- readme-test: skipp it -->",
  "````",
  "```nested```",
  "````",
].join("\n");

test("fenced blocks are found with their line, language, code and skip marker", () => {
  const blocks = markdownBlocks(markdown);
  assert.deepEqual(
    blocks.map((b) => [b.line, b.lang, b.skip, b.badMarker]),
    [
      [4, "sh", "would recurse", null],
      [8, "ts", null, null],
      [14, "", null, "<!-- readme-test: skipp it -->"],
    ],
  );
  assert.equal(blocks[1].code, "const a = 1;\n\nconst b = 2;");
  assert.equal(blocks[2].code, "```nested```");
});

test("a console block splits into commands and the output shown under each", () => {
  assert.deepEqual(consoleSteps("$ rrhf a\nline 1\n\nline 2\n$ ls out\nx  y"), [
    { command: "rrhf a", expected: ["line 1", "line 2"] },
    { command: "ls out", expected: ["x  y"] },
  ]);
});

test("shown output lines match real ones whose numbers and backend differ, and nothing else", () => {
  const pattern = outputLinePattern("step=5 loss=8.9045 lr=8.000e-4 backend native (29.6k parameters)");
  assert.ok(pattern.test("step=5 loss=8.9046 lr=7.5e-4 backend wasm (29.6k parameters)"));
  assert.ok(!pattern.test("step=5 loss=8.9046 lr=7.5e-4 backend wasm (29.6M parameters)"));
  assert.ok(!pattern.test("step=5 loss=x backend wasm (29.6k parameters)"));
  assert.equal(missingOutputLine(["a 1", "b 2"], "noise\na 3\nb 4\n"), null);
  assert.equal(missingOutputLine(["b 2", "a 1"], "a 3\nb 4\n"), "a 1", "order matters");
  assert.equal(missingOutputLine(["x  y  z"], "x\ny\nz\n"), null, "ls one name per line matches ls columns");
  assert.equal(missingOutputLine(["x  y  z"], "x\ny\n"), "x  y  z");
});

test("indented code blocks are found outside fences, list continuations are not", () => {
  const md = [
    "text",
    "",
    "    rrhf validate x",
    "",
    "- item",
    "  continued",
    "",
    "```text",
    "",
    "    inside a fence",
    "```",
    "",
    "\tcode",
  ].join("\n");
  assert.deepEqual(indentedCodeLines(md), [3, 13]);
});
