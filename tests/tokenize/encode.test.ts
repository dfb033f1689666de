import assert from "node:assert/strict";
import { test } from "node:test";
import { UserError } from "../../src/errors.js";
import { encodeRecord, encodeRecords } from "../../src/tokenize/encode.js";
import { formatTruncationReport } from "../../src/tokenize/report.js";
import { G, L, gpt2, llama } from "./tokenizers.js";

const CAT = [G.The, G._cat, G._sat, G._on, G._the, G._mat]; // "The cat sat on the mat"

test("paper mode, GPT-2: query with its (no) special tokens, response without, then EOS", async () => {
  const tok = await gpt2();
  const enc = encodeRecord(tok, { query: "Hello", responses: [" world!", " there"], scores: [1, 0] });
  assert.equal(enc.compat, "paper");
  assert.deepEqual(enc.query_ids, [G.Hello]);
  assert.deepEqual(
    enc.responses.map((r) => [r.response_ids, r.score, r.responseIndex, r.cut]),
    [
      [[G._world, G.bang, G.eot], 1, 0, false],
      [[G._there, G.eot], 0, 1, false],
    ],
  );
  assert.deepEqual([enc.report.queriesCut, enc.report.responsesCut, enc.report.responsesEmptied], [0, 0, 0]);
});

test("paper mode, Llama-family: BOS on the query only, none at the response's start", async () => {
  const tok = await llama();
  const enc = encodeRecord(tok, { query: "Hello", responses: ["world"], scores: [0] });
  assert.deepEqual(enc.query_ids, [L.bos, L._Hello]);
  assert.deepEqual(enc.responses[0].response_ids, [L._world, L.eos]);
});

test("truncation cuts the query from the left only as much as needed", async () => {
  const tok = await gpt2();
  const rec = { query: "The cat sat on the mat", responses: [" Hello world"], scores: [0] };
  // 6 + 2 + EOS = 9 tokens; budget 8 → drop one query token from the left.
  const e8 = encodeRecord(tok, rec, { maxLength: 8 });
  assert.deepEqual(e8.query_ids, CAT.slice(1));
  assert.deepEqual(e8.responses[0].response_ids, [G._Hello, G._world, G.eot]);
  assert.equal(e8.report.queriesCut, 1);
  assert.equal(e8.report.responsesCut, 0);
  // Budget 6: the query may go down to its share, 3 tokens: "on the mat".
  const e6 = encodeRecord(tok, rec, { maxLength: 6 });
  assert.deepEqual(e6.query_ids, [G._on, G._the, G._mat]);
  assert.deepEqual(e6.responses[0].response_ids, [G._Hello, G._world, G.eot]);
});

test("after the query reaches its share, the response is cut from the right and loses its EOS", async () => {
  const tok = await gpt2();
  const rec = { query: "The cat sat on the mat", responses: [" Hello world", " there"], scores: [1, 0] };
  const e = encodeRecord(tok, rec, { maxLength: 4 }); // share floor(4 * 0.5) = 2
  assert.deepEqual(e.query_ids, [G._the, G._mat]);
  assert.deepEqual(e.responses[0].response_ids, [G._Hello, G._world]); // cut: no EOS
  assert.equal(e.responses[0].cut, true);
  assert.deepEqual(e.responses[1].response_ids, [G._there, G.eot]); // fits: keeps EOS
  assert.equal(e.responses[1].cut, false);
  assert.deepEqual([e.report.queriesCut, e.report.responsesCut, e.report.responsesEmptied], [1, 1, 0]);
});

test("a query shorter than its share is never cut; the response is cut instead", async () => {
  const tok = await gpt2();
  const e = encodeRecord(tok, { query: "Hello", responses: ["The cat sat on the mat"], scores: [0] }, { maxLength: 5 });
  assert.deepEqual(e.query_ids, [G.Hello]);
  assert.deepEqual(e.responses[0].response_ids, CAT.slice(0, 4));
  assert.equal(e.report.queriesCut, 0);
});

test("maxQueryShare changes how far the query may be cut", async () => {
  const tok = await gpt2();
  const rec = { query: "The cat sat on the mat", responses: [" Hello world"], scores: [0] };
  const e = encodeRecord(tok, rec, { maxLength: 6, maxQueryShare: 0.84 }); // share floor(5.04) = 5: cut one token only
  assert.deepEqual(e.query_ids, CAT.slice(1));
  assert.deepEqual(e.responses[0].response_ids, [G._Hello]);
  assert.throws(() => encodeRecord(tok, rec, { maxQueryShare: 1.5 }), /maxQueryShare must be from 0 to 1, got 1.5/);
  assert.throws(() => encodeRecord(tok, rec, { maxLength: 0 }), /maxLength must be a positive integer/);
});

test("Llama-family truncation keeps the BOS while cutting the query from the left", async () => {
  const tok = await llama();
  const e = encodeRecord(tok, { query: "Hello world", responses: ["Hello"], scores: [0] }, { maxLength: 4 });
  assert.deepEqual(e.query_ids, [L.bos, L._world]);
  assert.deepEqual(e.responses[0].response_ids, [L._Hello, L.eos]);
});

