/**
 * `rrhf validate` as a library function: reads a whole file in collect-all
 * mode, keeps the first problems (and a count of all), and summarises the
 * valid records — with token lengths and truncation counts when a tokenizer
 * is given.
 *
 * @example
 * const report = await validateFile("train.jsonl");
 * if (!report.valid) for (const e of report.errors) console.error(e.message);
 */
import { DataError } from "../errors.js";
import { scanRecords, type ReadOptions } from "./reader.js";
import { countTiedPairs, SummaryBuilder, type DataSummary } from "./stats.js";
import { TokenStatsBuilder, type RecordTokenMeasure, type TokenSummary } from "./token-stats.js";

/**
 * Options of `validateFile`.
 *
 * @example
 * const report = await validateFile("tests/fixtures/train/tiny-train.jsonl", { strict: true, maxErrors: 10 });
 */
export interface ValidateOptions extends Omit<ReadOptions, "unknownKeys"> {
  /** How many problems the report keeps (all are counted); 50 by default. */
  maxErrors?: number;
  /**
   * Strict mode: what training would otherwise drop or learn nothing from
   * becomes an error — unknown keys, queries whose scores are all equal,
   * and (with a token measure that has a budget) responses emptied by truncation.
   */
  strict?: boolean;
  /** Adds token-length percentiles and, when it has a budget, truncation counts. */
  tokens?: RecordTokenMeasure;
}

/**
 * What `validateFile` found.
 *
 * @example
 * const report = await validateFile("tests/fixtures/train/tiny-train.jsonl");
 * if (!report.valid) for (const e of report.errors) console.error(e.message); // file:line: field: problem
 */
export interface ValidationReport {
  file: string;
  valid: boolean;
  /** Number of problems found (may exceed `errors.length`). */
  errorCount: number;
  /** The first `maxErrors` problems, in file order. */
  errors: DataError[];
  /** Statistics of the valid records. */
  summary: DataSummary;
  /** Token statistics, when a tokenizer was given. */
  tokens: TokenSummary | null;
}

/** Validates every line of `path` and summarises it; never throws for bad data. */
export async function validateFile(path: string, opts: ValidateOptions = {}): Promise<ValidationReport> {
  const file = opts.displayName ?? path;
  const maxErrors = opts.maxErrors ?? 50;
  const strict = opts.strict === true;
  const errors: DataError[] = [];
  let errorCount = 0;
  const report = (found: DataError[]): void => {
    errorCount += found.length;
    for (const e of found) if (errors.length < maxErrors) errors.push(e);
  };
  const summary = new SummaryBuilder();
  const tokens = opts.tokens === undefined ? null : new TokenStatsBuilder(opts.tokens);
  const scan = scanRecords(path, { ...opts, displayName: file, unknownKeys: strict ? "error" : "ignore" });
  for await (const entry of scan) {
    if (!entry.ok) {
      report(entry.errors);
      continue;
    }
    const { record, line } = entry;
    summary.add(record, entry.unknownKeys);
    const k = record.scores.length;
    if (strict && countTiedPairs(record.scores) === (k * (k - 1)) / 2) {
      report([new DataError(file, line, "scores", "all scores are equal: no ranking signal (strict mode)")]);
    }
    if (tokens !== null) {
      const emptied = tokens.add(record);
      if (strict) {
        for (const i of emptied) {
          report([
            new DataError(file, line, `responses[${i}]`, `emptied by truncation to ${opts.tokens?.modelMaxLength} tokens (strict mode)`),
          ]);
        }
      }
    }
  }
  return {
    file,
    valid: errorCount === 0,
    errorCount,
    errors,
    summary: summary.build(),
    tokens: tokens === null ? null : tokens.build(),
  };
}
