import assert from "node:assert/strict";
import { test } from "node:test";
import { UserError } from "../../src/errors.js";
import {
  buildQueryBatch,
  checkQueryBatch,
  IGNORE_INDEX,
  paddedRows,
  queryLength,
  responseLength,
  rowLength,
  selectRows,
  type QueryBatch,
} from "../../src/tokenize/batch.js";
import { collate } from "../../src/tokenize/collate.js";
import { encodeRecord } from "../../src/tokenize/encode.js";
import { checkSameK, selectBatchRows, selectResponses } from "../../src/tokenize/select.js";
import { G, L, gpt2, llama, withConfig, GPT2_DIR } from "./tokenizers.js";

const X = IGNORE_INDEX;
const REC_A = { query: "Hello", responses: [" world!", " there"], scores: [1, 0] };
const REC_B = { query: "The cat sat on the mat", responses: [" Hello"], scores: [0.5] };

/** Per-row values of a batch. */
const perRow = (b: QueryBatch, f: (b: QueryBatch, i: number) => number): number[] => Array.from({ length: b.rows }, (_, i) => f(b, i));

test("paper mode, GPT-2: exact ids, HF-style labels, mask from lengths although pad == EOS", async () => {
  const tok = await gpt2();
  const b = collate([encodeRecord(tok, REC_A)], { padTokenId: tok.special.pad_token_id });
  assert.equal(b.compat, "paper");
  assert.deepEqual([b.rows, b.paddedLength, b.queries], [2, 4, 1]);
  // The grouped form: the query once, the responses (with EOS) back to back with their offsets.
  assert.deepEqual([...b.queryIds], [G.Hello]);
  assert.deepEqual([...b.responseIds], [G._world, G.bang, G.eot, G._there, G.eot]);
  assert.deepEqual([...b.responseTokenStart], [0, 3, 5]);
  const p = paddedRows(b);
  assert.equal(p.seqLen, 4);
  assert.deepEqual([...p.input_ids], [G.Hello, G._world, G.bang, G.eot, G.Hello, G._there, G.eot, G.eot]);
  assert.deepEqual([...p.labels], [X, G._world, G.bang, G.eot, X, G._there, G.eot, X]);
  assert.deepEqual([...p.attention_mask], [1, 1, 1, 1, 1, 1, 1, 0]); // the EOS at row 1, t=2 is attended
  assert.deepEqual(perRow(b, rowLength), [4, 3]);
  assert.deepEqual([...b.scores], [1, 0]);
  assert.deepEqual(perRow(b, responseLength), [3, 2]);
});

test("official mode, GPT-2: mask = input_ids != pad, so an EOS equal to the pad is masked out", async () => {
  const tok = await gpt2();
  const b = paddedRows(collate([encodeRecord(tok, REC_A, { compat: "official" })], { padTokenId: tok.special.pad_token_id }));
  assert.deepEqual([...b.input_ids], [G.Hello, G._world, G.bang, G.eot, G.Hello, G._there, G.eot, G.eot]);
  assert.deepEqual([...b.labels], [X, G._world, G.bang, G.eot, X, G._there, G.eot, X]);
  assert.deepEqual([...b.attention_mask], [1, 1, 1, 0, 1, 1, 0, 0]);
});

test("official mode with a pad distinct from EOS masks only the padding", () => {
  const tok = withConfig(GPT2_DIR, { eos_token: "<|endoftext|>", pad_token: "!" });
  const b = paddedRows(
    collate([encodeRecord(tok, { query: "Hello", responses: [" world", " there world"], scores: [1, 0] }, { compat: "official" })], {
      padTokenId: tok.special.pad_token_id,
    }),
  );
  assert.deepEqual([...b.input_ids], [G.Hello, G._world, G.eot, G.bang, G.Hello, G._there, G._world, G.eot]);
  assert.deepEqual([...b.attention_mask], [1, 1, 1, 0, 1, 1, 1, 1]);
});

