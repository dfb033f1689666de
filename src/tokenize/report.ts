/**
 * Counting what truncation did, so nothing is lost silently: the CLI prints
 * {@link formatTruncationReport} as a warning after encoding a data set.
 */

/**
 * Counts over one or many encoded records.
 *
 * @example
 * const { report } = encodeRecords(tok, records, { maxLength: 64 });
 * if (report.responsesEmptied > 0) console.warn(`${report.responsesEmptied} responses dropped by truncation`);
 */
export interface TruncationReport {
  records: number;
  /** Responses seen (before any were dropped). */
  responses: number;
  /** Records whose query was cut (paper: from the left; official: from the right). */
  queriesCut: number;
  /** Responses cut but not emptied (paper mode: they lost their EOS). */
  responsesCut: number;
  /** Responses that kept zero tokens; paper mode drops them (strict mode: error). */
  responsesEmptied: number;
  /** Official mode: rows left longer than the budget because HF truncation refuses to cut a whole text. */
  overLength: number;
  /** Names of the first records that had emptied responses (at most {@link MAX_NAMED}). */
  emptiedIn: string[];
}

/** How many record names a report keeps. */
export const MAX_NAMED = 20;

/** A report with all counts zero. */
export function emptyReport(): TruncationReport {
  return { records: 0, responses: 0, queriesCut: 0, responsesCut: 0, responsesEmptied: 0, overLength: 0, emptiedIn: [] };
}

/** Adds `b` into `a` (in place) and returns `a`. */
export function mergeReports(a: TruncationReport, b: TruncationReport): TruncationReport {
  a.records += b.records;
  a.responses += b.responses;
  a.queriesCut += b.queriesCut;
  a.responsesCut += b.responsesCut;
  a.responsesEmptied += b.responsesEmptied;
  a.overLength += b.overLength;
  for (const name of b.emptiedIn) if (a.emptiedIn.length < MAX_NAMED) a.emptiedIn.push(name);
  return a;
}

/** A one-paragraph warning for the user, or null when nothing was cut. */
export function formatTruncationReport(r: TruncationReport, maxLength: number | null): string | null {
  if (r.queriesCut + r.responsesCut + r.responsesEmptied + r.overLength === 0) return null;
  const parts = [
    `truncation to ${maxLength ?? "?"} tokens: ${r.queriesCut} of ${r.records} queries cut`,
    `${r.responsesCut} of ${r.responses} responses cut (without EOS)`,
    `${r.responsesEmptied} responses emptied and dropped`,
  ];
  if (r.overLength > 0) parts.push(`${r.overLength} rows left over the budget (official mode)`);
  let text = parts.join(", ");
  if (r.emptiedIn.length > 0) {
    text += `; emptied in: ${r.emptiedIn.join(", ")}${r.responsesEmptied > r.emptiedIn.length ? ", ..." : ""}`;
    text += " (raise the length budget or lower the query share to keep them)";
  }
  return text;
}
