/**
 * The data side of an SFT run (`objective: "sft"`): `{query, response}` or
 * `{text}` records, read with the validating reader (stops at the first bad
 * line, naming file, line and field) and encoded up front into the same
 * {@link EncodedData} an RRHF run trains on, one response per query; batches
 * are then collated by `collateExamples` as for RRHF. Truncation is counted
 * and reported the same way: a record truncation empties is left out, or
 * (strict) is an error naming it.
 *
 * @example
 * const data = await loadSftData("tests/fixtures/train/tiny-sft.jsonl", tok, config);
 * const batch = collateExamples(data, [0, 1], config); // one row per record
 */
import { readSftRecords } from "../data/sft-record.js";
import type { ReadOptions } from "../data/reader.js";
import { UserError } from "../errors.js";
import type { EncodedRecord } from "../tokenize/encode.js";
import { emptyReport, formatTruncationReport, MAX_NAMED, mergeReports } from "../tokenize/report.js";
import { encodeSftRecord } from "../tokenize/sft-encode.js";
import type { RrhfTokenizer } from "../tokenize/tokenizer.js";
import { padIdOf, requireChatTemplate, type DataSettings, type EncodedData } from "./run-data.js";

/** Reads and encodes the SFT records of `file` (JSONL, .jsonl.gz or Parquet: by extension, or `read.format`). */
export async function loadSftData(
  file: string,
  tok: RrhfTokenizer,
  s: DataSettings,
  read: Pick<ReadOptions, "format"> = {},
): Promise<EncodedData> {
  const chatTemplate = s.chat_template === true;
  if (chatTemplate) requireChatTemplate(tok, s.model);
  const report = emptyReport();
  const examples: EncodedRecord[] = [];
  const lines: number[] = [];
  const droppedAt: string[] = [];
  let records = 0;
  for await (const { line, record } of readSftRecords(file, read)) {
    records++;
    const name = `${file}:${line}`;
    const enc = encodeSftRecord(tok, record, {
      maxLength: s.model_max_length,
      maxQueryShare: s.max_query_share,
      name,
      chatTemplate: record.text === undefined && chatTemplate,
      strict: s.strict === true,
    });
    mergeReports(report, enc.report);
    if (enc.responses.length === 0) {
      if (droppedAt.length < MAX_NAMED) droppedAt.push(name);
      continue;
    }
    examples.push(enc);
    lines.push(line);
  }
  if (records === 0) throw new UserError(`${file}: no records`);
  if (examples.length === 0) {
    const counts = formatTruncationReport(report, s.model_max_length) ?? "";
    throw new UserError(`${file}: truncation emptied every record (${counts}); raise --model-max-length`);
  }
  const droppedQueries = records - examples.length;
  return { file, examples, lines, records, droppedQueries, droppedAt, report, padTokenId: padIdOf(tok) };
}
