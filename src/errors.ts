/**
 * Errors a user can fix (bad data, a missing file, a wrong flag value).
 * The CLI prints only the message for these and exits with code 1;
 * anything else is a bug and shows its stack under `--debug`.
 *
 * @example
 * try {
 *   await loadTokenizer("no/such/folder");
 * } catch (err) {
 *   if (err instanceof UserError) console.error(err.message); // names the missing file
 *   else throw err;
 * }
 */
export class UserError extends Error {
  override name = "UserError";
}

/**
 * A problem in a data file, located precisely: `file:line: field: problem`.
 * `line` is 1-based; `field` is a JSON path such as `scores[2]` (or `-` when
 * the whole line is at fault). In files without lines (Parquet) `line` is
 * the 1-based row number and `unit` is "row": `file:row 12: field: problem`.
 *
 * @example
 * const err = new DataError("train.jsonl", 12, "responses[3]", "must not be empty");
 * err.message; // "train.jsonl:12: responses[3]: must not be empty"
 */
export class DataError extends UserError {
  override name = "DataError";
  constructor(
    readonly file: string,
    readonly line: number,
    readonly field: string,
    readonly problem: string,
    readonly unit: "line" | "row" = "line",
  ) {
    super(`${file}:${unit === "row" ? "row " : ""}${line}: ${field}: ${problem}`);
  }
}
