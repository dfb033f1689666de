import assert from "node:assert/strict";
import { test } from "node:test";
import { truncateRecord } from "../../src/tokenize/truncate.js";

const EOS = 0;

test("no budget, or a row within it: nothing is cut and every response ends with EOS", () => {
  const q = { prefix: [7], body: [1, 2], suffix: [] };
  for (const max of [null, 6]) {
    assert.deepEqual(truncateRecord(q, [[5, 6], [8]], EOS, max, 0.5), {
      query_ids: [7, 1, 2],
      queryCut: false,
      responses: [
        { response_ids: [5, 6, EOS], cut: false },
        { response_ids: [8, EOS], cut: false },
      ],
    });
  }
});

test("the query is cut once, for the longest response, keeping its special tokens at both ends", () => {
  const q = { prefix: [7], body: [1, 2, 3, 4, 5], suffix: [9] }; // 7 tokens
  // Longest row 7 + 3 = 10, budget 8, share 4: cut 2 text tokens from the left.
  const t = truncateRecord(q, [[5, 6], [8]], EOS, 8, 0.5);
  assert.deepEqual(t.query_ids, [7, 3, 4, 5, 9]);
  assert.equal(t.queryCut, true);
  assert.deepEqual(t.responses, [
    { response_ids: [5, 6, EOS], cut: false },
    { response_ids: [8, EOS], cut: false },
  ]);
  // Budget 5, share 2: the query can only shrink to its 2 special tokens; room 3.
  const u = truncateRecord(q, [[5, 6, 8, 8]], EOS, 5, 0.5);
  assert.deepEqual(u.query_ids, [7, 9]);
  assert.deepEqual(u.responses, [{ response_ids: [5, 6, 8], cut: true }]);
});

test("a response exactly filling the room keeps its tokens but not the EOS", () => {
  const t = truncateRecord({ prefix: [], body: [1], suffix: [] }, [[5, 6]], EOS, 3, 0.5);
  assert.deepEqual(t.responses, [{ response_ids: [5, 6], cut: true }]);
});
