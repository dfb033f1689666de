/**
 * The file being labelled and what has been labelled in it. FILE keeps its
 * records line for line; a labelled record's `scores` are replaced by the
 * scores of its ranking (see ranking.ts), every other line is left byte for
 * byte. Which records are labelled, with their rankings, lives in a sidecar
 * `FILE.labels.json`, so a restart knows where to resume and can show the order
 * a person chose.
 *
 * Crash safety: a change writes the sidecar, then FILE, each by an atomic
 * rename, and only then is acknowledged. Killed between the two, the sidecar is
 * ahead; opening the store applies it to FILE again, so an acknowledged label
 * is never lost and FILE is always a complete version.
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { basename } from "node:path";
import { DataError, UserError } from "../../errors.js";
import { parseJsonLine } from "../../data/jsonl.js";
import type { ChatMessage } from "../../data/record.js";
import { checkRecord } from "../../data/schema.js";
import { writeFileAtomic } from "../../io/atomic.js";
import { type Ranking, rankingProblem, scoresFromRanking } from "./ranking.js";

/** One query as the page shows it. */
export interface LabelItem {
  /** 0-based record index. */
  index: number;
  /** 1-based line of FILE. */
  line: number;
  query: string | null;
  messages: ChatMessage[] | null;
  responses: string[];
  /** The policy's own scores (the --policy-scores field), or null. */
  policyScores: number[] | null;
}

/** A saved ranking with what it needs to be checked and undone. */
interface SavedLabel {
  ranking: Ranking;
  /** Hash of the query and responses: a label never lands on a record that changed. */
  fingerprint: string;
  /** The record's scores before labelling (null: it had none), restored when the label is cleared. */
  originalScores: number[] | null;
}

interface Sidecar {
  format: "rrhf-labels";
  version: 1;
  file: string;
  records: number;
  labels: Record<string, SavedLabel>;
}

/** Where the labels of `file` are kept. */
export function sidecarPath(file: string): string {
  return `${file}.labels.json`;
}

function fingerprintOf(raw: Record<string, unknown>): string {
  const text = JSON.stringify([raw.query ?? null, raw.messages ?? null, raw.responses]);
  return createHash("sha256").update(text).digest("hex").slice(0, 32);
}

function isNumberArray(value: unknown, length: number): value is number[] {
  return Array.isArray(value) && value.length === length && value.every((v) => typeof v === "number" && Number.isFinite(v));
}

/** One record of FILE: its line, its parsed object and its fingerprint. */
interface RecordLine {
  lineIndex: number;
  raw: Record<string, unknown>;
  fingerprint: string;
}

/** The labelling state of one JSONL file. Every change is on disk before the method returns. */
export class LabelStore {
  readonly items: LabelItem[] = [];
  private readonly lines: string[];
  private readonly records: RecordLine[] = [];
  private readonly labels = new Map<number, SavedLabel>();
  /** Labels cleared since opening, with the scores their records go back to (null: none). */
  private readonly cleared = new Map<number, number[] | null>();

  private constructor(
    readonly file: string,
    text: string,
    policyScoresField: string | null,
  ) {
    this.lines = text.split("\n");
    this.parse(policyScoresField);
  }

  /** Opens FILE (and its sidecar, if any); re-applies saved labels FILE lacks (a crash between the two writes). */
  static open(file: string, opts: { policyScoresField?: string | null } = {}): LabelStore {
    if (/\.(gz|parquet)$/i.test(file)) {
      throw new UserError(`${file}: rrhf label edits a plain JSONL file in place; convert it to .jsonl first`);
    }
    const store = new LabelStore(file, readFileSync(file, "utf8"), opts.policyScoresField ?? null);
    store.loadSidecar();
    if (store.records.some((_, i) => store.fileIsBehind(i))) store.writeFile();
    return store;
  }

  private parse(policyScoresField: string | null): void {
    const encoder = new TextEncoder();
    this.lines.forEach((text, lineIndex) => {
      if (/^[ \t\r]*$/.test(text)) return;
      const line = lineIndex + 1;
      const parsed = parseJsonLine(encoder.encode(text), this.file, line);
      if (parsed.error !== undefined) throw parsed.error;
      const check = checkRecord(parsed.value, this.file, line, { scoresOptional: true });
      if (check.record === null) throw check.problems[0] ?? new DataError(this.file, line, "-", "not an RRHF record");
      const raw = parsed.value;
      const k = check.record.responses.length;
      let policyScores: number[] | null = null;
      if (policyScoresField !== null && raw[policyScoresField] !== undefined) {
        const value = raw[policyScoresField];
        if (!isNumberArray(value, k)) throw new DataError(this.file, line, policyScoresField, `policy scores must be ${k} finite numbers`);
        policyScores = value;
      }
      this.items.push({
        index: this.records.length,
        line,
        query: check.record.query ?? null,
        messages: check.record.messages ?? null,
        responses: check.record.responses,
        policyScores,
      });
      this.records.push({ lineIndex, raw, fingerprint: fingerprintOf(raw) });
    });
    if (this.records.length === 0) throw new DataError(this.file, 1, "-", "no records to label");
  }

