#!/usr/bin/env node
/**
 * Writes the small input-format samples under tests/fixtures/formats/ (or the
 * folder given as the first argument): one file per converter input shape and
 * per container (JSONL, .jsonl.gz, Parquet), RRHF records in each container,
 * a Parquet file with several row groups, a truncated .gz, and a JSONL file
 * with some invalid rows. Deterministic: running it again gives the same bytes
 * (tests/data/formats.test.ts checks that the committed files are its output).
 *
 * Texts are short ASCII so that the gpt2-tiny fixture's character tokenizer
 * (64-token budget) can train on every converted sample.
 *
 * Usage: node scripts/make-format-samples.mjs [out-dir]
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { parquetWriteBuffer } from "hyparquet-writer";

const out = process.argv[2] ?? "tests/fixtures/formats";
mkdirSync(out, { recursive: true });

const jsonl = (rows) => rows.map((r) => `${JSON.stringify(r)}\n`).join("");
const write = (name, data) => writeFileSync(join(out, name), data);
const gzip = (text) => gzipSync(Buffer.from(text, "utf8"), { level: 9 });

// Parquet schema pieces: the 3-level LIST layout pyarrow and the Hub write.
const str = (name, repetition = "OPTIONAL") => ({ name, type: "BYTE_ARRAY", converted_type: "UTF8", repetition_type: repetition });
const num = (name) => ({ name, type: "DOUBLE", repetition_type: "OPTIONAL" });
const int64 = (name) => ({ name, type: "INT64", repetition_type: "OPTIONAL" });
const list = (name, element) => [
  { name, repetition_type: "OPTIONAL", converted_type: "LIST", num_children: 1 },
  { name: "list", repetition_type: "REPEATED", num_children: 1 },
  ...element("element"),
];
const struct = (fields) => (name) => [{ name, repetition_type: "OPTIONAL", num_children: fields.length }, ...fields.flat()];
const messageList = (name) => list(name, struct([[str("role")], [str("content")]]));

/** A Parquet file of `rows` with an explicit `schema` (columns in schema order), `rowGroupSize` rows per group. */
function parquet(name, columns, rows, rowGroupSize = rows.length) {
  const schema = [{ name: "root", num_children: columns.length }, ...columns.flatMap((c) => c.schema)];
  const columnData = columns.map((c) => ({ name: c.name, data: rows.map((r) => c.value(r)) }));
  write(name, Buffer.from(parquetWriteBuffer({ columnData, schema, rowGroupSize, codec: "SNAPPY" })));
}

const col = (name, schema, value = (r) => r[name] ?? null) => ({ name, schema: Array.isArray(schema) ? schema : [schema], value });

// --- pairs ---------------------------------------------------------------
const pairs = [
  { prompt: "Name a fruit.", chosen: " An apple.", rejected: " A chair." },
  { prompt: "Is the sky blue?", chosen: " Yes, on a clear day.", rejected: " No." },
  { prompt: "Say hi.", chosen: " Hi!", rejected: " Go away." },
];
write("pairs.jsonl.gz", gzip(jsonl(pairs)));
parquet("pairs.parquet", [col("prompt", str("prompt")), col("chosen", str("chosen")), col("rejected", str("rejected"))], pairs);

// --- hh (Anthropic HH-RLHF ships as .jsonl.gz) ------------------------------
const hh = [
  { chosen: "\n\nHuman: Hi!\n\nAssistant: Hello, how can I help?", rejected: "\n\nHuman: Hi!\n\nAssistant: Go away." },
  {
    chosen: "\n\nHuman: Name a color.\n\nAssistant: Blue?\n\nHuman: Another.\n\nAssistant: Red.",
    rejected: "\n\nHuman: Name a color.\n\nAssistant: Blue?\n\nHuman: Another.\n\nAssistant: No.",
  },
];
write("hh.jsonl.gz", gzip(jsonl(hh)));
parquet("hh.parquet", [col("chosen", str("chosen")), col("rejected", str("rejected"))], hh);

