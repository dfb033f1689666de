/**
 * The command scorer (`cmd:COMMAND`): COMMAND runs once, through `sh -c`,
 * for the whole run. For each prompt it is sent one line on its stdin, the
 * JSON of the HTTP scorer's request (`{"query", "responses"}`, see http.ts),
 * and must print one line on its stdout: `{"scores": [...]}`, one finite
 * number per response, in order. Whatever it writes on stderr passes
 * through to ours' tail in error messages. When it exits, prints something
 * that is not such a line, or does not reply within the timeout, scoring
 * stops with an error saying which.
 */
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { createInterface } from "node:readline";
import { UserError } from "../errors.js";
import { requestBody } from "./http.js";
import { scoresProblem, type Scorer } from "./scorer.js";

const STDERR_TAIL = 2000;
/** What `nextLine` gives when no line came within the timeout. */
const TIMED_OUT = Symbol("timed out");

class CommandScorer implements Scorer {
  readonly spec: string;
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly lines: string[] = [];
  private waiting: ((line: string | null) => void) | null = null;
  private stderrTail = "";
  private exited: string | null = null;

  constructor(
    command: string,
    private readonly timeout: number,
  ) {
    this.spec = `cmd:${command}`;
    this.child = spawn("sh", ["-c", command], { stdio: ["pipe", "pipe", "pipe"] });
    this.child.stderr.on("data", (chunk: Buffer) => {
      this.stderrTail = (this.stderrTail + chunk.toString("utf8")).slice(-STDERR_TAIL);
    });
    // A write after the child died raises EPIPE here; the exit is reported instead.
    this.child.stdin.on("error", () => undefined);
    this.child.on("error", (err) => this.finish(`could not start (${err.message})`));
    this.child.on("exit", (code, signal) => this.finish(signal !== null ? `was killed by ${signal}` : `exited with code ${code}`));
    createInterface({ input: this.child.stdout }).on("line", (line) => {
      if (this.waiting !== null) {
        const deliver = this.waiting;
        this.waiting = null;
        deliver(line);
      } else {
        this.lines.push(line);
      }
    });
  }

  private finish(how: string): void {
    if (this.exited === null) this.exited = how;
    if (this.waiting !== null) {
      const deliver = this.waiting;
      this.waiting = null;
      deliver(null);
    }
  }

  private fail(problem: string): never {
    const stderr = this.stderrTail.trim();
    throw new UserError(
      `scorer ${this.spec}: ${problem}${stderr === "" ? "" : `\n  its stderr: ${stderr.split("\n").slice(-5).join("\n  ")}`}`,
    );
  }

  private nextLine(): Promise<string | null | typeof TIMED_OUT> {
    const queued = this.lines.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    if (this.exited !== null) return Promise.resolve(null);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiting = null;
        resolve(TIMED_OUT);
      }, this.timeout * 1000);
      this.waiting = (line) => {
        clearTimeout(timer);
        resolve(line);
      };
    });
  }

  async score(items: Parameters<Scorer["score"]>[0]): Promise<number[][]> {
    const out: number[][] = [];
    for (const item of items) {
      if (this.exited !== null) this.fail(`the command ${this.exited}`);
      this.child.stdin.write(`${JSON.stringify(requestBody(item))}\n`);
      const line = await this.nextLine();
      if (line === TIMED_OUT) this.fail(`no reply within ${this.timeout} s`);
      if (line === null) this.fail(`the command ${this.exited ?? "closed its stdout"} before replying`);
      let parsed: unknown;
      try {
        parsed = JSON.parse(line);
      } catch {
        this.fail(`printed a line that is not JSON (expected {"scores": [...]}): ${JSON.stringify(line.slice(0, 200))}`);
      }
      const scores = typeof parsed === "object" && parsed !== null ? (parsed as { scores?: unknown }).scores : undefined;
      const problem = scoresProblem(scores, item.responses.length);
      if (problem !== null) this.fail(`bad reply ${JSON.stringify(line.slice(0, 200))}: ${problem}`);
      out.push(scores as number[]);
    }
    return out;
  }

  async close(): Promise<void> {
    if (this.exited !== null) return;
    const done = new Promise<void>((resolve) => this.child.once("exit", () => resolve()));
    this.child.stdin.end();
    const timer = setTimeout(() => this.child.kill("SIGTERM"), 5000);
    await done;
    clearTimeout(timer);
  }
}

/**
 * A scorer that talks to a long-running command over JSON lines (see above).
 *
 * @example
 * const scorer = createCommandScorer("python3 judge.py", 60);
 * await scorer.score([{ query: "Hi", responses: ["Hello", "Go away"] }]);
 * await scorer.close();
 */
export function createCommandScorer(command: string, timeout: number): Scorer {
  if (command.trim() === "") throw new UserError("scorer cmd:: give a command after cmd:");
  return new CommandScorer(command, timeout);
}
