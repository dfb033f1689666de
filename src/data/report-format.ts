/**
 * How `rrhf validate` shows its report: aligned text for people, or one JSON
 * object (snake_case keys, stable) for scripts.
 */
import type { LengthSummary } from "./histogram.js";
import type { ValidationReport } from "./validate.js";

const fixed2 = (x: number | null): string => (x === null ? "-" : x.toFixed(2));
const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;

function lengths(s: LengthSummary): string {
  if (s.count === 0) return "-";
  return `p50 ${s.p50}, p90 ${s.p90}, p99 ${s.p99}, max ${s.max} (mean ${fixed2(s.mean)})`;
}

/** The report as text lines (the summary of the valid records; errors are printed separately). */
export function formatReportText(report: ValidationReport): string {
  const { summary: s, tokens } = report;
  const k = s.responses_per_query;
  const t = s.score_ties;
  const rows: Array<[string, string]> = [
    ["queries", String(s.queries)],
    ["responses", `${s.responses} (per query: min ${k.min ?? "-"}, mean ${fixed2(k.mean)}, max ${k.max ?? "-"})`],
    ["score ties", `${plural(t.tied_pairs, "tied pair")} of ${t.pairs}, in ${plural(t.queries_with_ties, "query", "queries")}`],
    ["all scores tied", `${plural(t.all_tied_queries, "query", "queries")} (no ranking signal)`],
  ];
  const unknown = Object.entries(s.unknown_keys);
  rows.push([
    "unknown keys",
    unknown.length === 0 ? "none" : unknown.map(([key, n]) => `${key} (${plural(n, "line")}, ignored)`).join(", "),
  ]);
  if (tokens !== null) {
    rows.push(["query tokens", lengths(tokens.query)]);
    rows.push(["response tokens", lengths(tokens.response)]);
    if (tokens.truncation !== null) {
      const tr = tokens.truncation;
      rows.push([
        `max length ${tr.model_max_length}`,
        `${plural(tr.truncated_responses, "response")} truncated, ${tr.emptied_responses} emptied` +
          ` (in ${plural(tr.queries_with_truncation, "query", "queries")}); ${plural(tr.truncated_queries, "query", "queries")} cut`,
      ]);
    }
  }
  const status = report.valid ? "valid" : `INVALID (${plural(report.errorCount, "problem")})`;
  const width = Math.max(...rows.map(([name]) => name.length));
  return [`${report.file}: ${status}`, ...rows.map(([name, value]) => `  ${name.padEnd(width)}  ${value}`)].join("\n") + "\n";
}

/** The report as one JSON-ready object (errors as their `file:line: field: problem` messages). */
export function reportToJson(report: ValidationReport): Record<string, unknown> {
  return {
    file: report.file,
    valid: report.valid,
    error_count: report.errorCount,
    errors: report.errors.map((e) => e.message),
    ...report.summary,
    tokens: report.tokens,
  };
}
