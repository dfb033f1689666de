/**
 * Rendering a query through the tokenizer's chat template (`chat_template` in
 * tokenizer_config.json) with `@huggingface/jinja`.
 *
 * How a plain-text query becomes messages ({@link queryToMessages}):
 * - An Anthropic HH transcript (`"\n\nHuman: ...\n\nAssistant: ...\n\nHuman: ...\n\nAssistant:"`)
 *   becomes alternating `user` / `assistant` messages, each trimmed. The
 *   final empty `Assistant:` turn is the place the response goes, so it is
 *   dropped and the template's generation prompt stands in for it. Text before
 *   the first `Human:` (rare) becomes a `system` message.
 * - Any other text is one `user` message (trimmed).
 *
 * @example
 * const { text } = renderChatQuery(tok, "\n\nHuman: Hi\n\nAssistant:");
 */
import { Template } from "@huggingface/jinja";
import type { ChatMessage } from "../data/record.js";
import { UserError } from "../errors.js";
import type { RrhfTokenizer } from "./tokenizer.js";

export type { ChatMessage } from "../data/record.js";

const HH_TURN = /\n\n(Human|Assistant):/g;

/** True when `query` looks like an HH transcript (starts a `Human:` turn). */
export function isHhTranscript(query: string): boolean {
  return /^\s*Human:/.test(query) || query.includes("\n\nHuman:");
}

/**
 * Parses an HH transcript into messages (see the module comment).
 * @example
 * hhToMessages("\n\nHuman: Hi\n\nAssistant: Hello\n\nHuman: Bye\n\nAssistant:");
 * // [{role:"user",content:"Hi"},{role:"assistant",content:"Hello"},{role:"user",content:"Bye"}]
 */
export function hhToMessages(transcript: string): ChatMessage[] {
  // A transcript may start with "Human:" without the blank line.
  const text = /^Human:/.test(transcript) ? `\n\n${transcript}` : transcript;
  const messages: ChatMessage[] = [];
  const marks = [...text.matchAll(HH_TURN)];
  const preamble = text.slice(0, marks[0]?.index ?? text.length).trim();
  if (preamble !== "") messages.push({ role: "system", content: preamble });
  marks.forEach((m, i) => {
    const start = (m.index ?? 0) + m[0].length;
    const end = marks[i + 1]?.index ?? text.length;
    messages.push({ role: m[1] === "Human" ? "user" : "assistant", content: text.slice(start, end).trim() });
  });
  const last = messages[messages.length - 1];
  if (last !== undefined && last.role === "assistant" && last.content === "") messages.pop();
  return messages;
}

/** Maps a query to chat messages: HH transcripts turn by turn, anything else as one user message. */
export function queryToMessages(query: string): ChatMessage[] {
  return isHhTranscript(query) ? hhToMessages(query) : [{ role: "user", content: query.trim() }];
}

/**
 * A rendered query and whether the template wrote the BOS text itself.
 *
 * @example
 * const { text, hasBos } = renderChatQuery(tok, "\n\nHuman: Hi\n\nAssistant:");
 * const ids = tok.encode(text, { addSpecialTokens: !hasBos }); // never a second BOS
 */
export interface RenderedQuery {
  text: string;
  /** True when the rendered text contains the BOS token's text: then encode it without special tokens (no double BOS). */
  hasBos: boolean;
}

/**
 * Renders `query` through a chat template with `add_generation_prompt: true`.
 * `templateSource` overrides the tokenizer's own `chat_template`.
 */
export function renderChatQuery(tok: RrhfTokenizer, query: string, templateSource?: string): RenderedQuery {
  return renderChatMessages(tok, queryToMessages(query), templateSource);
}

/**
 * Renders a conversation (a record's `messages`, ending with a user turn)
 * through a chat template with `add_generation_prompt: true`.
 *
 * @example
 * const rendered = renderChatMessages(tok, [
 *   { role: "system", content: "Be brief." },
 *   { role: "user", content: "Hi!" },
 * ]); // rendered.text ends with the template's generation prompt
 */
export function renderChatMessages(tok: RrhfTokenizer, messages: ChatMessage[], templateSource?: string): RenderedQuery {
  const source = templateSource ?? tok.chatTemplate;
  if (source === null) {
    throw new UserError("chat template requested, but tokenizer_config.json has no chat_template");
  }
  let template: Template;
  try {
    template = new Template(source);
  } catch (err) {
    throw new UserError(`chat_template: cannot parse the template (${(err as Error).message})`);
  }
  let text: string;
  try {
    text = template.render({
      messages,
      add_generation_prompt: true,
      bos_token: tok.specialText.bos_token ?? "",
      eos_token: tok.specialText.eos_token ?? "",
      pad_token: tok.specialText.pad_token ?? "",
    });
  } catch (err) {
    throw new UserError(`chat_template: rendering failed (${(err as Error).message})`);
  }
  const bos = tok.specialText.bos_token;
  return { text, hasBos: bos !== null && bos !== "" && text.includes(bos) };
}
