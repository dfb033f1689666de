/**
 * Strict UTF-8 decoding of one line's bytes. Node's readline and
 * `toString("utf8")` replace bad bytes with U+FFFD silently; training on such
 * text would be silent corruption, so a bad byte is an error with its place.
 */

const strictDecoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** The decoded text, or `null` when `bytes` is not valid UTF-8. */
export function decodeUtf8Strict(bytes: Uint8Array): string | null {
  try {
    return strictDecoder.decode(bytes);
  } catch {
    return null;
  }
}

/** True when `b` is a continuation byte (10xxxxxx). */
function isCont(b: number | undefined): boolean {
  return b !== undefined && (b & 0xc0) === 0x80;
}

/**
 * Index (0-based) of the first byte that starts an invalid UTF-8 sequence,
 * or -1 when all of `bytes` is valid. Follows the Unicode well-formedness
 * table (no overlongs, no surrogates, nothing above U+10FFFF); only called
 * after the native decoder failed, to tell the user where.
 */
export function firstInvalidUtf8Offset(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i];
    if (b < 0x80) {
      i += 1;
      continue;
    }
    const b1 = bytes[i + 1];
    let need: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) need = 1;
    else if (b >= 0xe0 && b <= 0xef) {
      need = 2;
      if (b === 0xe0) lo = 0xa0;
      if (b === 0xed) hi = 0x9f; // U+D800..U+DFFF are surrogates, not characters
    } else if (b >= 0xf0 && b <= 0xf4) {
      need = 3;
      if (b === 0xf0) lo = 0x90;
      if (b === 0xf4) hi = 0x8f; // nothing above U+10FFFF
    } else return i;
    if (b1 === undefined || b1 < lo || b1 > hi) return i;
    for (let k = 2; k <= need; k++) if (!isCont(bytes[i + k])) return i;
    i += need + 1;
  }
  return -1;
}
