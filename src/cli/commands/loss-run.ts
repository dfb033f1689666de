/** The work behind `rrhf loss`, loaded only when that command runs. */
import { readRecords } from "../../data/reader.js";
import { UserError } from "../../errors.js";
import { getBackend } from "../../kernels/select.js";
import type { CausalLM } from "../../models/causal-lm.js";
import { loadCausalLM } from "../../models/registry.js";
import { rrhfLoss } from "../../rrhf/loss.js";
import { collate } from "../../tokenize/collate.js";
import { encodeRecord } from "../../tokenize/encode.js";
import { emptyReport, formatTruncationReport, mergeReports } from "../../tokenize/report.js";
import { loadTokenizer, type RrhfTokenizer } from "../../tokenize/tokenizer.js";
import { clampModelMaxLength } from "../../tokenize/settings.js";
import { padIdOf, requireChatTemplate } from "../../train/run-data.js";
import type { CliIo } from "../io.js";
import type { LossCommandSettings, LossRun, QueryLoss } from "./loss-settings.js";

/** The loss of one record: encode, collate, forward without gradients, RRHF loss. */
function queryLoss(
  model: CausalLM,
  tok: RrhfTokenizer,
  settings: LossCommandSettings,
  line: number,
  enc: ReturnType<typeof encodeRecord>,
  k: number,
): QueryLoss {
  const scores: (number | null)[] = new Array<number | null>(k).fill(null);
  if (enc.responses.length === 0) return { line, scores, rrhf_loss: null, sft_loss: null, loss: null };
  const batch = collate([enc], { padTokenId: padIdOf(tok) });
  const pass = model.forward(batch, { grad: false, layout: settings.layout });
  try {
    const result = rrhfLoss(pass.tokenLogps, batch, settings);
    for (let r = 0; r < batch.rows; r++) scores[batch.responseIndex[r]] = result.policyScores[r];
    return { line, scores, rrhf_loss: result.rankLoss, sft_loss: result.sftLoss, loss: result.loss };
  } finally {
    pass.release();
  }
}

function fmt(x: number | null, digits = 4): string {
  return x === null ? "-" : x.toFixed(digits);
}

/** Runs `rrhf loss` with resolved settings: streams the data file, one query in memory at a time. */
export async function runLoss(flags: LossRun, io: CliIo): Promise<void> {
  const s = flags.settings;
  const backend = getBackend(s.backend, s.threads === null ? {} : { threads: s.threads });
  const model = loadCausalLM(flags.model, { backend });
  const tokenizerDir = flags.tokenizer ?? flags.model;
  const tok = await loadTokenizer(tokenizerDir);
  if (s.chat_template) requireChatTemplate(tok, tokenizerDir);
  // As rrhf train: the budget is model_max_length (default 512), clamped to the model's positions.
  const { maxLength, note } = clampModelMaxLength(s.model_max_length, model.config.maxPositions);
  if (note !== null) io.stderr(`rrhf: note: ${note}\n`);
  const report = emptyReport();
  let queries = 0;
  let scored = 0;
  const sums = { rrhf: 0, sft: 0, loss: 0 };
  if (!flags.json)
    io.stdout(
      `${"line".padStart(6)}  ${"k".padStart(3)}  ${"rrhf_loss".padStart(10)}  ${"sft_loss".padStart(10)}  ${"loss".padStart(10)}  scores\n`,
    );
  for await (const { line, record } of readRecords(flags.data, { format: s.data_format ?? undefined })) {
    const enc = encodeRecord(tok, record, {
      compat: s.compat,
      maxLength,
      maxQueryShare: s.max_query_share,
      chatTemplate: s.chat_template,
      strict: s.strict,
      name: `${flags.data}:${line}`,
    });
    mergeReports(report, enc.report);
    const q = queryLoss(model, tok, s, line, enc, record.responses.length);
    queries++;
    if (q.loss !== null && q.rrhf_loss !== null && q.sft_loss !== null) {
      scored++;
      sums.rrhf += q.rrhf_loss;
      sums.sft += q.sft_loss;
      sums.loss += q.loss;
    }
    if (flags.json) io.stdout(`${JSON.stringify(q)}\n`);
    else {
      const scores = q.scores.map((s) => fmt(s, 3)).join(" ");
      io.stdout(
        `${String(line).padStart(6)}  ${String(q.scores.length).padStart(3)}  ${fmt(q.rrhf_loss).padStart(10)}  ${fmt(q.sft_loss).padStart(10)}  ${fmt(q.loss).padStart(10)}  ${scores}\n`,
      );
    }
  }
  if (queries === 0) throw new UserError(`${flags.data}: no records`);
  if (!flags.json && scored > 0) {
    io.stdout(
      `${"mean".padStart(6)}  ${"".padStart(3)}  ${fmt(sums.rrhf / scored).padStart(10)}  ${fmt(sums.sft / scored).padStart(10)}  ${fmt(sums.loss / scored).padStart(10)}  (${scored} of ${queries} queries)\n`,
    );
  }
  const warning = formatTruncationReport(report, maxLength);
  if (warning !== null) io.stderr(`rrhf: warning: ${warning}\n`);
  if (scored < queries) io.stderr(`rrhf: warning: ${queries - scored} of ${queries} queries had no response left to score\n`);
}
