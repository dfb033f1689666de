/**
 * The official trainer's `only_use_provide` / `only_use_sample` as a pure
 * row selection, applied by the trainer before the forward pass:
 * "provide" keeps the last two rows of each query (in the official data the
 * dataset's own chosen/rejected answers), "sample" keeps all but those two.
 * The official code drops rows after padding all k responses, so its padded
 * length T (which compat mode divides by) still counts the dropped rows: to
 * reproduce it, gather rows from the collated batch rather than re-collating.
 *
 * @example
 * const keep = selectResponseRows(rowQuery, "provide");
 * const ids = gatherRows(inputIds, T, keep);        // [kept, T]
 * const q = gatherRows(rowQuery, 1, keep);          // [kept]
 */
import { UserError } from "../errors.js";
import { queryRanges } from "./layout.js";

/** "all" keeps every row; "provide" = only_use_provide; "sample" = only_use_sample. */
export type ResponseSubset = "all" | "provide" | "sample";

/** How many trailing rows of each query are the provided (dataset) responses. */
export const PROVIDED_RESPONSES = 2;

/**
 * Indices of the rows to keep, in batch order. Throws UserError naming the
 * first query with too few rows: "provide" needs at least 2, "sample" at
 * least 3 (so that one sampled response remains).
 */
export function selectResponseRows(rowQuery: Int32Array, subset: ResponseSubset): Int32Array {
  const starts = queryRanges(rowQuery);
  const keep: number[] = [];
  for (let q = 0; q + 1 < starts.length; q++) {
    const lo = starts[q];
    const hi = starts[q + 1];
    const k = hi - lo;
    if (subset === "all") {
      for (let r = lo; r < hi; r++) keep.push(r);
    } else if (subset === "provide") {
      if (k < PROVIDED_RESPONSES) {
        throw new UserError(
          `only_use_provide: query ${rowQuery[lo]} has ${k} response(s); it needs at least ${PROVIDED_RESPONSES} (the provided pair is the last two)`,
        );
      }
      for (let r = hi - PROVIDED_RESPONSES; r < hi; r++) keep.push(r);
    } else if (subset === "sample") {
      if (k <= PROVIDED_RESPONSES) {
        throw new UserError(
          `only_use_sample: query ${rowQuery[lo]} has ${k} response(s); it needs at least ${PROVIDED_RESPONSES + 1} (all but the last two are kept)`,
        );
      }
      for (let r = lo; r < hi - PROVIDED_RESPONSES; r++) keep.push(r);
    } else {
      throw new UserError(`unknown response subset ${JSON.stringify(subset)}; expected "all", "provide" or "sample"`);
    }
  }
  return Int32Array.from(keep);
}

/** A typed array the row gather can copy. */
type RowArray = Float32Array | Float64Array | Int32Array | Uint8Array | Uint32Array | Int8Array | Uint16Array | Int16Array;

/** Copies rows `rows` (each `width` values long) of `src` into a new array of the same type: [rows.length, width]. */
export function gatherRows<A extends RowArray>(src: A, width: number, rows: Int32Array): A {
  if (!Number.isInteger(width) || width < 0 || (width === 0 ? src.length !== 0 : src.length % width !== 0)) {
    throw new RangeError(`gatherRows: ${src.length} values do not split into rows of ${width}`);
  }
  const total = width === 0 ? 0 : src.length / width;
  const out = new (src.constructor as new (n: number) => A)(rows.length * width);
  for (let k = 0; k < rows.length; k++) {
    const r = rows[k];
    if (!(r >= 0 && r < total)) throw new RangeError(`gatherRows: row ${r} is outside 0..${total - 1}`);
    out.set(src.subarray(r * width, (r + 1) * width), k * width);
  }
  return out;
}
