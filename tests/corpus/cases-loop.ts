/**
 * Bad-input cases of the loop's inputs: prompt files (`rrhf sample`) and
 * scorer replies (`rrhf score` with a command scorer whose script misbehaves).
 * Same contract as cases.ts: exit code 1, the expected message, no output.
 */
import { join } from "node:path";
import { fixture } from "../helpers.js";
import { writeFileSync } from "./build.js";
import type { BadInputCase } from "./cases.js";

/** `rrhf sample` on a prompts file with these contents (the bad line second, after a good one). */
function promptsCase(name: string, contents: string | Buffer): BadInputCase {
  return {
    name,
    group: "prompts",
    make: (root) => {
      const prompts = join(root, "prompts.jsonl");
      writeFileSync(prompts, contents);
      const out = join(root, "samples.jsonl");
      return [
        "sample",
        "--model",
        fixture("models", "gpt2-tiny"),
        "--prompts",
        prompts,
        "--out",
        out,
        "--backend",
        "ref",
        "--max-new-tokens",
        "4",
      ];
    },
  };
}

const GOOD = '{"query": "Hello"}\n';

const PROMPT_CASES: BadInputCase[] = [
  promptsCase("prompts-not-json", `${GOOD}{"query": "a"\n`),
  promptsCase("prompts-no-query", `${GOOD}{"querx": "b"}\n`),
  promptsCase("prompts-query-number", `${GOOD}{"query": 5}\n`),
  promptsCase("prompts-line-is-array", `${GOOD}[1, 2]\n`),
  promptsCase("prompts-messages-bad-role", `${GOOD}{"messages": [{"role": "wizard", "content": "hi"}]}\n`),
  promptsCase("prompts-messages-not-list", `${GOOD}{"messages": "hi"}\n`),
  promptsCase("prompts-responses-not-strings", `${GOOD}{"query": "a", "responses": [1, 2]}\n`),
  promptsCase("prompts-chosen-object", `${GOOD}{"query": "a", "chosen": {"text": "x"}}\n`),
  promptsCase("prompts-invalid-utf8", Buffer.concat([Buffer.from(GOOD), Buffer.from([0x7b, 0x22, 0x71, 0xff, 0x22, 0x7d, 0x0a])])),
];

/** `rrhf score --scorer cmd:node SCRIPT` where SCRIPT (written under the case folder) replies with `body`. */
function scorerCase(name: string, script: string): BadInputCase {
  return {
    name,
    group: "scorer",
    make: (root) => {
      const input = join(root, "in.jsonl");
      writeFileSync(input, '{"query": "a", "responses": ["x", "y z"]}\n{"query": "b", "responses": ["x"]}\n');
      const file = join(root, "judge.mjs");
      writeFileSync(file, script);
      return ["score", "--in", input, "--out", join(root, "scored.jsonl"), "--scorer", `cmd:node ${file}`, "--timeout", "20"];
    },
  };
}

/** A judge script that answers every request line with `reply` (a JSON text or any text). */
const replies = (reply: string) =>
  `import { createInterface } from "node:readline";\ncreateInterface({ input: process.stdin }).on("line", () => process.stdout.write(${JSON.stringify(`${reply}\n`)}));\n`;

const SCORER_CASES: BadInputCase[] = [
  scorerCase("scorer-reply-not-json", replies("hello")),
  scorerCase("scorer-reply-too-few-scores", replies('{"scores": [1]}')),
  scorerCase("scorer-reply-too-many-scores", replies('{"scores": [1, 2, 3]}')),
  scorerCase("scorer-reply-score-string", replies('{"scores": [1, "NaN"]}')),
  scorerCase("scorer-reply-score-null", replies('{"scores": [null, 1]}')),
  scorerCase("scorer-reply-score-infinite", replies('{"scores": [1e999, 1]}')),
  scorerCase("scorer-reply-scores-not-list", replies('{"scores": 3}')),
  scorerCase("scorer-reply-no-scores-key", replies('{"score": [1, 2]}')),
  scorerCase("scorer-reply-is-array", replies("[1, 2]")),
  scorerCase("scorer-exits-early", "process.exit(3);\n"),
];

export const LOOP_CASES: readonly BadInputCase[] = [...PROMPT_CASES, ...SCORER_CASES];
