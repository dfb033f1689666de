import assert from "node:assert/strict";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { writeStreamAtomic } from "../../src/data/atomic-writer.js";
import { convertFile, recordToJsonLine } from "../../src/data/convert/convert.js";
import { hhToRecord, splitHhTranscript } from "../../src/data/convert/hh.js";
import { pairToRecord } from "../../src/data/convert/pairs.js";
import { readAllRecords } from "../../src/data/reader.js";
import { DataError } from "../../src/errors.js";
import { fixture, tempDir } from "../helpers.js";

test("splitHhTranscript splits at the LAST assistant marker, keeping the marker in the query", () => {
  const t = "\n\nHuman: a\n\nAssistant: b\n\nHuman: c\n\nAssistant: d e";
  assert.deepEqual(splitHhTranscript(t), {
    query: "\n\nHuman: a\n\nAssistant: b\n\nHuman: c\n\nAssistant:",
    response: " d e",
  });
  assert.equal(splitHhTranscript("\n\nHuman: no answer"), null);
  assert.deepEqual(splitHhTranscript("\n\nAssistant:"), { query: "\n\nAssistant:", response: "" });
});

test("hhToRecord keeps texts byte for byte and checks the shared prefix", () => {
  const r = hhToRecord({ chosen: "\n\nHuman: x\n\nAssistant:  yes \n", rejected: "\n\nHuman: x\n\nAssistant:no" }, "f", 3);
  assert.deepEqual(r, { query: "\n\nHuman: x\n\nAssistant:", responses: ["  yes \n", "no"], scores: [1, 0] });
  assert.throws(
    () => hhToRecord({ chosen: "\n\nHuman: x\n\nAssistant: a", rejected: "\n\nHuman: x!\n\nAssistant: a" }, "f", 3),
    (e: unknown) => e instanceof DataError && e.field === "rejected" && /first difference at character 11\)$/.test(e.message),
  );
});

test("pairToRecord maps prompt/chosen/rejected to scores [1, 0]", () => {
  assert.deepEqual(pairToRecord({ prompt: "p ", chosen: " c", rejected: "r", id: 4 }, "f", 1), {
    query: "p ",
    responses: [" c", "r"],
    scores: [1, 0],
  });
  assert.throws(() => pairToRecord({ prompt: "p", chosen: "", rejected: "r" }, "f", 2), {
    message: "f:2: chosen: must not be empty",
  });
});

test("recordToJsonLine writes the contract's key order, one line", () => {
  assert.equal(
    recordToJsonLine({ scores: [1, 0], responses: ["a\nb", "c"], query: "q" }),
    '{"query":"q","responses":["a\\nb","c"],"scores":[1,0]}\n',
  );
});

for (const from of ["pairs", "hh"] as const) {
  test(`convertFile --from ${from}: exact output, and it reads back as valid records`, async () => {
    const out = join(tempDir(), "out.jsonl");
    const { records } = await convertFile(from, fixture("data", `${from}.jsonl`), out);
    const expected = readFileSync(fixture("data", `${from}.expected.jsonl`), "utf8");
    assert.equal(readFileSync(out, "utf8"), expected);
    assert.equal(records, expected.trimEnd().split("\n").length);
    const back = await readAllRecords(out);
    assert.deepEqual(back.map(recordToJsonLine).join(""), expected);
  });
}

test("a failed conversion leaves an existing output untouched and no temp file", async () => {
  const dir = tempDir();
  const out = join(dir, "out.jsonl");
  writeFileSync(out, "previous\n");
  await assert.rejects(convertFile("hh", fixture("bad-data", "hh-prefix-mismatch.jsonl"), out), DataError);
  assert.equal(readFileSync(out, "utf8"), "previous\n");
  assert.deepEqual(readdirSync(dir), ["out.jsonl"]);
});

test("a successful conversion replaces an existing output", async () => {
  const dir = tempDir();
  const out = join(dir, "out.jsonl");
  writeFileSync(out, "previous\n");
  await convertFile("pairs", fixture("data", "pairs.jsonl"), out);
  assert.equal(readFileSync(out, "utf8"), readFileSync(fixture("data", "pairs.expected.jsonl"), "utf8"));
  assert.deepEqual(readdirSync(dir), ["out.jsonl"]);
});

test("writeStreamAtomic flushes large outputs in pieces and removes its temp file on error", async () => {
  const dir = tempDir();
  const big = join(dir, "big.txt");
  const piece = "x".repeat(1000) + "\n";
  await writeStreamAtomic(big, async (write) => {
    for (let i = 0; i < 3000; i++) await write(piece); // ~3 MB: several flushes
  });
  assert.equal(readFileSync(big, "utf8"), piece.repeat(3000));
  await assert.rejects(
    writeStreamAtomic(join(dir, "never.txt"), async (write) => {
      await write(piece.repeat(2000)); // flushed to the temp file before the failure
      throw new Error("boom");
    }),
    /boom/,
  );
  assert.deepEqual(readdirSync(dir), ["big.txt"]);
  await assert.rejects(
    writeStreamAtomic(join(dir, "missing", "x.txt"), async () => undefined),
    /does not exist/,
  );
});
