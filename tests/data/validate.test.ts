import assert from "node:assert/strict";
import { test } from "node:test";
import { formatReportText, reportToJson } from "../../src/data/report-format.js";
import type { RrhfRecord } from "../../src/data/record.js";
import { TokenStatsBuilder, type RecordTokenMeasure } from "../../src/data/token-stats.js";
import { validateFile } from "../../src/data/validate.js";
import { fixture } from "../helpers.js";

/** A stand-in tokenizer: one token per character; a response of 'x' characters or more is emptied. */
function charMeasure(budget: number | null): RecordTokenMeasure {
  return {
    modelMaxLength: budget,
    measure(record: RrhfRecord) {
      const query = (record.query ?? "").length;
      const responses = record.responses.map((r) => r.length);
      if (budget === null) return { query, responses, queryTruncated: null, truncated: null, emptied: null };
      const room = Math.max(0, budget - query);
      return {
        query,
        responses,
        queryTruncated: false,
        truncated: responses.map((n) => room > 0 && n + 1 > room),
        emptied: responses.map(() => room === 0),
      };
    },
  };
}

test("validateFile summarises the hand-made file (library, no CLI)", async () => {
  const report = await validateFile(fixture("data", "known-stats.jsonl"), { displayName: "k" });
  assert.equal(report.valid, true);
  assert.equal(report.errorCount, 0);
  assert.equal(report.summary.queries, 4);
  assert.deepEqual(report.summary.score_ties, { pairs: 20, tied_pairs: 9, queries_with_ties: 3, all_tied_queries: 1 });
  assert.equal(report.tokens, null);
  assert.equal(reportToJson(report).error_count, 0);
  assert.match(formatReportText(report), /^k: valid\n/);
});

test("validateFile keeps the first maxErrors problems and counts all", async () => {
  const report = await validateFile(fixture("bad-data", "scores-length-mismatch.jsonl"), { displayName: "s", maxErrors: 0 });
  assert.equal(report.valid, false);
  assert.equal(report.errorCount, 1);
  assert.deepEqual(report.errors, []);
  assert.equal(report.summary.queries, 2); // the two good lines before the bad one
});

test("token stats: percentiles, truncation counts, and strict mode makes emptied responses errors", async () => {
  // known-stats queries are "q1".."q4" (2 chars); responses are one character each.
  const lengthsOnly = await validateFile(fixture("data", "known-stats.jsonl"), { tokens: charMeasure(null) });
  assert.deepEqual(lengthsOnly.tokens, {
    query: { count: 4, p50: 2, p90: 2, p99: 2, max: 2, mean: 2 },
    response: { count: 14, p50: 1, p90: 1, p99: 1, max: 1, mean: 1 },
    truncation: null,
  });
  const tight = await validateFile(fixture("data", "known-stats.jsonl"), { displayName: "k", tokens: charMeasure(2) });
  assert.equal(tight.valid, true); // emptied responses are counted, not errors, unless strict
  assert.deepEqual(tight.tokens?.truncation, {
    model_max_length: 2,
    truncated_queries: 0,
    truncated_responses: 0,
    emptied_responses: 14,
    queries_with_truncation: 4,
  });
  const strict = await validateFile(fixture("data", "known-stats.jsonl"), {
    displayName: "k",
    tokens: charMeasure(2),
    strict: true,
  });
  assert.equal(strict.valid, false);
  // Strict: the 2 lines with unknown keys are invalid and not measured; the other two
  // records have 2 + 4 emptied responses, and the second of them is all tied: 2 + 6 + 1.
  assert.equal(strict.errorCount, 9);
  assert.equal(strict.errors[0].message, "k:1: responses[0]: emptied by truncation to 2 tokens (strict mode)");
});

test("TokenStatsBuilder counts truncated (not emptied) responses and queries with any cut", () => {
  const b = new TokenStatsBuilder(charMeasure(4));
  // query 2 chars, room 2: "a" + EOS fits; "bc" + EOS is cut; "def" + EOS is cut.
  assert.deepEqual(b.add({ query: "qq", responses: ["a", "bc", "def"], scores: [3, 2, 1] }), []);
  assert.deepEqual(b.add({ query: "qqqq", responses: ["a", "b"], scores: [1, 0] }), [0, 1]);
  const s = b.build();
  assert.equal(s.truncation?.truncated_responses, 2);
  assert.equal(s.truncation?.emptied_responses, 2);
  assert.equal(s.truncation?.queries_with_truncation, 2);
  assert.equal(s.response.max, 3);
});
