/**
 * The converters added with the input formats (ultrafeedback, chat-pairs,
 * ranked), `messages` records (schema and order rules), --skip-invalid, and
 * the conversion of every format sample.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { chatPairToRecord } from "../../src/data/convert/chat-pairs.js";
import { convertFile, recordToJsonLine, type ConvertFormat } from "../../src/data/convert/convert.js";
import { rankedToRecord, scoresFromRanks } from "../../src/data/convert/ranked.js";
import { ultrafeedbackToRecord } from "../../src/data/convert/ultrafeedback.js";
import { readAllRecords } from "../../src/data/reader.js";
import { checkRecord } from "../../src/data/schema.js";
import { DataError, UserError } from "../../src/errors.js";
import { fixture, tempDir } from "../helpers.js";

const at = { file: "f.jsonl", line: 3 };
const u = (content: string) => ({ role: "user", content });
const a = (content: string) => ({ role: "assistant", content });
const s = (content: string) => ({ role: "system", content });

/** Asserts `fn` throws a DataError with exactly `message`. */
function throwsData(fn: () => unknown, message: string): void {
  assert.throws(fn, (e: unknown) => e instanceof DataError && e.message === message);
}

function problemsOf(value: Record<string, unknown>): string[] {
  return checkRecord(value, "f.jsonl", 3).problems.map((p) => p.message);
}

test("a record may carry messages instead of query; roles and order are checked", () => {
  const ok = checkRecord({ messages: [s("Be brief."), u("Hi"), a("Hello"), u("Bye")], responses: ["a", "b"], scores: [1, 0] }, "f", 1);
  assert.deepEqual(ok.problems, []);
  assert.deepEqual(
    ok.record?.messages?.map((m) => m.role),
    ["system", "user", "assistant", "user"],
  );
  const base = { responses: ["a", "b"], scores: [1, 0] };
  assert.deepEqual(problemsOf({ ...base, messages: [u("Hi"), a("Hello"), s("late")] }), [
    'f.jsonl:3: messages[2].role: a system message may only come first, got "system" (turns alternate user, assistant, ...)',
  ]);
  assert.deepEqual(problemsOf({ ...base, messages: [u("Hi"), u("Hi again")] }), [
    'f.jsonl:3: messages[1].role: expected "assistant" here, got "user" (turns alternate user, assistant, ...)',
  ]);
  assert.deepEqual(problemsOf({ ...base, messages: [u("Hi"), a("Hello")] }), [
    'f.jsonl:3: messages[1].role: the last message must be a user turn (the responses answer it), got "assistant"',
  ]);
  assert.deepEqual(problemsOf({ ...base, messages: [{ role: "bot", content: "x" }, { role: "user" }] }), [
    'f.jsonl:3: messages[0].role: expected one of system, user, assistant, got string "bot"',
    "f.jsonl:3: messages[1].content: required field is missing",
  ]);
  assert.deepEqual(problemsOf({ ...base, messages: [u("")] }), ["f.jsonl:3: messages[0].content: must not be empty"]);
  assert.deepEqual(problemsOf({ ...base, messages: "Hi" }), [
    'f.jsonl:3: messages: expected an array of {role, content} messages, got string "Hi"',
  ]);
  assert.deepEqual(problemsOf({ ...base, messages: [] }), ["f.jsonl:3: messages: must not be empty"]);
  assert.deepEqual(problemsOf({ ...base, query: "Hi", messages: [u("Hi")] }), [
    "f.jsonl:3: messages: a record has query or messages, not both",
  ]);
  assert.deepEqual(problemsOf(base), ["f.jsonl:3: query: required field is missing (give query or messages)"]);
});

test("a messages record is written back as messages (never flattened into a query)", () => {
  const line = recordToJsonLine({ messages: [{ role: "user", content: "Hi" }], responses: ["a", "b"], scores: [1, 0] });
  assert.equal(line, '{"messages":[{"role":"user","content":"Hi"}],"responses":["a","b"],"scores":[1,0]}\n');
});

const completion = (response: string, overall: number | string, helpfulness: string) => ({
  response,
  overall_score: overall,
  "fine-grained_score": 3.5,
  annotations: { helpfulness: { Rating: helpfulness, Rationale: "r" } },
});

