/**
 * Splitting an encoding into the special tokens the tokenizer's
 * post-processor adds (e.g. Llama's leading BOS) and the text's own tokens,
 * so truncation can cut the text while keeping those special tokens — as
 * Hugging Face truncation does.
 */
import type { RrhfTokenizer } from "./tokenizer.js";

/** `prefix ++ body ++ suffix` is the encoding with special tokens. */
export interface EncodedParts {
  prefix: number[];
  body: number[];
  suffix: number[];
}

function startsAt(haystack: number[], needle: number[], at: number): boolean {
  for (let i = 0; i < needle.length; i++) if (haystack[at + i] !== needle[i]) return false;
  return true;
}

/** Encodes `text` once with and once without special tokens and locates the text inside. */
export function encodeParts(tok: RrhfTokenizer, text: string): EncodedParts {
  const body = tok.encode(text, { addSpecialTokens: false });
  const full = tok.encode(text, { addSpecialTokens: true });
  for (let at = 0; at + body.length <= full.length; at++) {
    if (startsAt(full, body, at)) {
      return { prefix: full.slice(0, at), body, suffix: full.slice(at + body.length) };
    }
  }
  // A post-processor that rewrites the text's tokens is not something causal LMs use;
  // treat the whole encoding as text so nothing is silently lost.
  return { prefix: [], body: full, suffix: [] };
}

/** Joins parts back into one id list. */
export function joinParts(p: EncodedParts): number[] {
  return [...p.prefix, ...p.body, ...p.suffix];
}

/** Total token count of the parts. */
export function partsLength(p: EncodedParts): number {
  return p.prefix.length + p.body.length + p.suffix.length;
}
