import assert from "node:assert/strict";
import { test } from "node:test";
import { encodeRecord } from "../../src/tokenize/encode.js";
import { hfTruncateRight } from "../../src/tokenize/official.js";
import { G, L, gpt2, llama } from "./tokenizers.js";

const CAT = [G.The, G._cat, G._sat, G._on, G._the, G._mat]; // "The cat sat on the mat"

test("official mode, GPT-2: response text + EOS text, encoded with special tokens (none for GPT-2)", async () => {
  const tok = await gpt2();
  const e = encodeRecord(tok, { query: "Hello", responses: [" world!", " there"], scores: [1, 0] }, { compat: "official" });
  assert.equal(e.compat, "official");
  assert.deepEqual(e.query_ids, [G.Hello]);
  assert.deepEqual(
    e.responses.map((r) => r.response_ids),
    [
      [G._world, G.bang, G.eot],
      [G._there, G.eot],
    ],
  );
});

test("official mode, Llama-family: the BOS appears again at the start of every response", async () => {
  const tok = await llama();
  const e = encodeRecord(tok, { query: "Hello", responses: ["world", "Hello world"], scores: [1, 0] }, { compat: "official" });
  assert.deepEqual(e.query_ids, [L.bos, L._Hello]);
  assert.deepEqual(
    e.responses.map((r) => r.response_ids),
    [
      [L.bos, L._world, L.eos],
      [L.bos, L._Hello, L._world, L.eos],
    ],
  );
});

test("official truncation: the query is cut from the right, then the response to what is left (EOS lost)", async () => {
  const tok = await gpt2();
  const rec = { query: "The cat sat on the mat", responses: [" Hello world"], scores: [0] };
  const e8 = encodeRecord(tok, rec, { compat: "official", maxLength: 8 });
  assert.deepEqual(e8.query_ids, CAT);
  assert.deepEqual(e8.responses[0].response_ids, [G._Hello, G._world]);
  assert.deepEqual([e8.report.queriesCut, e8.report.responsesCut, e8.report.overLength], [0, 1, 0]);
  // Budget 4: the query keeps its START (unlike paper mode); no room is left, which HF
  // reads as max_length=0 = "no limit", so the response stays whole and the row is too long.
  const e4 = encodeRecord(tok, rec, { compat: "official", maxLength: 4 });
  assert.deepEqual(e4.query_ids, CAT.slice(0, 4));
  assert.deepEqual(e4.responses[0].response_ids, [G._Hello, G._world, G.eot]);
  assert.deepEqual([e4.report.queriesCut, e4.report.responsesCut, e4.report.overLength], [1, 0, 1]);
});

test("official truncation keeps special tokens and refuses to cut a whole text, as HF does", async () => {
  const tok = await llama();
  const rec = { query: "Hello world", responses: ["Hello world"], scores: [0] };
  // Query [<s>, Hello, world] (3); response [<s>] + [Hello, world, </s>].
  const e5 = encodeRecord(tok, rec, { compat: "official", maxLength: 5 });
  assert.deepEqual(e5.responses[0].response_ids, [L.bos, L._Hello]);
  const e4 = encodeRecord(tok, rec, { compat: "official", maxLength: 4 }); // room 1 = just the BOS: HF leaves it uncut
  assert.deepEqual(e4.responses[0].response_ids, [L.bos, L._Hello, L._world, L.eos]);
  assert.equal(e4.report.overLength, 1);
});

test("hfTruncateRight on plain parts", () => {
  const parts = { prefix: [9], body: [1, 2, 3], suffix: [8] };
  assert.deepEqual(hfTruncateRight(parts, null), { ids: [9, 1, 2, 3, 8], cut: false });
  assert.deepEqual(hfTruncateRight(parts, 5), { ids: [9, 1, 2, 3, 8], cut: false });
  assert.deepEqual(hfTruncateRight(parts, 4), { ids: [9, 1, 2, 8], cut: true });
  assert.deepEqual(hfTruncateRight(parts, 3), { ids: [9, 1, 8], cut: true });
  assert.deepEqual(hfTruncateRight(parts, 2), { ids: [9, 1, 2, 3, 8], cut: false }); // would remove the whole body
  assert.deepEqual(hfTruncateRight(parts, 0), { ids: [9, 1, 2, 3, 8], cut: false }); // 0 = no limit in HF
  assert.deepEqual(hfTruncateRight(parts, -1), { ids: [9, 1, 2, 3, 8], cut: false });
});