test("ultrafeedback: every completion with its overall_score, or the rating --score-field names; N/A ratings left out", () => {
  const row = { instruction: "Q", completions: [completion("x", 8, "5"), completion("y", "3.5", "N/A"), completion("z", 1, "2")] };
  assert.deepEqual(ultrafeedbackToRecord(row, at), { query: "Q", responses: ["x", "y", "z"], scores: [8, 3.5, 1] });
  assert.deepEqual(ultrafeedbackToRecord(row, at, "helpfulness"), { query: "Q", responses: ["x", "z"], scores: [5, 2] });
  assert.deepEqual(ultrafeedbackToRecord(row, at, "fine-grained_score").scores, [3.5, 3.5, 3.5]);
  throwsData(
    () => ultrafeedbackToRecord(row, at, "honesty"),
    'f.jsonl:3: completions[0]: no "honesty" rating (neither a key of the completion nor annotations.honesty.Rating)',
  );
  throwsData(
    () => ultrafeedbackToRecord({ instruction: "Q", completions: [completion("x", 8, "5"), completion("y", 2, "N/A")] }, at, "helpfulness"),
    "f.jsonl:3: completions: needs at least 2 completions rated by helpfulness, got 1 (of 2)",
  );
  throwsData(
    () => ultrafeedbackToRecord({ instruction: "Q", completions: [completion("x", "high", "5"), completion("y", 2, "1")] }, at),
    'f.jsonl:3: completions[0].overall_score: expected a numeric rating, got string "high"',
  );
  throwsData(() => ultrafeedbackToRecord({ completions: [] }, at), "f.jsonl:3: instruction: required field is missing");
});

test("ultrafeedback: the binarized form becomes a messages record scored with score_chosen and score_rejected", () => {
  const row = { prompt: "Q", chosen: [u("Q"), a("good")], rejected: [u("Q"), a("bad")], score_chosen: 8, score_rejected: 4.5 };
  assert.deepEqual(ultrafeedbackToRecord(row, at), { messages: [u("Q")], responses: ["good", "bad"], scores: [8, 4.5] });
  throwsData(
    () => ultrafeedbackToRecord({ ...row, score_rejected: undefined }, at),
    "f.jsonl:3: score_rejected: required score is missing",
  );
});

test("chat-pairs: the shared turns before the last assistant turn become messages; answers scored 1 and 0", () => {
  const row = { chosen: [s("S"), u("Hi"), a("Hello")], rejected: [s("S"), u("Hi"), a("Go away")] };
  assert.deepEqual(chatPairToRecord(row, at), { messages: [s("S"), u("Hi")], responses: ["Hello", "Go away"], scores: [1, 0] });
  const shareGpt = {
    chosen: [
      { from: "human", value: "Hi" },
      { from: "gpt", value: "A" },
    ],
    rejected: [
      { from: "human", value: "Hi" },
      { from: "gpt", value: "B" },
    ],
  };
  assert.deepEqual(chatPairToRecord(shareGpt, at), { messages: [u("Hi")], responses: ["A", "B"], scores: [1, 0] });
  throwsData(
    () => chatPairToRecord({ chosen: [u("Hi"), a("A")], rejected: [u("Hey"), a("B")] }, at),
    "f.jsonl:3: rejected[0]: the conversation before the last assistant turn differs from chosen's",
  );
  throwsData(
    () => chatPairToRecord({ chosen: [u("Hi"), a("A"), u("more")], rejected: [u("Hi"), a("B")] }, at),
    'f.jsonl:3: chosen[2].role: the last message must be the assistant\'s answer, got string "user"',
  );
  throwsData(
    () => chatPairToRecord({ chosen: [a("A0"), a("A")], rejected: [a("A0"), a("B")] }, at),
    'f.jsonl:3: chosen[0].role: expected "system" or "user" here, got "assistant" (turns alternate user, assistant, ...)',
  );
  throwsData(() => chatPairToRecord({ chosen: [u("Hi"), a("A")] }, at), "f.jsonl:3: rejected: required field is missing");
});