// --- ultrafeedback (openbmb/UltraFeedback rows, as Parquet) -----------------
const rating = (r) => ({ Rating: r, Rationale: "ok" });
const completion = (response, overall, ratings) => ({
  model: "m",
  response,
  overall_score: overall,
  "fine-grained_score": ratings.filter((r) => r !== "N/A").reduce((a, r) => a + Number(r), 0) / ratings.filter((r) => r !== "N/A").length,
  annotations: {
    helpfulness: rating(ratings[0]),
    honesty: rating(ratings[1]),
    instruction_following: rating(ratings[2]),
    truthfulness: { ...rating(ratings[3]), Type: ["0"] },
  },
});
const ultrafeedback = [
  {
    source: "evol_instruct",
    instruction: "Name a planet.",
    completions: [
      completion(" Mars.", 8.5, ["5", "5", "5", "5"]),
      completion(" The Sun.", 3, ["2", "1", "3", "1"]),
      completion(" Earth!", 7, ["4", "5", "4", "N/A"]),
    ],
  },
  {
    source: "flan",
    instruction: "Add 2 and 2.",
    completions: [completion(" 4.", 9, ["5", "5", "5", "5"]), completion(" 5.", 2, ["1", "2", "2", "1"])],
  },
  {
    source: "sharegpt",
    instruction: "Say something kind.",
    completions: [
      completion(" You did well.", 8, ["4", "4", "5", "4"]),
      completion(" Meh.", 4, ["2", "3", "2", "3"]),
      completion(" Nice try!", 6.5, ["3", "4", "4", "4"]),
    ],
  },
];
const aspect = (name) => [{ name, repetition_type: "OPTIONAL", num_children: 2 }, str("Rating"), str("Rationale")];
const completionSchema = struct([
  [str("model")],
  [str("response")],
  [num("overall_score")],
  [num("fine-grained_score")],
  [
    { name: "annotations", repetition_type: "OPTIONAL", num_children: 4 },
    ...aspect("helpfulness"),
    ...aspect("honesty"),
    ...aspect("instruction_following"),
    { name: "truthfulness", repetition_type: "OPTIONAL", num_children: 3 },
    str("Rating"),
    str("Rationale"),
    ...list("Type", (n) => [str(n)]),
  ],
]);
parquet(
  "ultrafeedback.parquet",
  [col("source", str("source")), col("instruction", str("instruction")), col("completions", list("completions", completionSchema))],
  ultrafeedback,
  2,
);

// --- ultrafeedback binarized (HuggingFaceH4/ultrafeedback_binarized) --------
const turn = (role, content) => ({ role, content });
const binarized = [
  {
    prompt: "Name a planet.",
    prompt_id: "p1",
    chosen: [turn("user", "Name a planet."), turn("assistant", "Mars.")],
    rejected: [turn("user", "Name a planet."), turn("assistant", "The Sun.")],
    messages: [turn("user", "Name a planet."), turn("assistant", "Mars.")],
    score_chosen: 8.5,
    score_rejected: 3,
  },
  {
    prompt: "Add 2 and 2.",
    prompt_id: "p2",
    chosen: [turn("user", "Add 2 and 2."), turn("assistant", "4.")],
    rejected: [turn("user", "Add 2 and 2."), turn("assistant", "5.")],
    messages: [turn("user", "Add 2 and 2."), turn("assistant", "4.")],
    score_chosen: 9,
    score_rejected: 2,
  },
];
parquet(
  "ultrafeedback-binarized.parquet",
  [
    col("prompt", str("prompt")),
    col("prompt_id", str("prompt_id")),
    col("chosen", messageList("chosen")),
    col("rejected", messageList("rejected")),
    col("messages", messageList("messages")),
    col("score_chosen", num("score_chosen")),
    col("score_rejected", num("score_rejected")),
  ],
  binarized,
);

