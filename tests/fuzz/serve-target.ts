/**
 * Fuzz target of `rrhf serve`'s request handling short of generation: the
 * body parsed as JSON, validated as a completions or chat request, and
 * checked against the model (prompt ids, chat template, token budget).
 * Every input must be accepted with every number in bounds, or refused with
 * an ApiError (400, or 404 for another model's name) naming the field.
 */
import fc from "fast-check";
import { cpSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadServedModel, prepareJob } from "../../src/serve/engine.js";
import { ApiError, parseChatRequest, parseCompletionRequest, parseJsonBody, type ParsedRequest } from "../../src/serve/request.js";
import { fixture, tempDir } from "../helpers.js";
import { expectCleanOutcome } from "./check.js";
import { jsonFileBytes, mutatedBytes } from "./mutate.js";
import type { FuzzTarget, PreparedTarget } from "./targets.js";

const MAX_N = 8;
const TEMPLATE = "{% for m in messages %}{{ m.role[0] }}: {{ m.content }}\n{% endfor %}{% if add_generation_prompt %}a:{% endif %}";

/** Valid bodies the mutations start from. */
const SEEDS: readonly { path: "completions" | "chat"; body: object }[] = [
  {
    path: "completions",
    body: { model: "gpt2-tiny", prompt: "Hello", n: 2, max_tokens: 5, temperature: 0.7, top_p: 0.9, stop: ["\n"], seed: 3 },
  },
  { path: "completions", body: { model: "gpt2-tiny", prompt: ["Hi", "Yo"], stream: true, stream_options: { include_usage: true } } },
  { path: "completions", body: { model: "gpt2-tiny", prompt: [[1, 2, 3]], max_tokens: 60, logprobs: null, echo: false } },
  {
    path: "chat",
    body: {
      model: "gpt2-tiny",
      messages: [
        { role: "system", content: "Be brief." },
        { role: "user", content: [{ type: "text", text: "Hi" }] },
      ],
      max_completion_tokens: 4,
    },
  },
];

/** An accepted request must hold every value within the bounds generation relies on. */
function checkAccepted(req: ParsedRequest): void {
  const ok =
    Number.isInteger(req.n) &&
    req.n >= 1 &&
    req.n * req.prompts.length <= MAX_N &&
    req.temperature >= 0 &&
    req.temperature <= 2 &&
    req.top_p > 0 &&
    req.top_p <= 1 &&
    (req.max_tokens === null || (Number.isSafeInteger(req.max_tokens) && req.max_tokens >= 1)) &&
    req.stop.length <= 4 &&
    (req.seed === null || (Number.isSafeInteger(req.seed) && req.seed >= 0));
  if (!ok) throw new Error(`accepted out of bounds: ${JSON.stringify(req)}`);
}

/** A refusal must be a 400 (404: another model) whose message starts with the field it names. */
function checkRefusal(err: ApiError): void {
  if (err.status !== 400 && err.status !== 404) throw new Error(`status ${err.status} for a bad request: ${err.message}`);
  const field = err.param ?? "request body";
  if (!err.message.startsWith(field) && err.code !== "context_length_exceeded")
    throw new Error(`message does not start with its field ${field}: ${err.message}`);
}

export function serveRequestTarget(): FuzzTarget {
  return {
    name: "serve-request",
    covers: "parseJsonBody + parseCompletionRequest / parseChatRequest + prepareJob (src/serve/request.ts, engine.ts) on one body",
    ciRuns: 400,
    prepare: async () => {
      const model = tempDir("rrhf-fuzz-serve-");
      cpSync(fixture("models", "gpt2-tiny"), model, { recursive: true });
      const configPath = join(model, "tokenizer_config.json");
      writeFileSync(configPath, JSON.stringify({ ...(JSON.parse(readFileSync(configPath, "utf8")) as object), chat_template: TEMPLATE }));
      const served = await loadServedModel(model, undefined, { name: "gpt2-tiny", backend: "ref", threads: null });
      const arbitrary = fc.record({
        path: fc.constantFrom("completions" as const, "chat" as const),
        bytes: fc.oneof(
          { weight: 6, arbitrary: fc.constantFrom(...SEEDS).chain((s) => jsonFileBytes(s.body)) },
          { weight: 2, arbitrary: fc.constantFrom(...SEEDS).chain((s) => mutatedBytes(Buffer.from(JSON.stringify(s.body)))) },
          { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((v) => Buffer.from(JSON.stringify(v) ?? "null")) },
          { weight: 1, arbitrary: fc.uint8Array({ maxLength: 200 }) },
        ),
      });
      const handle = (path: "completions" | "chat", bytes: Uint8Array): void => {
        try {
          const body = parseJsonBody(bytes);
          const req = path === "completions" ? parseCompletionRequest(body, { maxN: MAX_N }) : parseChatRequest(body, { maxN: MAX_N });
          checkAccepted(req);
          prepareJob(served, req, 16);
        } catch (err) {
          if (err instanceof ApiError) checkRefusal(err);
          throw err;
        }
      };
      return {
        arbitrary,
        check: async ({ path, bytes }: { path: "completions" | "chat"; bytes: Uint8Array }) => {
          await expectCleanOutcome(
            () => handle(path, bytes),
            [
              "request body",
              "model",
              "prompt",
              "messages",
              "n",
              "max_tokens",
              "max_completion_tokens",
              "stop",
              "stream",
              "top_p",
              "temperature",
              "seed",
            ],
          );
        },
      } as PreparedTarget<unknown>;
    },
  };
}
