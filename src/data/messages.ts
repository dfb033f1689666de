/**
 * Checking a conversation (`messages`) in OpenAI form: an array of
 * `{role, content}` with roles `system`, `user`, `assistant`. The order rules
 * (the ones common chat templates enforce):
 * - an optional `system` message, first and only first;
 * - then turns alternate, starting with `user`: user, assistant, user, ...;
 * - the last message is a `user` turn: the responses answer it.
 * Every `content` is a non-empty string. Extra keys in a message (`name`, ids)
 * are dropped.
 */
import { DataError } from "../errors.js";
import { describeValue } from "./describe.js";
import { CHAT_ROLES, type ChatMessage, type ChatRole } from "./record.js";

/** Where a value sits: file, line (or row) and unit, for located errors. */
export interface Place {
  file: string;
  line: number;
  unit?: "line" | "row";
}

/** A located error at `place`. */
export function errorAt(place: Place, field: string, problem: string): DataError {
  return new DataError(place.file, place.line, field, problem, place.unit ?? "line");
}

function isChatRole(value: unknown): value is ChatRole {
  return typeof value === "string" && (CHAT_ROLES as readonly string[]).includes(value);
}

/** The role message `index` must have, given the role before it (null for the first). */
function expectedRole(previous: ChatRole | null): ChatRole[] {
  if (previous === null) return ["system", "user"];
  return previous === "user" ? ["assistant"] : ["user"];
}

/** One message's shape problems (role and content), or the message. */
function checkMessage(value: unknown, field: string, place: Place): { message: ChatMessage | null; problems: DataError[] } {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    return { message: null, problems: [errorAt(place, field, `expected a {role, content} object, got ${describeValue(value)}`)] };
  }
  const { role, content } = value as Record<string, unknown>;
  const problems: DataError[] = [];
  if (role === undefined) problems.push(errorAt(place, `${field}.role`, "required field is missing"));
  else if (!isChatRole(role)) {
    problems.push(errorAt(place, `${field}.role`, `expected one of ${CHAT_ROLES.join(", ")}, got ${describeValue(role)}`));
  }
  if (content === undefined) problems.push(errorAt(place, `${field}.content`, "required field is missing"));
  else if (typeof content !== "string")
    problems.push(errorAt(place, `${field}.content`, `expected a string, got ${describeValue(content)}`));
  else if (content.length === 0) problems.push(errorAt(place, `${field}.content`, "must not be empty"));
  const message = problems.length === 0 ? { role: role as ChatRole, content: content as string } : null;
  return { message, problems };
}

/**
 * Checks `value` as the `messages` of a record (`key` names it in errors);
 * returns the messages (without extra keys) or every problem found.
 */
export function checkMessages(value: unknown, place: Place, key = "messages"): { messages: ChatMessage[] | null; problems: DataError[] } {
  if (!Array.isArray(value)) {
    return {
      messages: null,
      problems: [errorAt(place, key, `expected an array of {role, content} messages, got ${describeValue(value)}`)],
    };
  }
  if (value.length === 0) return { messages: null, problems: [errorAt(place, key, "must not be empty")] };
  const problems: DataError[] = [];
  const messages: ChatMessage[] = [];
  let previous: ChatRole | null = null;
  value.forEach((item, i) => {
    const field = `${key}[${i}]`;
    const checked = checkMessage(item, field, place);
    problems.push(...checked.problems);
    if (checked.message === null) {
      previous = null;
      return;
    }
    const allowed = expectedRole(i === 0 ? null : previous);
    // After a malformed message the order cannot be judged; only the first position is checked then.
    if ((i === 0 || previous !== null) && !allowed.includes(checked.message.role)) {
      const why =
        checked.message.role === "system"
          ? "a system message may only come first"
          : `expected ${allowed.map((r) => `"${r}"`).join(" or ")} here`;
      problems.push(errorAt(place, `${field}.role`, `${why}, got "${checked.message.role}" (turns alternate user, assistant, ...)`));
    }
    previous = checked.message.role;
    messages.push(checked.message);
  });
  const last = messages[messages.length - 1];
  if (problems.length === 0 && last !== undefined && last.role !== "user") {
    problems.push(
      errorAt(
        place,
        `${key}[${value.length - 1}].role`,
        `the last message must be a user turn (the responses answer it), got "${last.role}"`,
      ),
    );
  }
  return { messages: problems.length === 0 ? messages : null, problems };
}