// --- chat-pairs (OpenAI message form; one ShareGPT-style row) --------------
const chatPairs = [
  {
    chosen: [turn("system", "Be brief."), turn("user", "Hi!"), turn("assistant", "Hello.")],
    rejected: [turn("system", "Be brief."), turn("user", "Hi!"), turn("assistant", "Go away.")],
  },
  {
    chosen: [turn("user", "Name a color."), turn("assistant", "Blue?"), turn("user", "Another."), turn("assistant", "Red.")],
    rejected: [turn("user", "Name a color."), turn("assistant", "Blue?"), turn("user", "Another."), turn("assistant", "No.")],
  },
];
const shareGpt = {
  chosen: [
    { from: "human", value: "Is ice cold?" },
    { from: "gpt", value: "Yes." },
  ],
  rejected: [
    { from: "human", value: "Is ice cold?" },
    { from: "gpt", value: "No." },
  ],
};
write("chat-pairs.jsonl", jsonl([...chatPairs, shareGpt]));
parquet("chat-pairs.parquet", [col("chosen", messageList("chosen")), col("rejected", messageList("rejected"))], chatPairs);

// --- ranked ---------------------------------------------------------------
const ranked = [
  { prompt: "Name a fruit.", responses: [" A chair.", " An apple.", " A pear."], ranks: [3, 1, 2] },
  { prompt: "Say hi.", responses: [" Hi!", " Hello!", " Go away."], ranks: [1, 1, 3] },
];
write("ranked.jsonl", jsonl(ranked));
write("ranked.jsonl.gz", gzip(jsonl(ranked)));
// Ranks as INT64, as pandas writes integers: read back as bigint and turned into numbers.
parquet(
  "ranked.parquet",
  [
    col("prompt", str("prompt")),
    col(
      "responses",
      list("responses", (n) => [str(n)]),
    ),
    col(
      "ranks",
      list("ranks", (n) => [int64(n)]),
      (r) => r.ranks.map(BigInt),
    ),
  ],
  ranked,
);

// --- some invalid rows (for --skip-invalid) --------------------------------
write(
  "pairs-some-invalid.jsonl",
  jsonl([pairs[0], { prompt: "No rejected.", chosen: " Yes." }, pairs[1], { prompt: "", chosen: " a", rejected: " b" }, pairs[2]]) +
    "{not json\n",
);

// --- RRHF records in each container ----------------------------------------
const records = Array.from({ length: 40 }, (_, i) => ({
  query: `Q${i}: say ${i}.`,
  responses: [` ${i}.`, ` not ${i}.`, " no."],
  scores: [1, 0, -1].map((s) => s + (i % 3) * 0.5),
}));
write("records.jsonl.gz", gzip(jsonl(records.slice(0, 8))));
// A Parquet file with several row groups (4 of 10 rows) to read in bounded memory; `id` is an extra column, ignored.
parquet(
  "records.parquet",
  [
    col("query", str("query")),
    col(
      "responses",
      list("responses", (n) => [str(n)]),
    ),
    col(
      "scores",
      list("scores", (n) => [num(n)]),
    ),
    col("id", int64("id"), (r) => BigInt(records.indexOf(r) + 1)),
  ],
  records,
  10,
);
const chatRecords = [
  { messages: [turn("system", "Be brief."), turn("user", "Hi!")], responses: ["Hello.", "Go away."], scores: [1, 0] },
  { messages: [turn("user", "Blue?"), turn("assistant", "Yes."), turn("user", "Red?")], responses: ["Also.", "No."], scores: [2, 1] },
];
write("records-chat.jsonl", jsonl(chatRecords));

// A .jsonl.gz cut in the middle, as an interrupted download leaves it.
const full = gzip(jsonl(records.slice(0, 8)));
write("truncated.jsonl.gz", full.subarray(0, Math.floor(full.length / 2)));
