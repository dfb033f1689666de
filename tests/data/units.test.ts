import assert from "node:assert/strict";
import { test } from "node:test";
import { describeValue, fieldPath, quoteShort } from "../../src/data/describe.js";
import { LengthHistogram } from "../../src/data/histogram.js";
import { checkRecord } from "../../src/data/schema.js";
import { countTiedPairs, SummaryBuilder } from "../../src/data/stats.js";
import { decodeUtf8Strict, firstInvalidUtf8Offset } from "../../src/data/utf8.js";
import { parseJsonLine } from "../../src/data/jsonl.js";

const bytes = (...b: number[]): Uint8Array => Uint8Array.from(b);

test("firstInvalidUtf8Offset finds the first bad sequence", () => {
  assert.equal(firstInvalidUtf8Offset(new TextEncoder().encode("ascii é ✓ 😀")), -1);
  assert.equal(firstInvalidUtf8Offset(bytes(0x61, 0xff)), 1); // never valid
  assert.equal(firstInvalidUtf8Offset(bytes(0x80)), 0); // stray continuation
  assert.equal(firstInvalidUtf8Offset(bytes(0x61, 0xc0, 0xaf)), 1); // overlong "/"
  assert.equal(firstInvalidUtf8Offset(bytes(0xe0, 0x80, 0xaf)), 0); // overlong 3-byte
  assert.equal(firstInvalidUtf8Offset(bytes(0xed, 0xa0, 0x80)), 0); // surrogate U+D800
  assert.equal(firstInvalidUtf8Offset(bytes(0xf4, 0x90, 0x80, 0x80)), 0); // above U+10FFFF
  assert.equal(firstInvalidUtf8Offset(bytes(0x61, 0x62, 0xe2, 0x82)), 2); // cut short
  assert.equal(firstInvalidUtf8Offset(bytes(0xe2, 0x82, 0xac, 0xf0, 0x9f, 0x98)), 3); // "€" then a cut emoji
  assert.equal(firstInvalidUtf8Offset(bytes(0xf0, 0x9f, 0x98, 0x80)), -1); // 😀
});

test("decodeUtf8Strict agrees with the locator", () => {
  assert.equal(decodeUtf8Strict(bytes(0xe2, 0x82, 0xac)), "€");
  assert.equal(decodeUtf8Strict(bytes(0xc0, 0xaf)), null);
  assert.equal(decodeUtf8Strict(bytes(0xed, 0xa0, 0x80)), null);
});

test("parseJsonLine keeps a BOM only off line 1", () => {
  const line = new TextEncoder().encode('\uFEFF{"a":1}');
  assert.deepEqual(parseJsonLine(line, "f", 1).value, { a: 1 });
  assert.equal(parseJsonLine(line, "f", 2).error?.field, "-");
});

test("describeValue and fieldPath", () => {
  assert.equal(describeValue(null), "null");
  assert.equal(describeValue([1]), "an array");
  assert.equal(describeValue({}), "an object");
  assert.equal(describeValue("NaN"), 'string "NaN"');
  assert.equal(describeValue(-Infinity), "number -Infinity");
  assert.equal(describeValue(false), "boolean false");
  assert.equal(quoteShort("abcdef", 3), '"abc"...');
  assert.equal(fieldPath([]), "-");
  assert.equal(fieldPath(["responses", 3]), "responses[3]");
  assert.equal(fieldPath(["a", "b", 0]), "a.b[0]");
});

test("checkRecord: valid, and every problem in field order", () => {
  const ok = checkRecord({ query: "q", responses: ["a", "b"], scores: [0, 0], x: 1 }, "f", 1);
  assert.deepEqual(ok.record, { query: "q", responses: ["a", "b"], scores: [0, 0] });
  assert.deepEqual(ok.unknownKeys, ["x"]);
  const bad = checkRecord({ query: 1, responses: ["a"], scores: [1, "2"] }, "f", 9);
  assert.equal(bad.record, null);
  assert.deepEqual(
    bad.problems.map((p) => p.message),
    [
      "f:9: query: expected a string, got number 1",
      'f:9: scores[1]: expected a number, got string "2"',
      "f:9: responses: needs at least 2 responses, got 1",
      "f:9: scores: has 2 entries but responses has 1",
    ],
  );
});

test("countTiedPairs counts g(g-1)/2 per group of equal scores", () => {
  assert.equal(countTiedPairs([1, 0]), 0);
  assert.equal(countTiedPairs([1, 1]), 1);
  assert.equal(countTiedPairs([2, 2, 2]), 3);
  assert.equal(countTiedPairs([3, 2, 2, 1, 1]), 2);
  assert.equal(countTiedPairs([0, -0]), 1); // -0 and 0 are the same score
});

test("SummaryBuilder on hand-computed records", () => {
  const b = new SummaryBuilder();
  b.add({ query: "a", responses: ["x", "y"], scores: [1, 1] }, ["id"]);
  b.add({ query: "b", responses: ["x", "y", "z", "w"], scores: [4, 3, 2, 1] }, []);
  b.add({ query: "c", responses: ["x", "y", "z", "w"], scores: [4, 4, 1, 1] }, ["id", "src"]);
  assert.deepEqual(b.build(), {
    queries: 3,
    responses: 10,
    responses_per_query: { min: 2, mean: 10 / 3, max: 4, counts: { "2": 1, "4": 2 } },
    score_ties: { pairs: 13, tied_pairs: 3, queries_with_ties: 2, all_tied_queries: 1 },
    unknown_keys: { id: 2, src: 1 },
  });
  const empty = new SummaryBuilder().build();
  assert.equal(empty.responses_per_query.min, null);
  assert.equal(empty.responses_per_query.mean, null);
});

test("LengthHistogram nearest-rank percentiles", () => {
  const h = new LengthHistogram();
  assert.equal(h.percentile(50), null);
  for (let i = 1; i <= 100; i++) h.add(i);
  assert.equal(h.percentile(50), 50);
  assert.equal(h.percentile(90), 90);
  assert.equal(h.percentile(99), 99);
  assert.equal(h.percentile(100), 100);
  const g = new LengthHistogram();
  for (const x of [7, 1, 3, 3, 1000]) g.add(x);
  assert.deepEqual(g.summary(), { count: 5, p50: 3, p90: 1000, p99: 1000, max: 1000, mean: 202.8 });
});