test("Llama-family rows: paper mode vs official mode (repeated BOS, masked EOS)", async () => {
  const tok = await llama();
  const rec = { query: "Hello", responses: ["world"], scores: [0] };
  const pad = { padTokenId: tok.special.pad_token_id };
  const paper = paddedRows(collate([encodeRecord(tok, rec)], pad));
  assert.deepEqual([...paper.input_ids], [L.bos, L._Hello, L._world, L.eos]);
  assert.deepEqual([...paper.labels], [X, X, L._world, L.eos]);
  assert.deepEqual([...paper.attention_mask], [1, 1, 1, 1]);
  const official = paddedRows(collate([encodeRecord(tok, rec, { compat: "official" })], pad));
  assert.deepEqual([...official.input_ids], [L.bos, L._Hello, L.bos, L._world, L.eos]);
  assert.deepEqual([...official.labels], [X, X, L.bos, L._world, L.eos]);
  assert.deepEqual([...official.attention_mask], [1, 1, 1, 1, 0]);
});

test("several queries with different k in one batch: row maps, query lengths, response starts", async () => {
  const tok = await gpt2();
  const b = collate([encodeRecord(tok, REC_A), encodeRecord(tok, REC_B)], { padTokenId: G.eot });
  assert.deepEqual([b.rows, b.paddedLength, b.queries], [3, 8, 2]);
  assert.deepEqual([...b.rowQuery], [0, 0, 1]);
  assert.deepEqual([...b.queryRowStart], [0, 2, 3]);
  assert.deepEqual([queryLength(b, 0), queryLength(b, 1)], [1, 6]);
  assert.deepEqual([...b.queryIdStart], [0, 1, 7]);
  assert.deepEqual([...b.responseTokenStart], [0, 3, 5, 7]);
  assert.deepEqual(perRow(b, rowLength), [4, 3, 8]);
  assert.deepEqual([...b.scores], [1, 0, 0.5]);
  assert.deepEqual([...b.responseIndex], [0, 1, 0]);
  const p = paddedRows(b);
  const row = (a: Int32Array | Uint8Array, r: number): number[] => [...a.subarray(r * 8, (r + 1) * 8)];
  assert.deepEqual(row(p.input_ids, 2), [G.The, G._cat, G._sat, G._on, G._the, G._mat, G._Hello, G.eot]);
  assert.deepEqual(row(p.labels, 2), [X, X, X, X, X, X, G._Hello, G.eot]);
  assert.deepEqual(row(p.input_ids, 1), [G.Hello, G._there, G.eot, G.eot, G.eot, G.eot, G.eot, G.eot]);
  assert.deepEqual(row(p.attention_mask, 1), [1, 1, 1, 0, 0, 0, 0, 0]);
  assert.deepEqual(row(p.labels, 1), [X, G._there, G.eot, X, X, X, X, X]);
});

test("a query whose responses were all emptied has no rows but keeps its place", async () => {
  const tok = await gpt2();
  const emptied = encodeRecord(tok, REC_B, { maxLength: 6, maxQueryShare: 1 });
  const b = collate([emptied, encodeRecord(tok, REC_A)], { padTokenId: G.eot });
  assert.deepEqual([...b.queryRowStart], [0, 0, 2]);
  assert.deepEqual([...b.rowQuery], [1, 1]);
});

test("official mode takes one query per batch and the same k for every query", async () => {
  const tok = await gpt2();
  const e = encodeRecord(tok, REC_A, { compat: "official" });
  assert.throws(
    () => collate([e, e], { padTokenId: G.eot }),
    (err: unknown) => err instanceof UserError && /one query per batch/.test(err.message),
  );
  assert.throws(() => collate([e, encodeRecord(tok, REC_A)], { padTokenId: G.eot }), /different compat modes/);
  checkSameK([REC_A, REC_A]);
  assert.throws(
    () => checkSameK([REC_A, REC_B], (i) => `d.jsonl:${i + 1}`),
    /^UserError: d\.jsonl:2: has 1 responses but d\.jsonl:1 has 2/,
  );
});

test("selectResponses: only_use_provide keeps the last two, only_use_sample the rest", () => {
  const rec = { query: "q", responses: ["s1", "s2", "chosen", "rejected"], scores: [0.1, 0.2, 1, 0] };
  assert.deepEqual(selectResponses(rec, "only_use_provide"), { query: "q", responses: ["chosen", "rejected"], scores: [1, 0] });
  assert.deepEqual(selectResponses(rec, "only_use_sample"), { query: "q", responses: ["s1", "s2"], scores: [0.1, 0.2] });
  assert.deepEqual(selectResponses(rec, "all"), rec);
  assert.equal(rec.responses.length, 4); // input untouched
  assert.throws(
    () => selectResponses({ query: "q", responses: ["a", "b"], scores: [1, 0] }, "only_use_sample", "x:1"),
    /^UserError: x:1: only_use_sample/,
  );
});

