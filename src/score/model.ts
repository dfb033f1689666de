/**
 * The reward-model scorer (`model:DIR`): a Hugging Face
 * `*ForSequenceClassification` folder with its tokenizer. Each response is
 * scored on the query followed by the response, tokenised by the reward
 * model's own tokenizer with its special tokens — or, with `chat_template`,
 * the query rendered through the tokenizer's chat template (generation
 * prompt added) followed by the response. A conversation record is always
 * rendered through the template.
 */
import { UserError } from "../errors.js";
import { loadRewardModel, type RewardModelOptions } from "../models/reward-model.js";
import { renderChatMessages, renderChatQuery } from "../tokenize/chat-template.js";
import { loadTokenizer, type RrhfTokenizer } from "../tokenize/tokenizer.js";
import type { ScoreItem, Scorer } from "./scorer.js";

/** Options of the reward-model scorer. */
export interface ModelScorerOptions extends RewardModelOptions {
  /** Render plain-text queries through the chat template (default false). */
  chatTemplate?: boolean;
  /** Tokenizer folder (default: the model folder). */
  tokenizer?: string;
}

/** The token ids the reward model reads for one response. */
export function rewardInputIds(tok: RrhfTokenizer, item: ScoreItem, response: string, chatTemplate: boolean): number[] {
  if (item.messages !== undefined || chatTemplate) {
    const rendered = item.messages !== undefined ? renderChatMessages(tok, item.messages) : renderChatQuery(tok, item.query ?? "");
    return tok.encode(rendered.text + response, { addSpecialTokens: !rendered.hasBos });
  }
  return tok.encode((item.query ?? "") + response);
}

function nonEmpty(ids: number[], response: string): number[] {
  if (ids.length === 0)
    throw new UserError(
      `reward model: its tokenizer turned the prompt and response ${JSON.stringify(response.slice(0, 60))} into no tokens`,
    );
  return ids;
}

/**
 * A scorer backed by a reward-model folder.
 *
 * @example
 * const scorer = await createModelScorer("tests/fixtures/reward-models/gpt2-rm");
 * await scorer.score([{ query: "Hi", responses: [" there", " you"] }]);
 */
export async function createModelScorer(dir: string, opts: ModelScorerOptions = {}): Promise<Scorer> {
  const model = loadRewardModel(dir, opts);
  const tok = await loadTokenizer(opts.tokenizer ?? dir);
  const chat = opts.chatTemplate ?? false;
  return {
    spec: `model:${dir}`,
    score: (items) => {
      const sequences = items.flatMap((item) => item.responses.map((r) => nonEmpty(rewardInputIds(tok, item, r, chat), r)));
      const rewards = model.rewards(sequences);
      let at = 0;
      return Promise.resolve(items.map((item) => item.responses.map(() => rewards[at++])));
    },
    close: () => Promise.resolve(),
  };
}
