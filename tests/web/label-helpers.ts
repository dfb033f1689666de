/** Shared by the label tests: a file to label, and `rrhf label` started as a child process. */
import { type ChildProcess, spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { repoRoot } from "../helpers.js";

/** Writes `n` text records of `k` responses ("q{i} r{j}") with all-zero scores, plus a chat record when `withChat`. */
export function writeLabelFile(path: string, n: number, k: number, opts: { withChat?: boolean } = {}): void {
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    const responses = Array.from({ length: k }, (_, j) => `q${i} r${j}`);
    lines.push(
      JSON.stringify({
        id: `rec-${i}`,
        query: `Query ${i}?`,
        responses,
        scores: responses.map(() => 0),
        policy: responses.map((_, j) => j / 10),
      }),
    );
  }
  if (opts.withChat === true) {
    lines.push(JSON.stringify({ messages: [{ role: "user", content: "Say hi" }], responses: ["Hi!", "Go away."] }));
  }
  writeFileSync(path, `${lines.join("\n")}\n`);
}

/** A running `rrhf label` child and the page address it printed. */
export interface LabelChild {
  child: ChildProcess;
  url: string;
  /** Resolves with the exit code (or signal name) when the child ends. */
  exited: Promise<number | string>;
}

/** Starts `rrhf label FILE --port 0 ...args` and waits for its "Ranking page:" line. */
export async function spawnLabel(file: string, args: string[] = []): Promise<LabelChild> {
  const bin = join(repoRoot, "dist", "src", "cli", "bin.js");
  const child = spawn(process.execPath, [bin, "label", file, "--port", "0", ...args], { stdio: ["ignore", "pipe", "pipe"] });
  const exited = new Promise<number | string>((resolve) => child.once("exit", (code, signal) => resolve(code ?? signal ?? -1)));
  let out = "";
  let err = "";
  child.stderr?.on("data", (d: Buffer) => {
    err += d.toString();
  });
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout?.on("data", (d: Buffer) => {
      out += d.toString();
      const m = /Ranking page: (\S+)/.exec(out);
      if (m !== null) resolve(m[1]);
    });
    void exited.then((code) => reject(new Error(`rrhf label exited (${code}) before serving: ${err}${out}`)));
  });
  return { child, url, exited };
}

/** SIGKILLs a child and waits until it is gone. */
export async function killHard(label: LabelChild): Promise<void> {
  label.child.kill("SIGKILL");
  await label.exited;
}

/** Joins a path to a page address, keeping its ?token=... */
export function apiUrl(pageUrl: string, path: string): string {
  const url = new URL(pageUrl);
  url.pathname = path;
  return url.toString();
}
