/**
 * Checks on the paths a user names (`--out`, `--model`, a converter's input
 * and output), done before any work so that a wrong path is a one-line user
 * error naming it, never an internal error from deep inside a save.
 *
 * @example
 * assertDistinctPaths("--model", "models/gpt2", "--out", "runs/x"); // throws if both are one folder
 * ensureParentFolders("models/tiny", "--out");                       // mkdir -p models
 */
import { existsSync, mkdirSync, realpathSync, statSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { UserError, userErrorFromFs } from "../errors.js";

/**
 * The canonical absolute form of `path`: symlinks resolved for the part that
 * exists, the rest appended as written (so a path not created yet compares
 * equal to the same path written another way).
 */
export function canonicalPath(path: string): string {
  const abs = resolve(path);
  if (existsSync(abs)) return realpathSync(abs);
  const parent = dirname(abs);
  return parent === abs ? abs : join(canonicalPath(parent), basename(abs));
}

/** True when `a` and `b` name the same file or folder (after resolving symlinks). */
export function samePath(a: string, b: string): boolean {
  return canonicalPath(a) === canonicalPath(b);
}

/** Refuses one path for two roles, e.g. writing the output over the input. */
export function assertDistinctPaths(inputFlag: string, input: string, outputFlag: string, output: string): void {
  if (samePath(input, output)) {
    throw new UserError(
      `${outputFlag} ${output} is the same path as ${inputFlag} ${input}: writing it would replace the input; choose another ${outputFlag}`,
    );
  }
}

/**
 * Checks that `dir` can be an output folder without creating anything: it is
 * a folder or does not exist yet, and the nearest existing ancestor is a
 * folder (not a file).
 */
export function assertFolderTarget(dir: string, flag: string): void {
  let p = resolve(dir);
  if (existsSync(p)) {
    if (!statSync(p).isDirectory()) throw new UserError(`${flag} ${dir}: exists and is a file, not a folder; choose a folder path`);
    return;
  }
  while (!existsSync(p) && dirname(p) !== p) p = dirname(p);
  if (!statSync(p).isDirectory()) throw new UserError(`${flag} ${dir}: ${p} is a file, not a folder; choose another path`);
}

/** Creates the folders above `path` (as `mkdir -p`), turning file-system errors into user errors naming `flag`. */
export function ensureParentFolders(path: string, flag: string): void {
  assertFolderTarget(dirname(resolve(path)), flag);
  try {
    mkdirSync(dirname(resolve(path)), { recursive: true });
  } catch (err) {
    const userError = userErrorFromFs(err, `${flag} ${path}`);
    throw userError ?? err;
  }
}
