import { spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { runCli } from "../src/cli/main.js";

/** Repository root (tests run from dist/tests/..., so walk up to package.json's folder). */
export const repoRoot: string = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** Absolute path of a committed test fixture, e.g. `fixture("tokenizers/gpt2")`. */
export function fixture(...parts: string[]): string {
  return join(repoRoot, "tests", "fixtures", ...parts);
}

/** A fresh temporary directory for one test. */
export function tempDir(prefix = "rrhf-test-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the built `rrhf` binary as a user would, in a child process. */
export function runRrhf(args: string[], opts: { cwd?: string; input?: string } = {}): CliResult {
  const bin = join(repoRoot, "dist", "src", "cli", "bin.js");
  const r = spawnSync(process.execPath, [bin, ...args], {
    cwd: opts.cwd ?? repoRoot,
    input: opts.input,
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** Runs the CLI in this process (no child process: fast, and the CLI's own code is what the coverage sees), capturing its output. */
export async function runRrhfInProcess(args: string[]): Promise<CliResult> {
  let stdout = "";
  let stderr = "";
  const code = await runCli(args, {
    stdout: (t) => {
      stdout += t;
    },
    stderr: (t) => {
      stderr += t;
    },
  });
  return { code, stdout, stderr };
}