  private loadSidecar(): void {
    const path = sidecarPath(this.file);
    if (!existsSync(path)) return;
    let sidecar: unknown;
    try {
      sidecar = JSON.parse(readFileSync(path, "utf8"));
    } catch {
      throw new UserError(`${path}: not valid JSON; move it away to start labelling ${this.file} afresh`);
    }
    const labels = (sidecar as Partial<Sidecar> | null)?.labels;
    if ((sidecar as Partial<Sidecar> | null)?.format !== "rrhf-labels" || labels === null || typeof labels !== "object") {
      throw new UserError(`${path}: not an rrhf labels file (expected {"format": "rrhf-labels", "labels": {...}})`);
    }
    for (const [key, saved] of Object.entries(labels)) this.labels.set(this.checkSaved(path, key, saved), saved);
  }

  /** The record index of one saved label, after checking it fits the record it names. */
  private checkSaved(path: string, key: string, saved: SavedLabel): number {
    const index = Number(key);
    const record = Number.isInteger(index) ? this.records[index] : undefined;
    if (record === undefined)
      throw new UserError(`${path}: labels.${key}: no such record in ${this.file} (${this.records.length} records)`);
    const k = this.items[index].responses.length;
    const problem = rankingProblem(saved?.ranking, k);
    if (problem !== null) throw new UserError(`${path}: labels.${key}.ranking: ${problem}`);
    if (saved.originalScores !== null && !isNumberArray(saved.originalScores, k)) {
      throw new UserError(`${path}: labels.${key}.originalScores: expected null or ${k} numbers`);
    }
    if (saved.fingerprint !== record.fingerprint) {
      throw new UserError(
        `${path}: labels.${key}: record ${index + 1} (line ${record.lineIndex + 1}) of ${this.file} changed since it was labelled; ` +
          `move ${basename(path)} away to start over`,
      );
    }
    return index;
  }

  /** True when FILE's scores of record `index` are not those its saved label gives. */
  private fileIsBehind(index: number): boolean {
    const saved = this.labels.get(index);
    if (saved === undefined) return false;
    const want = scoresFromRanking(saved.ranking);
    const have = this.records[index].raw.scores;
    return !(Array.isArray(have) && have.length === want.length && have.every((s, i) => s === want[i]));
  }

  /** How many records there are. */
  get total(): number {
    return this.records.length;
  }

  /** How many records have a label. */
  get labelledCount(): number {
    return this.labels.size;
  }

  /** The index of the first record without a label (the total when every one has one). */
  firstUnlabelled(): number {
    for (let i = 0; i < this.records.length; i++) if (!this.labels.has(i)) return i;
    return this.records.length;
  }

  /** The ranking saved for record `index`, or null. */
  rankingOf(index: number): Ranking | null {
    return this.labels.get(index)?.ranking ?? null;
  }

  /** The scores record `index` has in FILE now (null when it has none). */
  scoresOf(index: number): number[] | null {
    const saved = this.labels.get(index);
    if (saved !== undefined) return scoresFromRanking(saved.ranking);
    const scores = this.records[index].raw.scores;
    return Array.isArray(scores) ? (scores as number[]) : null;
  }

  /** Saves a ranking of record `index` (checked by the caller with rankingProblem) to the sidecar and FILE. */
  setLabel(index: number, ranking: Ranking): void {
    const record = this.records[index];
    const before = this.labels.get(index);
    const originalScores = before?.originalScores ?? (isNumberArray(record.raw.scores, ranking.order.length) ? record.raw.scores : null);
    this.labels.set(index, {
      ranking: { order: [...ranking.order], ties: [...ranking.ties] },
      fingerprint: record.fingerprint,
      originalScores,
    });
    this.cleared.delete(index);
    this.save();
  }

  /** Removes the label of record `index`; its scores go back to what they were before labelling. */
  clearLabel(index: number): void {
    const saved = this.labels.get(index);
    if (saved === undefined) return;
    this.labels.delete(index);
    this.cleared.set(index, saved.originalScores);
    this.save();
  }

  private save(): void {
    const sidecar: Sidecar = {
      format: "rrhf-labels",
      version: 1,
      file: basename(this.file),
      records: this.records.length,
      labels: Object.fromEntries([...this.labels].sort((a, b) => a[0] - b[0]).map(([i, saved]) => [String(i), saved])),
    };
    writeFileAtomic(sidecarPath(this.file), `${JSON.stringify(sidecar, null, 1)}\n`);
    this.writeFile();
  }

  /** Rewrites FILE: labelled records with their ranking's scores, cleared ones with their first scores, the rest untouched. */
  private writeFile(): void {
    const lines = [...this.lines];
    this.records.forEach((record, index) => {
      const saved = this.labels.get(index);
      const original = lines[record.lineIndex];
      if (saved === undefined && !this.cleared.has(index)) return;
      const scores = saved !== undefined ? scoresFromRanking(saved.ranking) : (this.cleared.get(index) ?? null);
      const updated: Record<string, unknown> = { ...record.raw };
      if (scores === null) delete updated.scores;
      else updated.scores = scores;
      const bom = record.lineIndex === 0 && original.startsWith("\uFEFF") ? "\uFEFF" : "";
      lines[record.lineIndex] = `${bom}${JSON.stringify(updated)}${original.endsWith("\r") ? "\r" : ""}`;
    });
    writeFileAtomic(this.file, lines.join("\n"));
  }
}