test("selectBatchRows keeps the padded length of the full batch, as the official code does", async () => {
  const tok = await gpt2();
  const rec = { query: "Hello", responses: [" world! world", " there", " world"], scores: [0, 1, 2] };
  const full = collate([encodeRecord(tok, rec, { compat: "official" })], { padTokenId: G.eot });
  assert.equal(full.paddedLength, 5);
  const b = selectBatchRows(full, "only_use_provide");
  assert.deepEqual([b.rows, b.paddedLength], [2, 5]);
  assert.deepEqual([...paddedRows(b).input_ids], [G.Hello, G._there, G.eot, G.eot, G.eot, G.Hello, G._world, G.eot, G.eot, G.eot]);
  assert.deepEqual([...b.scores], [1, 2]);
  assert.deepEqual([...b.responseIndex], [1, 2]);
  assert.deepEqual([...b.queryRowStart], [0, 2]);
  const s = paddedRows(selectBatchRows(full, "only_use_sample"));
  assert.deepEqual([...s.labels], [X, G._world, G.bang, G._world, G.eot]);
  assert.deepEqual([...s.attention_mask], [1, 1, 1, 1, 0]);
});

test("buildQueryBatch: offsets once, empty continuations (generation), padded length at least the longest row", () => {
  const b = buildQueryBatch(
    [
      { queryIds: [5, 6, 7], responses: [{ ids: [] }, { ids: [] }] },
      { queryIds: [8], responses: [{ ids: [9, 0], score: 2, index: 4 }] },
    ],
    { padTokenId: 0, paddedLength: 6 },
  );
  assert.deepEqual([b.queries, b.rows, b.paddedLength], [2, 3, 6]);
  assert.deepEqual([...b.queryIdStart], [0, 3, 4]);
  assert.deepEqual([...b.queryRowStart], [0, 2, 3]);
  assert.deepEqual([...b.responseTokenStart], [0, 0, 0, 2]);
  assert.deepEqual([...b.rowQuery], [0, 0, 1]);
  assert.deepEqual([...b.responseIndex], [0, 1, 4]);
  assert.ok(Number.isNaN(b.scores[0]) && b.scores[2] === 2); // a continuation not scored yet has no reward
  assert.deepEqual([...paddedRows(b).input_ids], [5, 6, 7, 0, 0, 0, 5, 6, 7, 0, 0, 0, 8, 9, 0, 0, 0, 0]);
  assert.throws(
    () => buildQueryBatch([{ queryIds: [1, 2], responses: [{ ids: [3] }] }], { padTokenId: 0, paddedLength: 2 }),
    /shorter than the longest row \(3\)/,
  );
  checkQueryBatch(b, 10);
  assert.throws(() => checkQueryBatch(b, 9), /responseIds\[0\] = 9 is outside the vocabulary/);
  assert.throws(() => checkQueryBatch({ ...b, responseTokenStart: Int32Array.of(0, 0, 0, 3) }, 10), /does not end at responseIds.length/);
  assert.throws(() => checkQueryBatch({ ...b, rowQuery: Int32Array.of(0, 1, 1) }, 10), /rowQuery\[1\] is not 0/);
});

test("selectRows keeps queries and the padded length; a query may be left with no row", async () => {
  const tok = await gpt2();
  const b = collate([encodeRecord(tok, REC_A), encodeRecord(tok, REC_B)], { padTokenId: G.eot });
  const s = selectRows(b, [2]);
  assert.deepEqual([s.queries, s.rows, s.paddedLength], [2, 1, b.paddedLength]);
  assert.deepEqual([...s.queryRowStart], [0, 0, 1]);
  assert.deepEqual([...s.queryIds], [...b.queryIds]);
  assert.deepEqual([...s.responseIds], [G._Hello, G.eot]);
  assert.throws(() => selectRows(b, [1, 0]), /ascending/);
});
