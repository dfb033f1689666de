/** The work behind `rrhf sample`, loaded only when that command runs. */
import { existsSync, openSync, closeSync, fsyncSync, readFileSync, truncateSync, writeSync } from "node:fs";
import { inputFormatOf, locationUnitOf, readSourceObjects, type InputFormat } from "../../data/source.js";
import { checkMessages, type Place } from "../../data/messages.js";
import type { ChatMessage } from "../../data/record.js";
import { DataError, UserError, userErrorFromFs } from "../../errors.js";
import { generate, eosTokenIdsOf } from "../../generate/generate.js";
import { promptTokenIds } from "../../generate/prompt.js";
import { checkGenerateSettings } from "../../generate/settings.js";
import { cutAtStop } from "../../generate/types.js";
import { getBackend } from "../../kernels/select.js";
import { loadCausalLM } from "../../models/registry.js";
import { loadTokenizer, type RrhfTokenizer } from "../../tokenize/tokenizer.js";
import { requireChatTemplate } from "../../train/run-data.js";
import type { CliIo } from "../io.js";
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

function promptIds(tok: RrhfTokenizer, p: PromptLine, chatTemplate: boolean, file: string): number[] {
  return promptTokenIds(tok, p.prompt, chatTemplate, `${file}:${p.line}`);
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

/** Runs `rrhf sample` with resolved settings: batches of prompts, decoded and appended one batch at a time. */
export async function runSample(run: SampleRun, io: CliIo): Promise<void> {
  const s = run.settings;
  checkGenerateSettings(s); // before any file is read or written
  const model = loadCausalLM(run.model, { backend: getBackend(s.backend, s.threads === null ? {} : { threads: s.threads }) });
  const tokenizerDir = run.tokenizer ?? run.model;
  const tok = await loadTokenizer(tokenizerDir);
  if (s.chat_template) requireChatTemplate(tok, tokenizerDir);
  const eosTokenIds = eosTokenIdsOf(run.model, model.config.eosTokenIds);
  const stopStrings = s.stop === null ? [] : [s.stop];
  const stop = stopStrings.length > 0 ? { strings: stopStrings, decode: (ids: number[]) => tok.decode(ids) } : null;
  const done = resumePoint(run.out);
  if (done.length > 0) io.stderr(`rrhf: sample: ${run.out} holds ${done.length} prompts already; resuming after them\n`);
  const started = Date.now();
  let index = 0;
  let written = 0;
  let tokens = 0;
  let batch: PromptLine[] = [];
  const flush = () => {
    if (batch.length === 0) return;
    const first = index - batch.length;
    const prompts = batch.map((p) => promptIds(tok, p, s.chat_template, run.prompts));
    // A seed per batch start: a resumed run draws what the uninterrupted one would have for the same batches.
    const settings = { ...s, seed: s.seed + first };
    const out = generate(model, prompts, {
      settings,
      eosTokenIds,
      stop,
      onTokens: (n) => {
        tokens += n;
      },
    });
    const lines = batch.map((p, i) => {
      const sampled = out[i].map((g) => cutAtStop(tok.decode(g.tokens), stopStrings));
      return `${JSON.stringify({ ...p.prompt, responses: run.keepProvided ? [...sampled, ...p.provided] : sampled })}\n`;
    });
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
    if (batch.length === s.prompts_per_batch) flush();
  }
  flush();
  if (done.length > index) throw new UserError(`${run.out} holds ${done.length} lines, more than the ${index} prompts of ${run.prompts}`);
  if (written === 0) io.stderr(`rrhf: sample: nothing to do; ${run.out} already answers every prompt\n`);
}
