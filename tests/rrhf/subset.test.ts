import assert from "node:assert/strict";
import { test } from "node:test";
import { UserError } from "../../src/errors.js";
import { gatherRows, selectResponseRows } from "../../src/rrhf/subset.js";

// Query 4 has rows 0..3, query 1 has rows 4..6.
const rowQuery = Int32Array.from([4, 4, 4, 4, 1, 1, 1]);

test("only_use_provide keeps the last two rows of each query", () => {
  assert.deepEqual(Array.from(selectResponseRows(rowQuery, "provide")), [2, 3, 5, 6]);
});

test("only_use_sample keeps all but the last two rows of each query", () => {
  assert.deepEqual(Array.from(selectResponseRows(rowQuery, "sample")), [0, 1, 4]);
});

test("'all' keeps every row", () => {
  assert.deepEqual(Array.from(selectResponseRows(rowQuery, "all")), [0, 1, 2, 3, 4, 5, 6]);
});

test("a query with too few rows is a clear user error naming the query", () => {
  const short = Int32Array.from([0, 0, 0, 3, 3]);
  assert.throws(
    () => selectResponseRows(short, "sample"),
    (e: unknown) => e instanceof UserError && /only_use_sample: query 3 has 2 response\(s\); it needs at least 3/.test(e.message),
  );
  const single = Int32Array.from([0, 0, 5]);
  assert.throws(
    () => selectResponseRows(single, "provide"),
    (e: unknown) => e instanceof UserError && /only_use_provide: query 5 has 1 response\(s\)/.test(e.message),
  );
});

test("gatherRows copies the selected rows of any [rows, width] typed array", () => {
  const ids = Int32Array.from([10, 11, 12, 20, 21, 22, 30, 31, 32]); // [3, 3]
  const keep = Int32Array.from([2, 0]);
  const out = gatherRows(ids, 3, keep);
  assert.ok(out instanceof Int32Array);
  assert.deepEqual(Array.from(out), [30, 31, 32, 10, 11, 12]);
  const mask = gatherRows(Uint8Array.from([1, 0, 1]), 1, Int32Array.from([1]));
  assert.ok(mask instanceof Uint8Array);
  assert.deepEqual(Array.from(mask), [0]);
  assert.throws(() => gatherRows(ids, 3, Int32Array.from([3])), /row 3 is outside 0\.\.2/);
  assert.throws(() => gatherRows(ids, 4, keep), /do not split into rows of 4/);
});
