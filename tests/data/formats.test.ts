/**
 * Input formats (JSONL, .jsonl.gz, Parquet) through the shared record source,
 * on the generated samples in tests/fixtures/formats: reading by extension
 * and by --format, row-group-at-a-time Parquet reading, a truncated .gz,
 * locations in errors, and that the committed samples are exactly what
 * scripts/make-format-samples.mjs writes.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { gunzipSync } from "node:zlib";
import { asyncBufferFromFile, parquetMetadataAsync, type AsyncBuffer } from "hyparquet";
import { parquetObjects } from "../../src/data/parquet.js";
import { readAllRecords, readRecords } from "../../src/data/reader.js";
import { inputFormatOf, readSourceObjects } from "../../src/data/source.js";
import { DataError, UserError } from "../../src/errors.js";
import { fixture, repoRoot, tempDir } from "../helpers.js";

const formats = (name: string): string => fixture("formats", name);

test("the format is chosen by extension, and --format overrides it", () => {
  assert.equal(inputFormatOf("a/train.parquet"), "parquet");
  assert.equal(inputFormatOf("a/train.PARQUET"), "parquet");
  assert.equal(inputFormatOf("hh/train.jsonl.gz"), "jsonl.gz");
  assert.equal(inputFormatOf("train.json.gz"), "jsonl.gz");
  assert.equal(inputFormatOf("train.jsonl"), "jsonl");
  assert.equal(inputFormatOf("train.txt"), "jsonl");
  assert.equal(inputFormatOf("train.data", "parquet"), "parquet");
  assert.throws(() => inputFormatOf("x", "csv" as "jsonl"), /unknown input format "csv"/);
});

test("records.parquet (4 row groups) and records.jsonl.gz read as the same records, numbered by row and line", async () => {
  const fromParquet = [];
  for await (const r of readRecords(formats("records.parquet"))) fromParquet.push(r);
  assert.equal(fromParquet.length, 40);
  assert.deepEqual(
    fromParquet.map((r) => r.line),
    Array.from({ length: 40 }, (_, i) => i + 1),
  );
  assert.deepEqual(fromParquet[0].unknownKeys, ["id"]);
  assert.deepEqual(fromParquet[39].record, { query: "Q39: say 39.", responses: [" 39.", " not 39.", " no."], scores: [1, 0, -1] });
  const fromGz = await readAllRecords(formats("records.jsonl.gz"));
  assert.deepEqual(
    fromGz,
    fromParquet.slice(0, 8).map((r) => r.record),
  );
});

test("--format overrides the extension; the wrong one is a clear user error naming the file", async () => {
  await assert.rejects(readAllRecords(formats("records.jsonl.gz"), { format: "parquet" }), (e: unknown) => {
    assert.ok(e instanceof UserError);
    assert.match(e.message, /records\.jsonl\.gz: not a readable Parquet file/);
    return true;
  });
  await assert.rejects(readAllRecords(formats("ranked.jsonl"), { format: "jsonl.gz" }), /ranked\.jsonl: not valid gzip data/);
  // Plain JSONL read as JSONL whatever its name.
  const records = await readAllRecords(formats("records-chat.jsonl"), { format: "jsonl" });
  assert.equal(records.length, 2);
});

/** An AsyncBuffer that logs every byte range asked of it into `events`. */
function loggingBuffer(inner: AsyncBuffer, events: string[]): AsyncBuffer {
  return {
    byteLength: inner.byteLength,
    slice(start: number, end?: number) {
      events.push(`slice ${start} ${end ?? inner.byteLength}`);
      return inner.slice(start, end);
    },
  };
}

