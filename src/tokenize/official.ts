/**
 * Encoding as the official RRHF trainer does (GanjinZero/RRHF, train.py),
 * for `compat: "official"`:
 * - the query is encoded WITH special tokens and cut at the budget from the
 *   RIGHT (Hugging Face's default truncation side; its start is kept);
 * - each response is encoded on its own from the text `response + eos_token`,
 *   WITH special tokens (so a Llama BOS appears again at the response's
 *   start), and cut from the right to `budget - query length` tokens. The EOS
 *   is part of that text, so a cut response loses it;
 * - truncation follows HF's rule: special tokens are kept and only the text's
 *   tokens are cut; when a budget would remove all of them (or is 0, which HF
 *   reads as "no limit"), HF logs an error and leaves the text uncut. Those
 *   rows end up longer than the budget; we reproduce that and count them.
 */
import { joinParts, partsLength, type EncodedParts } from "./parts.js";

/** Result of HF-style right truncation of one encoding. */
export interface HfTruncated {
  ids: number[];
  cut: boolean;
}

/** Cuts `parts.body` from the right so the whole fits `maxLength`, following HF's rules above. */
export function hfTruncateRight(parts: EncodedParts, maxLength: number | null): HfTruncated {
  const total = partsLength(parts);
  // maxLength 0 is falsy in HF: no truncation at all.
  if (maxLength === null || maxLength === 0 || total <= maxLength) return { ids: joinParts(parts), cut: false };
  const remove = total - maxLength;
  if (parts.body.length <= remove) return { ids: joinParts(parts), cut: false };
  return { ids: joinParts({ ...parts, body: parts.body.slice(0, parts.body.length - remove) }), cut: true };
}

/** One record encoded the official way. */
export interface OfficialEncoded {
  query_ids: number[];
  queryCut: boolean;
  responses: { response_ids: number[]; cut: boolean }[];
}

/**
 * Truncates an already split query and responses the official way.
 * `responses` are the encodings of `response + eos_token` text.
 */
export function truncateOfficial(query: EncodedParts, responses: EncodedParts[], maxLength: number | null): OfficialEncoded {
  const q = hfTruncateRight(query, maxLength);
  const budget = maxLength === null ? null : maxLength - q.ids.length;
  return {
    query_ids: q.ids,
    queryCut: q.cut,
    responses: responses.map((r) => {
      const t = hfTruncateRight(r, budget);
      return { response_ids: t.ids, cut: t.cut };
    }),
  };
}
