/** The work behind `rrhf sample`, loaded only when that command runs. */
import { existsSync, openSync, closeSync, fsyncSync, readFileSync, truncateSync, writeSync } from "node:fs";
import { inputFormatOf, locationUnitOf, readSourceObjects, type InputFormat } from "../../data/source.js";
import { checkMessages, type Place } from "../../data/messages.js";
import type { ChatMessage } from "../../data/record.js";
import { DataError, UserError, userErrorFromFs } from "../../errors.js";
import { checkGenerateSettings } from "../../generate/settings.js";
import type { CliIo } from "../io.js";
import { endpointResponder, localResponder, type Responder } from "./sample-responders.js";
import type { SampleRun } from "./sample-settings.js";

/** One prompt line: its prompt and the responses it provides (kept with --keep-provided). */
interface PromptLine {
  line: number;
  prompt: { query: string } | { messages: ChatMessage[] };
  provided: string[];
}

function stringsAt(value: Record<string, unknown>, key: string, place: Place): string[] | null {
  const v = value[key];
  if (v === undefined) return null;
  if (typeof v === "string") return [v];
  if (Array.isArray(v) && v.every((x) => typeof x === "string")) return v as string[];
  throw new DataError(place.file, place.line, key, "must be a string or a list of strings", place.unit);
}

/** Reads the prompts file (JSONL, .jsonl.gz or Parquet): `query` or `messages`, optional `responses` or `chosen`/`rejected`. */
async function* readPrompts(file: string, format: InputFormat | null): AsyncGenerator<PromptLine> {
  const unit = locationUnitOf(inputFormatOf(file, format ?? undefined));
  for await (const entry of readSourceObjects(file, format === null ? {} : { format })) {
    if (entry.error) throw entry.error;
    const { line, value } = entry;
    const place: Place = { file, line, unit };
    let prompt: PromptLine["prompt"];
    if (typeof value.query === "string") prompt = { query: value.query };
    else if (value.messages !== undefined) {
      const { messages, problems } = checkMessages(value.messages, place);
      if (problems.length > 0 || messages === null) {
        throw problems[0] ?? new DataError(file, line, "messages", "is not a conversation", unit);
      }
      prompt = { messages };
    } else throw new DataError(file, line, "query", "a prompt needs a query string (or messages)", unit);
    const responses = stringsAt(value, "responses", place);
    const paired = [...(stringsAt(value, "chosen", place) ?? []), ...(stringsAt(value, "rejected", place) ?? [])];
    yield { line, prompt, provided: responses ?? paired };
  }
}

/**
 * Complete lines already in `out` (a rerun resumes after them); a partial
 * last line (an interrupted write) is cut off. Returns their prompts' keys.
 */
function resumePoint(out: string): string[] {
  if (!existsSync(out)) return [];
  const text = readFileSync(out, "utf8");
  const end = text.lastIndexOf("\n") + 1;
  if (end < text.length) truncateSync(out, Buffer.byteLength(text.slice(0, end)));
  return text
    .slice(0, end)
    .split("\n")
    .filter((l) => l.length > 0)
    .map((l, i) => {
      try {
        const v = JSON.parse(l) as Record<string, unknown>;
        return JSON.stringify(v.query ?? v.messages);
      } catch {
        throw new UserError(`${out}:${i + 1}: not a JSON line; not an output of rrhf sample (delete it or choose another --out)`);
      }
    });
}

/** Appends complete lines to `out` in one write and makes them durable. */
function appendLines(out: string, text: string): void {
  let fd: number;
  try {
    fd = openSync(out, "a");
  } catch (err) {
    throw userErrorFromFs(err, out) ?? err;
  }
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** The responders of a run: each local model in order (pooled), or the endpoint. */
async function respondersOf(run: SampleRun): Promise<Responder[]> {
  const s = run.settings;
  if (s.endpoint !== null) {
    if (run.models.length > 0) throw new UserError("--endpoint and --model exclude each other: sample from a server or from local models");
    return [endpointResponder(s)];
  }
  if (run.models.length === 0) throw new UserError("rrhf sample needs --model DIR (repeat it to pool several models) or --endpoint URL");
  if (s.endpoint_model !== null || s.api_key_env !== null) throw new UserError("--endpoint-model and --api-key-env go with --endpoint");
  const responders: Responder[] = [];
  for (const dir of run.models) responders.push(await localResponder(dir, run.tokenizer, s));
  return responders;
}

/** Runs `rrhf sample` with resolved settings: batches of prompts, answered and appended one batch at a time. */
export async function runSample(run: SampleRun, io: CliIo): Promise<void> {
  const s = run.settings;
  checkGenerateSettings(s); // before any file is read or written
  const responders = await respondersOf(run);
  const batchSize = s.endpoint === null ? s.prompts_per_batch : Math.max(s.prompts_per_batch, s.concurrency);
  const done = resumePoint(run.out);
  if (done.length > 0) io.stderr(`rrhf: sample: ${run.out} holds ${done.length} prompts already; resuming after them\n`);
  const started = Date.now();
  let index = 0;
  let written = 0;
  let tokens = 0;
  let batch: PromptLine[] = [];
  const onTokens = (n: number): void => {
    tokens += n;
  };
  const flush = async (): Promise<void> => {
    if (batch.length === 0) return;
    const first = index - batch.length;
    const prompts = batch.map((p) => ({ prompt: p.prompt, name: `${run.prompts}:${p.line}` }));
    const pooled: string[][] = batch.map(() => []);
    // Pooled models answer in model order: k responses each.
    for (const responder of responders) {
      const answers = await responder.respond(prompts, first, onTokens);
      answers.forEach((a, i) => {
        pooled[i].push(...a);
      });
    }
    const lines = batch.map(
      (p, i) => `${JSON.stringify({ ...p.prompt, responses: run.keepProvided ? [...pooled[i], ...p.provided] : pooled[i] })}\n`,
    );
    appendLines(run.out, lines.join(""));
    written += batch.length;
    batch = [];
    const seconds = (Date.now() - started) / 1000;
    io.stderr(
      `rrhf: sample: ${done.length + written} prompts written, ${tokens} tokens, ${(tokens / Math.max(seconds, 1e-3)).toFixed(1)} tokens/s\n`,
    );
  };
  for await (const p of readPrompts(run.prompts, s.data_format)) {
    if (index < done.length) {
      if (done[index] !== JSON.stringify("query" in p.prompt ? p.prompt.query : p.prompt.messages)) {
        throw new UserError(
          `${run.out}: line ${index + 1} does not answer ${run.prompts}:${p.line}; it was written from other prompts (delete it or choose another --out)`,
        );
      }
      index++;
      continue;
    }
    batch.push(p);
    index++;
    if (batch.length === batchSize) await flush();
  }
  await flush();
  if (done.length > index) throw new UserError(`${run.out} holds ${done.length} lines, more than the ${index} prompts of ${run.prompts}`);
  if (written === 0) io.stderr(`rrhf: sample: nothing to do; ${run.out} already answers every prompt\n`);
}
