/**
 * Beam search and diverse (group) beam search as Hugging Face's
 * `BeamSearchScorer`: num_beams beams per prompt in num_beam_groups groups,
 * each group expanded in turn at every step from log-softmax scores plus
 * the processors (diversity_penalty × count of the token among earlier
 * groups' choices at this step, repetition_penalty, min_new_tokens), its
 * beams' summed scores added. The 2 × group size best candidates are read in
 * order: an EOS among the group size best finishes a hypothesis, scored
 * summed log-prob / generated length ** length_penalty (the EOS counted);
 * other candidates become the group's next beams. Each group keeps its best
 * group-size hypotheses; at the end the live beams join them and the best
 * num_return_sequences of all groups come back, best first.
 */
import { forbidTokens, logSoftmax, repetitionPenalty } from "./processors.js";
import type { GenerateRequest, Generation, OpenSession } from "./types.js";

interface Hypothesis {
  score: number;
  tokens: number[];
  finish: Generation["finish"];
}

/** HF's BeamHypotheses: the best `size` finished hypotheses of one group. */
class Hypotheses {
  readonly items: Hypothesis[] = [];
  worst = 1e9;
  done = false;

  constructor(
    private readonly size: number,
    private readonly lengthPenalty: number,
    private readonly earlyStopping: boolean,
  ) {}

  add(tokens: number[], sumLogprobs: number, length: number, finish: Generation["finish"]): void {
    const score = sumLogprobs / length ** this.lengthPenalty;
    if (this.items.length < this.size || score > this.worst) {
      this.items.push({ score, tokens, finish });
      if (this.items.length > this.size) {
        let worstAt = 0;
        for (let i = 1; i < this.items.length; i++) if (this.items[i].score < this.items[worstAt].score) worstAt = i;
        this.items.splice(worstAt, 1);
        this.worst = Math.min(...this.items.map((h) => h.score));
      } else this.worst = Math.min(score, this.worst);
    }
  }

  /** HF's is_done: full, and early stopping or no live beam can beat the worst kept one. */
  isDone(bestSumLogprobs: number, length: number): boolean {
    if (this.items.length < this.size) return false;
    if (this.earlyStopping) return true;
    return this.worst >= bestSumLogprobs / length ** this.lengthPenalty;
  }
}

/** Candidates of one group: its beams' scores plus the processed log-probs, best first (ties: lower index). */
function topCandidates(scores: Float64Array, count: number): number[] {
  const order = Array.from({ length: scores.length }, (_, i) => i).filter((i) => scores[i] > -Infinity);
  order.sort((a, b) => scores[b] - scores[a] || a - b);
  return order.slice(0, count);
}

/** Beam search (one group) or diverse beam search: [prompt][num_return_sequences], best first. */
export function beamResponses(open: OpenSession, prompts: readonly (readonly number[])[], req: GenerateRequest): Generation[][] {
  const s = req.settings;
  const nb = s.num_beams;
  const G = s.strategy === "diverse-beam" ? s.num_beam_groups : 1;
  const gs = nb / G;
  const eos = req.eosTokenIds;
  const session = open(prompts, nb, Math.max(1, s.max_new_tokens - 1));
  const V = session.vocabSize;
  const N = session.sequences;
  // Only the first beam of each group is live at the start (the others' copies would repeat it).
  const beamScores = Float64Array.from({ length: N }, (_, q) => (q % gs === 0 ? 0 : -1e9));
  let beamTokens: number[][] = Array.from({ length: N }, () => []);
  const hyps = prompts.map(() => Array.from({ length: G }, () => new Hypotheses(gs, s.length_penalty, s.early_stopping)));
  const keep = Math.max(2, 1 + eos.length) * gs;
  let logits = session.prefillLogits;
  for (let t = 0; t < s.max_new_tokens; t++) {
    const nextTokens = new Int32Array(N);
    const sources = Int32Array.from({ length: N }, (_, q) => q);
    const nextScores = Float64Array.from(beamScores);
    const nextBeamTokens = beamTokens.map((b) => b);
    for (let p = 0; p < prompts.length; p++) {
      const chosen: number[] = []; // tokens chosen by earlier groups of this prompt at this step
      for (let g = 0; g < G; g++) {
        const first = p * nb + g * gs;
        const groupHyps = hyps[p][g];
        if (groupHyps.done) continue; // its beams stay as they are; their steps no longer count
        const scores = new Float64Array(gs * V);
        for (let j = 0; j < gs; j++) {
          const q = first + j;
          const row = new Float64Array(logits.subarray(q * V, (q + 1) * V));
          logSoftmax(row);
          if (s.diversity_penalty > 0) for (const tok of chosen) row[tok] -= s.diversity_penalty;
          repetitionPenalty(row, [...prompts[p], ...beamTokens[q]], s.repetition_penalty);
          if (beamTokens[q].length < s.min_new_tokens) forbidTokens(row, eos);
          for (let i = 0; i < V; i++) scores[j * V + i] = row[i] + beamScores[q];
        }
        const candidates = topCandidates(scores, keep);
        let filled = 0;
        for (let rank = 0; rank < candidates.length && filled < gs; rank++) {
          const c = candidates[rank];
          const from = first + Math.floor(c / V);
          const token = c % V;
          if (eos.includes(token)) {
            if (rank < gs) groupHyps.add(beamTokens[from], scores[c], t + 1, "eos");
            continue;
          }
          const q = first + filled;
          nextScores[q] = scores[c];
          nextTokens[q] = token;
          sources[q] = from;
          nextBeamTokens[q] = [...beamTokens[from], token];
          filled++;
        }
        for (let j = 0; j < gs; j++) chosen.push(nextTokens[first + j]);
        groupHyps.done = groupHyps.isDone(Math.max(...candidates.map((c) => scores[c])), t + 1);
      }
    }
    beamScores.set(nextScores);
    beamTokens = nextBeamTokens;
    req.onTokens?.(N);
    if (t === s.max_new_tokens - 1 || hyps.every((groups) => groups.every((h) => h.done))) break;
    session.reorder(sources);
    logits = session.step(nextTokens);
  }
  return prompts.map((_, p) => finalize(hyps[p], beamScores, beamTokens, p * nb, gs, s.num_return_sequences));
}

/** The live beams of unfinished groups join their hypotheses; the best `n` of all groups, best first. */
function finalize(
  groups: Hypotheses[],
  beamScores: Float64Array,
  beamTokens: number[][],
  first: number,
  gs: number,
  n: number,
): Generation[] {
  groups.forEach((h, g) => {
    if (h.done) return;
    for (let j = 0; j < gs; j++) {
      const q = first + g * gs + j;
      h.add(beamTokens[q], beamScores[q], beamTokens[q].length, "length");
    }
  });
  const all = groups.flatMap((h) => h.items);
  all.sort((a, b) => b.score - a.score);
  return all.slice(0, n).map((h) => ({ tokens: h.tokens, finish: h.finish, score: h.score }));
}
