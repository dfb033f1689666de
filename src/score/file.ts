/**
 * Scoring a data file: every record of IN gets `scores` from a scorer and is
 * written to OUT, in order, other keys kept (`answer`, ids, ...). Streaming
 * (one batch of records in memory) and resumable: lines go to `OUT.partial`
 * as each batch is scored, whole lines only, and `OUT.partial` is renamed to
 * OUT when every record is done. A rerun keeps the complete lines of
 * `OUT.partial` (or of a finished OUT), checks they are the same records as
 * IN's first ones, and scores only the rest.
 */
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { UserError } from "../errors.js";
import { writeAllSync } from "../io/atomic.js";
import { checkRecord } from "../data/schema.js";
import { inputFormatOf, locationUnitOf, readSourceObjects, type InputFormat } from "../data/source.js";
import type { ScoreItem, Scorer } from "./scorer.js";

/**
 * Options of {@link scoreFile}.
 *
 * @example
 * const opts: ScoreFileOptions = { batchSize: 16, onProgress: (p) => console.error(`${p.records} records`) };
 */
export interface ScoreFileOptions {
  /** Records per scorer call. */
  batchSize: number;
  /** Input format (default: by extension). */
  format?: InputFormat;
  /** Called after each batch with the running totals. */
  onProgress?: (progress: ScoreProgress) => void;
}

/**
 * Running totals of a {@link scoreFile} run.
 *
 * @example
 * const done: ScoreProgress = { records: 10, responses: 40, resumed: 4 };
 */
export interface ScoreProgress {
  /** Records written to OUT so far, the resumed ones included. */
  records: number;
  /** Responses scored in this run. */
  responses: number;
  /** Records kept from an earlier run (not scored again). */
  resumed: number;
}

interface PendingRecord {
  raw: Record<string, unknown>;
  item: ScoreItem;
}

/** The complete lines of an earlier run's output (a half-written last line is dropped). */
function completedLines(out: string, partial: string): string[] {
  const source = existsSync(partial) ? partial : existsSync(out) ? out : null;
  if (source === null) return [];
  const text = readFileSync(source, "utf8");
  const end = text.lastIndexOf("\n");
  return end < 0 ? [] : text.slice(0, end).split("\n");
}

/** A record's identity for resuming: its prompt and responses. */
function identity(raw: Record<string, unknown>): string {
  return JSON.stringify([raw.query ?? null, raw.messages ?? null, raw.responses ?? null]);
}

/** The identity of a line kept from an earlier run; a line that is not a JSON object is an error naming it. */
function keptIdentity(line: string, output: string, index: number): string {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    value = null;
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new UserError(
      `${output}: line ${index + 1} is not a JSON record: not an output of rrhf score (remove it or choose another --out)`,
    );
  }
  return identity(value as Record<string, unknown>);
}

function itemOf(raw: Record<string, unknown>, item: { query?: string; messages?: ScoreItem["messages"]; responses: string[] }): ScoreItem {
  const answer = raw.answer;
  return {
    ...(item.messages !== undefined ? { messages: item.messages } : { query: item.query }),
    responses: item.responses,
    ...(answer === undefined || answer === null ? {} : { answer: typeof answer === "string" ? answer : JSON.stringify(answer) }),
  };
}

/**
 * Scores every record of `input` with `scorer` into `output` (see above).
 * Returns the final totals.
 *
 * @example
 * const scorer = await createScorer("rule:length");
 * await scoreFile("tests/fixtures/score/prompts.jsonl", "runs/scored.jsonl", scorer, { batchSize: 8 });
 * await scorer.close();
 */
export async function scoreFile(input: string, output: string, scorer: Scorer, opts: ScoreFileOptions): Promise<ScoreProgress> {
  if (!existsSync(input)) throw new UserError(`${input}: file not found`);
  // Parents are created as `mkdir -p` would (a new `runs/scored.jsonl` needs `runs/`).
  mkdirSync(dirname(output), { recursive: true });
  const partial = `${output}.partial`;
  // A finished OUT is copied to OUT.partial to resume from; that copy goes again if OUT proves to be other data.
  const copiedFromOutput = !existsSync(partial) && existsSync(output);
  const startedFresh = !existsSync(partial) && !existsSync(output);
  const kept = completedLines(output, partial);
  // Keep exactly the complete lines: a half line from a killed run goes.
  writeFileSync(partial, kept.length === 0 ? "" : `${kept.join("\n")}\n`);
  const fd = openSync(partial, "a");
  const progress: ScoreProgress = { records: 0, responses: 0, resumed: kept.length };
  const unit = locationUnitOf(inputFormatOf(input, opts.format));
  let batch: PendingRecord[] = [];
  const flush = async (): Promise<void> => {
    if (batch.length === 0) return;
    const scores = await scorer.score(batch.map((p) => p.item));
    const text = batch.map((p, i) => `${JSON.stringify({ ...p.raw, scores: scores[i] })}\n`).join("");
    writeAllSync(fd, Buffer.from(text, "utf8"));
    progress.records += batch.length;
    progress.responses += batch.reduce((n, p) => n + p.item.responses.length, 0);
    batch = [];
    opts.onProgress?.({ ...progress });
  };
  try {
    for await (const entry of readSourceObjects(input, opts.format === undefined ? {} : { format: opts.format })) {
      if (entry.error !== undefined) throw entry.error;
      const check = checkRecord(entry.value, input, entry.line, { minResponses: 1, scoresOptional: true, unit });
      if (check.record === null) throw check.problems[0];
      const index = progress.records + batch.length;
      if (index < kept.length) {
        if (keptIdentity(kept[index], output, index) !== identity(entry.value)) {
          throw new UserError(
            `${output}: line ${index + 1} is not ${input}'s record ${entry.line}: an output of other data (remove it or choose another --out)`,
          );
        }
        progress.records++;
        continue;
      }
      batch.push({ raw: entry.value, item: itemOf(entry.value, check.record) });
      if (batch.length >= opts.batchSize) await flush();
    }
    await flush();
    if (progress.records < kept.length) {
      throw new UserError(
        `${output}: has ${kept.length} records but ${input} only ${progress.records}: an output of other data (remove it or choose another --out)`,
      );
    }
    fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    // Nothing finished to resume from: a failed first run leaves no file behind.
    if (copiedFromOutput || (startedFresh && progress.records === 0)) rmSync(partial, { force: true });
    throw err;
  }
  closeSync(fd);
  renameSync(partial, output);
  rmSync(partial, { force: true });
  return progress;
}
