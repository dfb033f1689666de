/**
 * One training example: a prompt with k >= 2 candidate responses and their
 * scores (higher is better). This is the in-memory form of one JSONL line.
 * The prompt is either plain text (`query`) or a conversation (`messages`,
 * OpenAI form, ending with the user turn the responses answer); a record has
 * exactly one of the two. A conversation is rendered by the tokenizer's chat
 * template when encoded, never flattened into text here.
 *
 * @example
 * const r: RrhfRecord = { query: "\n\nHuman: Hi\n\nAssistant:", responses: [" Hello!", " Go away."], scores: [1, 0] };
 * const c: RrhfRecord = { messages: [{ role: "user", content: "Hi" }], responses: ["Hello!", "Go away."], scores: [1, 0] };
 */
export type RrhfRecord = TextRecord | ChatRecord;

/** The roles a message may have. */
export const CHAT_ROLES = ["system", "user", "assistant"] as const;
/**
 * One of {@link CHAT_ROLES}: `system` (first only), `user`, `assistant`.
 *
 * @example
 * const role: ChatRole = "assistant";
 */
export type ChatRole = (typeof CHAT_ROLES)[number];

/**
 * One chat message, as chat templates expect it.
 *
 * @example
 * const messages: ChatMessage[] = [{ role: "system", content: "Be brief." }, { role: "user", content: "Hi!" }];
 * const rendered = renderChatMessages(tok, messages);
 */
export interface ChatMessage {
  role: ChatRole;
  content: string;
}

/** The responses and their scores, shared by both record kinds. */
export interface RankedResponses {
  responses: string[];
  scores: number[];
}

/**
 * A record whose prompt is plain text.
 *
 * @example
 * const r: TextRecord = { query: "Name a fruit.", responses: [" An apple.", " A chair."], scores: [1, 0] };
 */
export interface TextRecord extends RankedResponses {
  query: string;
  messages?: undefined;
}

/**
 * A record whose prompt is a conversation (system?, user, assistant, ..., user).
 *
 * @example
 * const r: ChatRecord = { messages: [{ role: "user", content: "Hi!" }], responses: ["Hello.", "Go away."], scores: [1, 0] };
 */
export interface ChatRecord extends RankedResponses {
  messages: ChatMessage[];
  query?: undefined;
}
