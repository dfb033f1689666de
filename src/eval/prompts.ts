/**
 * Prompts to evaluate on (and to sample from in `rrhf iterate`): one
 * `{query}` or `{messages}` object per line, optionally with an `answer`
 * (what `rule:exact` compares with); other keys are ignored. Encoded
 * exactly as training encodes a query.
 */
import { checkMessages, type Place } from "../data/messages.js";
import type { ChatMessage, RrhfRecord } from "../data/record.js";
import { inputFormatOf, locationUnitOf, readSourceObjects, type InputFormat } from "../data/source.js";
import { DataError, UserError } from "../errors.js";
import type { ScoreItem } from "../score/scorer.js";
import { encodeRecord } from "../tokenize/encode.js";
import type { RrhfTokenizer } from "../tokenize/tokenizer.js";

/** One prompt of a prompts file. */
export interface PromptRecord {
  /** 1-based line (or row) in the file. */
  line: number;
  prompt: { query: string } | { messages: ChatMessage[] };
  /** The record's `answer`, as text, when it has one. */
  answer?: string;
}

/** Reads every prompt of `file` (JSONL, .jsonl.gz or Parquet); throws the first bad line as a DataError. */
export async function readPromptRecords(file: string, format: InputFormat | null = null): Promise<PromptRecord[]> {
  const unit = locationUnitOf(inputFormatOf(file, format ?? undefined));
  const out: PromptRecord[] = [];
  for await (const entry of readSourceObjects(file, format === null ? {} : { format })) {
    if (entry.error) throw entry.error;
    const { line, value } = entry;
    const place: Place = { file, line, unit };
    let prompt: PromptRecord["prompt"];
    if (typeof value.query === "string") prompt = { query: value.query };
    else if (value.messages !== undefined) {
      const { messages, problems } = checkMessages(value.messages, place);
      if (problems.length > 0 || messages === null)
        throw problems[0] ?? new DataError(file, line, "messages", "is not a conversation", unit);
      prompt = { messages };
    } else throw new DataError(file, line, "query", "a prompt needs a query string (or messages)", unit);
    const answer = value.answer;
    const record: PromptRecord = { line, prompt };
    if (answer !== undefined && answer !== null) record.answer = typeof answer === "string" ? answer : JSON.stringify(answer);
    out.push(record);
  }
  if (out.length === 0) throw new UserError(`${file}: no prompts`);
  return out;
}

/** The prompt's ids exactly as training encodes the query (no truncation); a BOS (else EOS) stands in for an empty one. */
export function promptTokenIds(tok: RrhfTokenizer, p: PromptRecord, chatTemplate: boolean, file: string): number[] {
  const record = { ...p.prompt, responses: [], scores: [] } as RrhfRecord;
  const ids = encodeRecord(tok, record, { maxLength: null, chatTemplate, name: `${file}:${p.line}` }).query_ids;
  if (ids.length > 0) return ids;
  const start = tok.special.bos_token_id ?? tok.special.eos_token_id;
  if (start === null || start === undefined)
    throw new UserError(`${file}:${p.line}: empty prompt and the tokenizer has no BOS or EOS token to start from`);
  return [start];
}

/** The scorer's item for a prompt and its responses. */
export function scoreItemOf(p: PromptRecord, responses: string[]): ScoreItem {
  return { ...p.prompt, responses, ...(p.answer === undefined ? {} : { answer: p.answer }) };
}
