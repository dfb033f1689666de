/**
 * Input generators for the fuzz targets: random bytes and JSON, and valid
 * fixtures mutated at the byte level (bit flips, truncation, splices,
 * overwrites, huge numbers) or at the JSON level (a value replaced, removed
 * or set to something absurd at a random path).
 */
import fc from "fast-check";

/** Numbers a file may hold to trip an unchecked size or count. */
export const HUGE_NUMBERS = [
  "0",
  "-1",
  "-0",
  "1e308",
  "1e309",
  "-1e309",
  "4294967295",
  "4294967296",
  "2147483648",
  "9007199254740992",
  "9007199254740993",
  "1152921504606846976",
  "18446744073709551615",
  "1e21",
  "0.5",
  "NaN",
  "null",
  '"12"',
];

type ByteOp =
  | { kind: "flip"; at: number; bit: number }
  | { kind: "truncate"; at: number }
  | { kind: "overwrite"; at: number; bytes: Uint8Array }
  | { kind: "insert"; at: number; bytes: Uint8Array }
  | { kind: "delete"; at: number; length: number }
  | { kind: "duplicate"; at: number; length: number; to: number }
  | { kind: "number"; which: number; value: string }
  | { kind: "u64"; at: number; value: bigint };

/** Positions: half anywhere, half inside the first `hot` bytes (headers live there). */
const position = fc.oneof(fc.nat(), fc.nat({ max: 4095 }));

const byteOp: fc.Arbitrary<ByteOp> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant("flip" as const), at: position, bit: fc.nat({ max: 7 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("truncate" as const), at: position }) },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant("overwrite" as const), at: position, bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant("insert" as const), at: position, bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("delete" as const), at: position, length: fc.integer({ min: 1, max: 64 }) }) },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant("duplicate" as const), at: position, length: fc.integer({ min: 1, max: 256 }), to: position }),
  },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("number" as const), which: fc.nat(), value: fc.constantFrom(...HUGE_NUMBERS) }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("u64" as const),
      at: fc.constantFrom(0, 0, 0, 8),
      value: fc.oneof(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), fc.constantFrom(1n << 60n, (1n << 64n) - 1n, 100_000_001n, 0n, 7n)),
    }),
  },
);

const NUMBER_RUN = /-?\d+(\.\d+)?([eE][+-]?\d+)?/g;

function applyOp(src: Uint8Array, op: ByteOp): Uint8Array {
  const n = src.length;
  const at = n === 0 ? 0 : op.kind === "number" ? 0 : (op as { at: number }).at % (n + 1);
  switch (op.kind) {
    case "flip": {
      if (n === 0) return src;
      const out = src.slice();
      out[at % n] ^= 1 << op.bit;
      return out;
    }
    case "truncate":
      return src.subarray(0, at);
    case "overwrite": {
      const out = src.slice();
      out.set(op.bytes.subarray(0, Math.max(0, n - at)), at);
      return out;
    }
    case "insert":
      return concat(src.subarray(0, at), op.bytes, src.subarray(at));
    case "delete":
      return concat(src.subarray(0, at), src.subarray(at + op.length));
    case "duplicate": {
      const piece = src.subarray(at, at + op.length);
      const to = n === 0 ? 0 : op.to % (n + 1);
      return concat(src.subarray(0, to), piece, src.subarray(to));
    }
    case "number": {
      // Replaces the `which`-th number in the file's text (JSON headers, configs) by an absurd one.
      const text = Buffer.from(src).toString("latin1");
      const runs = [...text.matchAll(NUMBER_RUN)].filter((m) => m.index < 1 << 16);
      if (runs.length === 0) return src;
      const m = runs[op.which % runs.length];
      return Buffer.from(text.slice(0, m.index) + op.value + text.slice(m.index + m[0].length), "latin1");
    }
    case "u64": {
      if (n < op.at + 8) return src;
      const out = src.slice();
      new DataView(out.buffer, out.byteOffset).setBigUint64(op.at, op.value, true);
      return out;
    }
  }
}

function concat(...parts: Uint8Array[]): Uint8Array {
  return Buffer.concat(parts);
}

/** A valid `base` with 1..4 byte-level mutations. */
export function mutatedBytes(base: Uint8Array): fc.Arbitrary<Uint8Array> {
  return fc.array(byteOp, { minLength: 1, maxLength: 4 }).map((ops) => ops.reduce(applyOp, base));
}

/** Values that break a field's type or size. */
export const absurdValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(null, true, false, "", "x", 0, -1, 0.5, 1e308, -1e308, 2 ** 31, 2 ** 32, 2 ** 53, 2 ** 60, 1e21, Number.MAX_SAFE_INTEGER),
  fc.constantFrom([], {}, [1, 2], { a: 1 }, ["a"], [[[]]], "__proto__", "constructor"),
  fc.jsonValue({ maxDepth: 2 }),
);

type JsonOp = { path: number[]; action: "replace" | "delete" | "wrap"; value: unknown };

const jsonOp: fc.Arbitrary<JsonOp> = fc.record({
  path: fc.array(fc.nat(), { minLength: 1, maxLength: 4 }),
  action: fc.constantFrom("replace" as const, "replace" as const, "delete" as const, "wrap" as const),
  value: absurdValue,
});

function applyJsonOp(root: unknown, op: JsonOp): unknown {
  const copy = structuredClone(root);
  let node: unknown = copy;
  for (let depth = 0; depth < op.path.length; depth++) {
    if (node === null || typeof node !== "object") return copy;
    const keys = Object.keys(node);
    if (keys.length === 0) return copy;
    const key = keys[op.path[depth] % keys.length];
    const child = (node as Record<string, unknown>)[key];
    const last = depth === op.path.length - 1 || child === null || typeof child !== "object";
    if (last) {
      const holder = node as Record<string, unknown>;
      if (op.action === "delete") {
        if (Array.isArray(holder)) holder.splice(Number(key), 1);
        else delete holder[key];
      } else {
        holder[key] = op.action === "wrap" ? [child] : op.value;
      }
      return copy;
    }
    node = child;
  }
  return copy;
}

/** A valid JSON value with 1..3 structural mutations. */
export function mutatedJson(base: unknown): fc.Arbitrary<unknown> {
  return fc.array(jsonOp, { minLength: 1, maxLength: 3 }).map((ops) => ops.reduce(applyJsonOp, base));
}

/** Bytes of a JSON file: mutated structurally, mutated as bytes, or random JSON / bytes. */
export function jsonFileBytes(base: unknown): fc.Arbitrary<Uint8Array> {
  const text = (v: unknown): Uint8Array => Buffer.from(JSON.stringify(v, null, 2) ?? "null", "utf8");
  const baseBytes = text(base);
  return fc.oneof(
    { weight: 4, arbitrary: mutatedJson(base).map(text) },
    { weight: 3, arbitrary: mutatedBytes(baseBytes) },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }).map(text) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }) },
  );
}
