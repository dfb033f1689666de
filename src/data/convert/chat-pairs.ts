/**
 * Chat preference pairs, the shape of many DPO sets (OpenAI / ShareGPT message
 * form): `{"chosen": [messages], "rejected": [messages]}` where both
 * conversations share every message but the last, which is the assistant's
 * answer. The record keeps the conversation: `messages` = the shared turns
 * before the last assistant turn (rendered later by the chat template), the
 * two last assistant turns are the responses, scored 1 and 0.
 * ShareGPT keys (`from`/`value`, roles `human`/`gpt`) are accepted too.
 */
import { describeValue } from "../describe.js";
import { checkMessages, errorAt, type Place } from "../messages.js";
import type { ChatMessage, RrhfRecord } from "../record.js";

const SHAREGPT_ROLES: Record<string, string> = { human: "user", gpt: "assistant", system: "system" };

/** A ShareGPT message `{from, value}` in OpenAI form; other values unchanged. */
function openAiForm(message: unknown): unknown {
  if (message === null || typeof message !== "object" || Array.isArray(message)) return message;
  const m = message as Record<string, unknown>;
  if (m.role !== undefined || m.from === undefined) return message;
  const from = typeof m.from === "string" ? (SHAREGPT_ROLES[m.from] ?? m.from) : m.from;
  return { role: from, content: m.value };
}

/** A conversation split into the turns before its final assistant answer, and that answer. */
export interface SplitConversation {
  prompt: ChatMessage[];
  answer: string;
}

/**
 * Splits `value[key]`, a conversation ending with the assistant's answer, into
 * the prompt turns (checked like a record's `messages`) and the answer.
 */
export function splitConversation(value: Record<string, unknown>, key: string, place: Place): SplitConversation {
  const raw = value[key];
  if (!Array.isArray(raw)) {
    throw errorAt(place, key, raw === undefined ? "required field is missing" : `expected an array of messages, got ${describeValue(raw)}`);
  }
  const messages = raw.map(openAiForm);
  if (messages.length < 2)
    throw errorAt(place, key, `needs the prompt turns and the assistant's answer, got ${messages.length} message(s)`);
  const last = messages[messages.length - 1] as Record<string, unknown> | null;
  const at = `${key}[${messages.length - 1}]`;
  if (last === null || typeof last !== "object" || last.role !== "assistant") {
    throw errorAt(place, `${at}.role`, `the last message must be the assistant's answer, got ${describeValue(last?.role)}`);
  }
  if (typeof last.content !== "string" || last.content.length === 0) {
    throw errorAt(place, `${at}.content`, `expected a non-empty string, got ${describeValue(last.content)}`);
  }
  const checked = checkMessages(messages.slice(0, -1), place, key);
  if (checked.messages === null) throw checked.problems[0];
  return { prompt: checked.messages, answer: last.content };
}

/** Index of the first message where two conversations differ, or -1 when equal. */
function firstDifferentMessage(a: ChatMessage[], b: ChatMessage[]): number {
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i]?.role !== b[i]?.role || a[i]?.content !== b[i]?.content) return i;
  return -1;
}

/**
 * Converts a chosen/rejected conversation pair to a `messages` record with
 * the given scores (1 and 0 by default).
 */
export function conversationPairToRecord(value: Record<string, unknown>, place: Place, scores: [number, number] = [1, 0]): RrhfRecord {
  const chosen = splitConversation(value, "chosen", place);
  const rejected = splitConversation(value, "rejected", place);
  const differs = firstDifferentMessage(chosen.prompt, rejected.prompt);
  if (differs !== -1) {
    throw errorAt(place, `rejected[${differs}]`, "the conversation before the last assistant turn differs from chosen's");
  }
  return { messages: chosen.prompt, responses: [chosen.answer, rejected.answer], scores: [...scores] };
}

/** The `chat-pairs` converter: scores 1 (chosen) and 0 (rejected). */
export function chatPairToRecord(value: Record<string, unknown>, place: Place): RrhfRecord {
  return conversationPairToRecord(value, place);
}