test("emptied responses are dropped and counted; strict mode makes them a UserError naming the record", async () => {
  const tok = await gpt2();
  const rec = { query: "The cat sat on the mat", responses: [" Hello", " there"], scores: [1, 0] };
  const opts = { maxLength: 6, maxQueryShare: 1, name: "train.jsonl:7" };
  const e = encodeRecord(tok, rec, opts);
  assert.deepEqual(e.query_ids, CAT);
  assert.equal(e.responses.length, 0);
  assert.equal(e.report.responsesEmptied, 2);
  assert.deepEqual(e.report.emptiedIn, ["train.jsonl:7"]);
  assert.match(formatTruncationReport(e.report, 6) ?? "", /2 responses emptied and dropped; emptied in: train\.jsonl:7/);
  assert.throws(
    () => encodeRecord(tok, rec, { ...opts, strict: true }),
    (err: unknown) => {
      assert.ok(err instanceof UserError);
      assert.match(err.message, /^train\.jsonl:7: responses\[0\] keeps no tokens after truncation to 6 tokens/);
      return true;
    },
  );
  // Strict mode does not object to cuts that keep tokens.
  const cut = encodeRecord(tok, rec, { maxLength: 4, strict: true });
  assert.equal(cut.report.queriesCut, 1);
});

test("a record whose responses and scores differ in length is a UserError", async () => {
  const tok = await gpt2();
  assert.throws(
    () => encodeRecord(tok, { query: "q", responses: ["a", "b"], scores: [1] }, { name: "x:3" }),
    /^UserError: x:3: 2 responses but 1 scores$/,
  );
});

test("encodeRecords sums the reports and names records", async () => {
  const tok = await gpt2();
  const recs = [
    { query: "The cat sat on the mat", responses: [" Hello world"], scores: [0] },
    { query: "Hello", responses: [" world"], scores: [0] },
  ];
  const { encoded, report } = encodeRecords(tok, recs, { maxLength: 4, maxQueryShare: 1 }, (i) => `d.jsonl:${i + 1}`);
  assert.equal(encoded.length, 2);
  assert.deepEqual(
    [report.records, report.responses, report.queriesCut, report.responsesCut, report.responsesEmptied, report.emptiedIn],
    [2, 2, 1, 0, 1, ["d.jsonl:1"]], // record 1: query cut to the whole budget (share 1), response emptied
  );
  assert.equal(formatTruncationReport(encodeRecords(tok, [recs[1]]).report, 1024), null);
});

test("an HH record over a 40-token budget keeps the end of the query and the short answer whole", async () => {
  const tok = await gpt2();
  const rec = {
    query: " \n\nHuman: What is the correct order to add ingredients when making a taco?\n\nAssistant:",
    responses: [
      " The correct order to add ingredients when making a taco is to start with the tortilla, then add the meat or vegetable filling.",
      " Which kind of taco?",
    ],
    scores: [-1.03515625, -2.400390625],
  };
  const full = encodeRecord(tok, rec);
  assert.ok(full.query_ids.length > 20);
  const e = encodeRecord(tok, rec, { maxLength: 40 });
  assert.equal(e.query_ids.length, 20); // cut down to its share
  assert.deepEqual(e.query_ids, full.query_ids.slice(full.query_ids.length - 20));
  assert.ok(tok.decode(e.query_ids).endsWith(" making a taco?\n\nAssistant:"));
  assert.equal(e.responses[0].response_ids.length, 20);
  assert.equal(e.responses[0].cut, true);
  assert.notEqual(e.responses[0].response_ids.at(-1), G.eot);
  assert.equal(e.responses[1].response_ids.at(-1), G.eot);
  assert.equal(tok.decode(e.responses[1].response_ids), " Which kind of taco?<|endoftext|>");
  assert.deepEqual([e.report.queriesCut, e.report.responsesCut, e.report.responsesEmptied], [1, 1, 0]);
});

test("untruncated lengths are reported before any cut: query with special tokens, responses without EOS", async () => {
  const tok = await gpt2();
  const record = { query: "The cat sat on the mat", responses: [" world!", " there"], scores: [1, 0] };
  const full = encodeRecord(tok, record, { maxLength: null });
  // " world!" is two tokens (" world", "!"), " there" one.
  assert.deepEqual(full.untruncated, { query: CAT.length, responses: [2, 1] });
  const cut = encodeRecord(tok, record, { maxLength: 4 });
  assert.ok(cut.report.queriesCut === 1 && cut.query_ids.length < CAT.length, "the budget cut the query");
  assert.deepEqual(cut.untruncated, full.untruncated);
  const llamaTok = await llama();
  const official = encodeRecord(llamaTok, { query: "Hello", responses: [" world"], scores: [1] }, { compat: "official", maxLength: null });
  // Official mode encodes "response + </s>" with special tokens: BOS + body + EOS; the EOS is not counted.
  assert.equal(official.untruncated.responses[0], official.responses[0].response_ids.length - 1);
});
