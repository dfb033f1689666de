import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { readAllRecords, readRecords, scanRecords } from "../../src/data/reader.js";
import { readLines } from "../../src/data/lines.js";
import { DataError, UserError } from "../../src/errors.js";
import { fixture, tempDir } from "../helpers.js";

const hhSample = fixture("data", "hh-sample.jsonl");

function writeTemp(name: string, content: string | Buffer): string {
  const path = join(tempDir(), name);
  writeFileSync(path, content);
  return path;
}

test("reads the HH sample fixture exactly", async () => {
  const records = await readAllRecords(hhSample);
  assert.equal(records.length, 1);
  const [r] = records;
  assert.ok(r.query !== undefined);
  assert.ok(r.query.startsWith(" \n\nHuman: What is the correct order to add ingredients when making a taco?"));
  assert.ok(r.query.endsWith("\n\nAssistant:"));
  assert.equal(r.responses.length, 6);
  assert.equal(r.responses[5], " Which kind of taco? Do you want something more traditional or a fusion?");
  assert.deepEqual(r.scores, [-1.427734375, -1.03515625, -1.28125, -1.1923828125, -1.6572265625, -2.400390625]);
});

test("streams 200k lines with correct line numbers and values", async () => {
  const n = 200_000;
  const parts: string[] = [];
  for (let i = 0; i < n; i++) parts.push(`{"query":"q${i}","responses":["a${i}","b"],"scores":[${i},-${i}]}\n`);
  const path = writeTemp("big.jsonl", parts.join(""));
  let count = 0;
  for await (const { line, record } of readRecords(path)) {
    assert.equal(line, count + 1);
    if (count % 49_999 === 0) {
      assert.equal(record.query, `q${count}`);
      assert.deepEqual(record.scores, [count, -count]);
    }
    count++;
  }
  assert.equal(count, n);
});

test("records are yielded before later lines are checked (incremental, not load-then-validate)", async () => {
  const good = '{"query":"q","responses":["a","b"],"scores":[1,0]}\n';
  const path = writeTemp("third-bad.jsonl", good + good + "oops\n" + good);
  const got: number[] = [];
  await assert.rejects(
    (async () => {
      for await (const { line } of readRecords(path, { displayName: "d.jsonl" })) got.push(line);
    })(),
    (err: unknown) => err instanceof DataError && err.message === 'd.jsonl:3: -: not valid JSON (line starts with "oops")',
  );
  assert.deepEqual(got, [1, 2]);
});

test("lines longer than a read chunk, with multi-byte characters across the boundary, survive intact", async () => {
  const long = "é".repeat(1_500_000) + "x"; // ~3 MB, so chunk edges fall inside two-byte characters
  const rec = { query: "q", responses: [long, "b"], scores: [1, 0] };
  const path = writeTemp("long.jsonl", `${JSON.stringify(rec)}\n${JSON.stringify(rec)}`); // no final newline
  const records = await readAllRecords(path);
  assert.equal(records.length, 2);
  for (const r of records) assert.equal(r.responses[0], long);
});

test("readLines: blank lines count, CRLF keeps its \\r, no phantom line after a final newline", async () => {
  const path = writeTemp("lines.txt", "a\r\n\nb\nc\n");
  const lines: Array<[number, string]> = [];
  for await (const { line, bytes } of readLines(path)) lines.push([line, bytes.toString("utf8")]);
  assert.deepEqual(lines, [
    [1, "a\r"],
    [2, ""],
    [3, "b"],
    [4, "c"],
  ]);
});

test("blank lines are skipped but counted; CRLF line ends and a leading BOM are accepted", async () => {
  const good = '{"query":"q","responses":["a","b"],"scores":[1,0]}';
  const path = writeTemp("mixed.jsonl", `\uFEFF${good}\r\n\r\n  \n${good}\n`);
  const lines: number[] = [];
  for await (const { line } of readRecords(path)) lines.push(line);
  assert.deepEqual(lines, [1, 4]);
});

test("a BOM anywhere but the start of the file is an error", async () => {
  const good = '{"query":"q","responses":["a","b"],"scores":[1,0]}';
  const path = writeTemp("bom2.jsonl", `${good}\n\uFEFF${good}\n`);
  await assert.rejects(readAllRecords(path, { displayName: "b" }), /^DataError: b:2: -: not valid JSON/);
});

test("unknown keys are dropped from the record but reported; 'error' makes them problems", async () => {
  const path = writeTemp("extra.jsonl", '{"id":1,"query":"q","responses":["a","b"],"scores":[1,0],"meta":{}}\n');
  for await (const entry of readRecords(path)) {
    assert.deepEqual(entry.record, { query: "q", responses: ["a", "b"], scores: [1, 0] });
    assert.deepEqual(entry.unknownKeys, ["id", "meta"]);
  }
  await assert.rejects(readAllRecords(path, { displayName: "x", unknownKeys: "error" }), {
    message: "x:1: id: unknown key (strict mode)",
  });
});

test("minResponses: 1 accepts single-response records (SFT-only data)", async () => {
  const path = writeTemp("one.jsonl", '{"query":"q","responses":["a"],"scores":[1]}\n');
  await assert.rejects(readAllRecords(path), /needs at least 2 responses, got 1/);
  assert.equal((await readAllRecords(path, { minResponses: 1 })).length, 1);
});

test("scanRecords collects every problem of every line", async () => {
  const path = writeTemp(
    "many.jsonl",
    '{"query":"","responses":["a",""],"scores":[1]}\n{"query":"q","responses":["a","b"],"scores":[1,0]}\n[]\n',
  );
  const out: string[] = [];
  for await (const e of scanRecords(path, { displayName: "m" })) {
    if (e.ok) out.push(`ok ${e.line}`);
    else for (const err of e.errors) out.push(err.message);
  }
  assert.deepEqual(out, [
    "m:1: query: must not be empty",
    "m:1: responses[1]: must not be empty",
    "m:1: scores: has 1 entries but responses has 2",
    "ok 2",
    "m:3: -: expected a JSON object, got an array",
  ]);
});

test("a missing file is a UserError naming it", async () => {
  await assert.rejects(readAllRecords("/no/such/file.jsonl"), (err: unknown) => {
    return err instanceof UserError && err.message === "/no/such/file.jsonl: no such file";
  });
  await assert.rejects(readAllRecords(tempDir()), /not a regular file/);
});
