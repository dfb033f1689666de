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

/**
 * A bug in rrhf itself (a broken invariant), never the user's input. The CLI
 * shows it with its stack and asks for a report. Any other error that is not
 * a `UserError` (and not a file-system problem on a path, see
 * `userErrorFromFs`) is treated the same way.
 *
 * @example
 * try {
 *   await train(config);
 * } catch (err) {
 *   if (err instanceof UserError) console.error(err.message);  // the user can fix it: a message is enough
 *   else if (err instanceof InternalError) throw err;            // a bug in rrhf: keep the stack, report it
 *   else throw err;
 * }
 */
export class InternalError extends Error {
  override name = "InternalError";
}

/** What to tell the user for each file-system error code on a path they can fix. */
const FS_PROBLEMS: Readonly<Record<string, string>> = {
  ENOENT: "no such file or folder; check the path",
  ENOTDIR: "a part of the path is a file, not a folder; check the path",
  EISDIR: "is a folder, not a file; name a file",
  EEXIST: "already exists; remove it or choose another path",
  EACCES: "permission denied; check its permissions or choose another path",
  EPERM: "operation not permitted; check its permissions or choose another path",
  EROFS: "the file system is read-only; choose another location",
  ENOSPC: "no space left on the device; free some space or choose another location",
  EDQUOT: "disk quota exceeded; free some space or choose another location",
  ENAMETOOLONG: "the path is too long; choose a shorter one",
};

/** What each system call was doing, in words. */
const FS_ACTIONS: Readonly<Record<string, string>> = {
  open: "cannot open",
  mkdir: "cannot create folder",
  scandir: "cannot list folder",
  rename: "cannot move into place",
  write: "cannot write",
  read: "cannot read",
  rmdir: "cannot remove",
  unlink: "cannot remove",
  stat: "cannot inspect",
  lstat: "cannot inspect",
  copyfile: "cannot copy",
  realpath: "cannot resolve",
};

/**
 * Converts an ordinary file-system error on a path (missing folder, a file
 * where a folder is expected, no permission, a full disk...) into a one-line
 * `UserError` naming the path and what to do; returns null for anything
 * else. `path` overrides the path Node reports (e.g. the user's `--out`
 * rather than a temporary file beside it).
 */
export function userErrorFromFs(err: unknown, path?: string): UserError | null {
  if (!(err instanceof Error)) return null;
  const e = err as NodeJS.ErrnoException;
  const problem = e.code === undefined ? undefined : FS_PROBLEMS[e.code];
  const where = path ?? e.path;
  if (problem === undefined || where === undefined) return null;
  const action = (e.syscall !== undefined && FS_ACTIONS[e.syscall]) || "cannot use";
  return new UserError(`${where}: ${action}: ${problem} (${e.code})`);
}