test("Parquet is read one row group at a time: a group's bytes are fetched only after the previous group's rows were all handed out", async () => {
  const path = formats("records.parquet");
  const inner = await asyncBufferFromFile(path);
  const metadata = await parquetMetadataAsync(inner);
  assert.equal(metadata.row_groups.length, 4);
  // Byte range of each row group's column chunks.
  const groupRanges = metadata.row_groups.map((g) => {
    const starts = g.columns.map((c) => Number(c.meta_data?.dictionary_page_offset ?? c.meta_data?.data_page_offset ?? 0));
    const ends = g.columns.map((c, i) => starts[i] + Number(c.meta_data?.total_compressed_size ?? 0));
    return { start: Math.min(...starts), end: Math.max(...ends) };
  });
  const events: string[] = [];
  const held: number[] = [];
  for await (const row of parquetObjects(loggingBuffer(inner, events), "records.parquet", { onRowGroup: (n) => held.push(n) })) {
    assert.ok(row.value !== undefined);
    events.push(`row ${row.line}`);
  }
  assert.deepEqual(held, [10, 10, 10, 10], "at most one row group's rows are materialised at once");
  const groupOf = (start: number, end: number): number[] => groupRanges.flatMap((g, i) => (start < g.end && end > g.start ? [i] : []));
  let rowsOut = 0;
  let slicesSeen = 0;
  for (const e of events) {
    const [kind, a, b] = e.split(" ");
    if (kind === "row") {
      rowsOut = Number(a);
      continue;
    }
    slicesSeen += 1;
    if (Number(b) === inner.byteLength) continue; // the footer (metadata) fetch at the end of the file
    for (const g of groupOf(Number(a), Number(b))) {
      assert.equal(rowsOut, g * 10, `row group ${g + 1} fetched after ${rowsOut} rows were handed out`);
    }
  }
  assert.ok(slicesSeen > 4, "each row group was fetched separately");
});

test("a truncated .jsonl.gz is a clean user error naming the file (display name too)", async () => {
  const file = formats("truncated.jsonl.gz");
  await assert.rejects(readAllRecords(file), (e: unknown) => {
    assert.ok(e instanceof UserError);
    assert.equal(e.message, `${file}: truncated gzip data (unexpected end of file): the file is incomplete`);
    return true;
  });
  await assert.rejects(async () => {
    for await (const entry of readSourceObjects(file, { displayName: "t.gz" })) assert.ok(entry.line > 0);
  }, /^UserError: t\.gz: truncated gzip data/);
});

test("a bad Parquet row is located by its row number (a pairs row, which names the converter)", async () => {
  await assert.rejects(readAllRecords(formats("pairs.parquet")), (e: unknown) => {
    assert.ok(e instanceof DataError);
    assert.equal(e.unit, "row");
    assert.match(
      e.message,
      new RegExp(
        `^${formats("pairs.parquet").replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}:row 1: -: a \\{prompt, chosen, rejected\\} pair, .*rrhf convert --from pairs`,
      ),
    );
    return true;
  });
});

test("INT64 Parquet values come back as numbers; null columns count as absent", async () => {
  const rows = [];
  for await (const entry of readSourceObjects(formats("ranked.parquet"))) rows.push(entry.value);
  assert.deepEqual(rows[0], { prompt: "Name a fruit.", responses: [" A chair.", " An apple.", " A pear."], ranks: [3, 1, 2] });
});

test("the committed samples are exactly what scripts/make-format-samples.mjs writes", () => {
  const out = tempDir();
  const r = spawnSync(process.execPath, [join(repoRoot, "scripts", "make-format-samples.mjs"), out], { cwd: repoRoot, encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  const committed = readdirSync(fixture("formats"))
    .filter((f) => f !== "README.md")
    .sort();
  assert.deepEqual(readdirSync(out).sort(), committed);
  for (const name of committed) {
    const made = readFileSync(join(out, name));
    const kept = readFileSync(formats(name));
    if (name === "truncated.jsonl.gz") {
      // zlib builds may compress differently: both must be cut gzip streams.
      for (const bytes of [made, kept]) assert.throws(() => gunzipSync(bytes), /unexpected end of file/);
    } else if (name.endsWith(".gz")) {
      assert.ok(gunzipSync(made).equals(gunzipSync(kept)), `${name} differs`);
    } else {
      assert.ok(made.equals(kept), `${name} differs`);
    }
  }
});
