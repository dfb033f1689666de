/** Short, stable descriptions of JSON values and paths for error messages. */

/** A JSON string literal of `text`, cut to `max` characters (with "..." when cut). */
export function quoteShort(text: string, max = 30): string {
  return text.length <= max ? JSON.stringify(text) : `${JSON.stringify(text.slice(0, max))}...`;
}

/** What a JSON value is, for "expected X, got Y" messages: `null`, `an array`, `string "NaN"`, ... */
export function describeValue(value: unknown): string {
  if (value === undefined) return "nothing";
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "string") return `string ${quoteShort(value)}`;
  if (typeof value === "number" || typeof value === "boolean") return `${typeof value} ${String(value)}`;
  return "an object";
}

/** `["responses", 3]` -> `responses[3]`; the empty path is the whole line, `-`. */
export function fieldPath(path: ReadonlyArray<PropertyKey>): string {
  let out = "";
  for (const part of path) {
    if (typeof part === "number") out += `[${part}]`;
    else out += out === "" ? String(part) : `.${String(part)}`;
  }
  return out === "" ? "-" : out;
}
