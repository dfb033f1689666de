/**
 * The data layer's public surface: reading and validating RRHF JSONL records,
 * and converting preference data into them. The readers, statistics builders
 * and atomic writer behind these stay internal.
 */
export type { RrhfRecord } from "./record.js";
export { readRecords, readAllRecords } from "./reader.js";
export type { ReadOptions, LocatedRecord } from "./reader.js";
export { validateFile } from "./validate.js";
export type { ValidateOptions, ValidationReport } from "./validate.js";
export type { DataSummary } from "./stats.js";
export type { TokenSummary } from "./token-stats.js";
export type { LengthSummary } from "./histogram.js";
export { convertFile, CONVERT_FORMATS } from "./convert/convert.js";
export type { ConvertFormat, ConvertOptions } from "./convert/convert.js";
export { pairToRecord } from "./convert/pairs.js";
export { hhToRecord } from "./convert/hh.js";
