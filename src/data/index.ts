/**
 * The data layer's public surface: reading and validating RRHF records
 * (JSONL, .jsonl.gz, Parquet), and converting preference data into them.
 * The readers, statistics builders and atomic writer behind these stay internal.
 */
export type { RrhfRecord, TextRecord, ChatRecord, ChatMessage, ChatRole } from "./record.js";
export type { InputFormat } from "./source.js";
export { INPUT_FORMATS } from "./source.js";
export { readRecords, readAllRecords } from "./reader.js";
export type { ReadOptions, LocatedRecord } from "./reader.js";
export { validateFile } from "./validate.js";
export type { ValidateOptions, ValidationReport } from "./validate.js";
export type { DataSummary } from "./stats.js";
export type { TokenSummary } from "./token-stats.js";
export type { LengthSummary } from "./histogram.js";
export { convertFile, CONVERT_FORMATS } from "./convert/convert.js";
export type { ConvertFormat, ConvertOptions, ConvertResult } from "./convert/convert.js";
export { pairToRecord } from "./convert/pairs.js";
export { hhToRecord } from "./convert/hh.js";
export { readSftRecords, type SftRecord, type LocatedSftRecord } from "./sft-record.js";