test("ranked: score = k - rank (1 = best gets k-1), ties equal; ranks outside 1..k are errors", () => {
  assert.deepEqual(scoresFromRanks([3, 1, 2]), [0, 2, 1]);
  assert.deepEqual(scoresFromRanks([1, 1, 3]), [2, 2, 0]);
  assert.deepEqual(rankedToRecord({ prompt: "Q", responses: ["a", "b"], ranks: [2, 1] }, at), {
    query: "Q",
    responses: ["a", "b"],
    scores: [0, 1],
  });
  assert.deepEqual(rankedToRecord({ prompt: [u("Q")], responses: ["a", "b"], ranks: [1, 2] }, at).messages, [u("Q")]);
  throwsData(
    () => rankedToRecord({ prompt: "Q", responses: ["a", "b"], ranks: [1, 3] }, at),
    "f.jsonl:3: ranks[1]: expected an integer rank from 1 (best) to 2, got number 3",
  );
  throwsData(
    () => rankedToRecord({ prompt: "Q", responses: ["a", "b"], ranks: [1] }, at),
    "f.jsonl:3: ranks: has 1 entries but responses has 2",
  );
  throwsData(() => rankedToRecord({ prompt: "Q", responses: ["a", ""], ranks: [1, 2] }, at), "f.jsonl:3: responses[1]: must not be empty");
});

test("convert --skip-invalid: bad rows counted and the first few reported with their lines; strict by default", async () => {
  const input = fixture("formats", "pairs-some-invalid.jsonl");
  const out = join(tempDir(), "o.jsonl");
  await assert.rejects(convertFile("pairs", input, out), (e: unknown) => e instanceof DataError && e.line === 2 && e.field === "rejected");
  const result = await convertFile("pairs", input, out, { skipInvalid: true });
  assert.equal(result.records, 3);
  assert.equal(result.skipped, 3);
  assert.deepEqual(
    result.skippedErrors.map((e) => [e.line, e.field]),
    [
      [2, "rejected"],
      [4, "prompt"],
      [6, "-"],
    ],
  );
  assert.equal(readFileSync(out, "utf8").split("\n").length, 4);
  // A file with no good row at all is still an error, even when skipping.
  await assert.rejects(convertFile("hh", input, join(tempDir(), "h.jsonl"), { skipInvalid: true }), (e: unknown) => {
    assert.ok(e instanceof UserError);
    assert.match(
      e.message,
      /pairs-some-invalid\.jsonl: no valid rows \(6 skipped; the first: .*:1: chosen: no "\\n\\nAssistant:" in the transcript\)$/,
    );
    return true;
  });
});

/** Each sample, its converter and the records it must give (count, first record's prompt kind). */
const SAMPLES: [ConvertFormat, string, number, "query" | "messages"][] = [
  ["pairs", "pairs.jsonl.gz", 3, "query"],
  ["pairs", "pairs.parquet", 3, "query"],
  ["hh", "hh.jsonl.gz", 2, "query"],
  ["hh", "hh.parquet", 2, "query"],
  ["ultrafeedback", "ultrafeedback.parquet", 3, "query"],
  ["ultrafeedback", "ultrafeedback-binarized.parquet", 2, "messages"],
  ["chat-pairs", "chat-pairs.jsonl", 3, "messages"],
  ["chat-pairs", "chat-pairs.parquet", 2, "messages"],
  ["ranked", "ranked.jsonl", 2, "query"],
  ["ranked", "ranked.jsonl.gz", 2, "query"],
  ["ranked", "ranked.parquet", 2, "query"],
];

test("every format sample converts to records the reader accepts", async () => {
  for (const [from, name, count, kind] of SAMPLES) {
    const out = join(tempDir(), "o.jsonl");
    const { records } = await convertFile(from, fixture("formats", name), out);
    assert.equal(records, count, name);
    const read = await readAllRecords(out);
    assert.equal(read.length, count, name);
    assert.ok(read[0][kind] !== undefined, `${name}: ${kind}`);
  }
  // The same data in every container converts to the same records.
  const outs = await Promise.all(
    ["ranked.jsonl", "ranked.jsonl.gz", "ranked.parquet"].map(async (name) => {
      const out = join(tempDir(), "o.jsonl");
      await convertFile("ranked", fixture("formats", name), out);
      return readFileSync(out, "utf8");
    }),
  );
  assert.equal(outs[1], outs[0]);
  assert.equal(outs[2], outs[0]);
});
