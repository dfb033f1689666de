/**
 * The "design for what comes next" paths give the plain layout's numbers:
 * the shared-prefix layout (query computed once, k continuations reading its
 * cached keys/values, prefix gradient accumulated from all k), the chunked
 * LM head at any chunk size, and masks with holes (official compat mode).
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Graph } from "../../src/autodiff/graph.js";
import { refBackend } from "../../src/kernels/ref/index.js";
import type { CausalLM, ForwardOptions } from "../../src/models/causal-lm.js";
import type { AttentionContext, BodyOutput } from "../../src/models/causal-lm-pass.js";
import { Gpt2Model } from "../../src/models/gpt2/model.js";
import { loadModelFolder, type HfModel } from "../../src/models/hf/folder.js";
import { LlamaModel } from "../../src/models/llama/model.js";
import { loadCausalLM } from "../../src/models/registry.js";
import { buildQueryBatch, type QueryBatch } from "../../src/tokenize/batch.js";
import { fixture } from "../helpers.js";
import { withHoles } from "./packed-batch.js";

const MODELS = ["gpt2-tiny", "llama-tiny", "qwen2-tiny"] as const;
const TOL = 2e-5;

/** Queries = [queryLength, [responseLengths]]; ids from a fixed LCG, EOS 0 last; T = longest + 2. */
function makeBatch(queries: [number, number[]][], V: number): QueryBatch {
  let seed = 12345;
  const next = () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return 1 + (seed % (V - 1));
  };
  const groups = queries.map(([qlen, resp]) => ({
    queryIds: Array.from({ length: qlen }, next),
    responses: resp.map((n) => ({ ids: [...Array.from({ length: n - 1 }, next), 0] })),
  }));
  const longest = Math.max(...queries.flatMap(([qlen, resp]) => resp.map((n) => qlen + n)));
  return buildQueryBatch(groups, { padTokenId: 0, paddedLength: longest + 2 });
}

/** Log-probs and the gradient of Σ w·logp for fixed pseudo-random weights w. */
function run(model: CausalLM, batch: QueryBatch, opts: ForwardOptions): { logps: Float32Array; grads: Float32Array } {
  assert.ok(model.grads);
  model.grads.data.fill(0);
  const pass = model.forward(batch, opts);
  const d = Float32Array.from(pass.tokenLogps, (_, i) => ((i * 7919) % 13) / 13 - 0.4);
  pass.backward(d);
  pass.release();
  return { logps: Float32Array.from(pass.tokenLogps), grads: Float32Array.from(model.grads.data) };
}

function assertNear(a: Float32Array, b: Float32Array, what: string): void {
  let scale = 0;
  for (const x of b) scale = Math.max(scale, Math.abs(x));
  assert.ok(scale > 0, `${what}: all zero`);
  for (let i = 0; i < a.length; i++) {
    if (!(Math.abs(a[i] - b[i]) <= TOL * scale)) assert.fail(`${what}[${i}]: ${a[i]} vs ${b[i]} (scale ${scale})`);
  }
}

for (const name of MODELS) {
  describe(`layouts agree: ${name}`, () => {
    const model = loadCausalLM(fixture("models", name), { backend: refBackend, trainable: true });
    const V = model.config.vocabSize;
    // Three queries: long query with k=3, a one-token query (nothing to share), and k=4.
    const batch = makeBatch(
      [
        [7, [3, 5, 1]],
        [1, [4, 2]],
        [5, [2, 6, 3, 4]],
      ],
      V,
    );
    const plain = run(model, batch, {});

    test("shared-prefix layout: same log-probs and gradients", () => {
      const shared = run(model, batch, { layout: "shared-prefix" });
      assertNear(shared.logps, plain.logps, "logps");
      assertNear(shared.grads, plain.grads, "grads");
    });

    test("LM head chunk size changes nothing", () => {
      for (const headChunk of [1, 5]) {
        const chunked = run(model, batch, { headChunk });
        assertNear(chunked.logps, plain.logps, `logps chunk ${headChunk}`);
        assertNear(chunked.grads, plain.grads, `grads chunk ${headChunk}`);
      }
    });

    test("a mask with holes (official compat: pad == eos masked) works in both layouts", () => {
      // Each row's EOS key masked (the official code's input_ids != pad with pad == eos) and one query token.
      const holes = withHoles(batch);
      const a = run(model, holes, {});
      const b = run(model, holes, { layout: "shared-prefix" });
      assertNear(b.logps, a.logps, "logps");
      assertNear(b.grads, a.grads, "grads");
      // The hole at position 2 of query 0 must change that query's scores; the EOS holes alone change nothing.
      const row0 = (x: Float32Array) => x.subarray(0, holes.responseTokenStart[1]);
      assert.ok(row0(a.logps).some((v, i) => Math.abs(v - row0(plain.logps)[i]) > 1e-4));
    });
  });
}

/** Exposes the protected body so a test can run it in two pieces over a per-row cache. */
function cachedVersusFull(name: string, make: (hf: HfModel) => DecoderLMProbe): void {
  test(`${name}: a per-row key/value cache gives the hidden states of one full pass`, () => {
    const probe = make(loadModelFolder(fixture("models", name)));
    const B = 2;
    const T = 9;
    const P = 5;
    const ids = Int32Array.from({ length: B * T }, (_, i) => 1 + ((i * 37) % 50));
    const lengths = Int32Array.of(T, 7); // row 1 right-padded
    const g = new Graph({ grad: false });
    try {
      const full = probe.run(g, ids, B, T, { past: 0, prefix: null, keyLengths: lengths, keyMask: null });
      const head = Int32Array.from({ length: B * P }, (_, i) => ids[Math.floor(i / P) * T + (i % P)]);
      const tail = Int32Array.from({ length: B * (T - P) }, (_, i) => ids[Math.floor(i / (T - P)) * T + P + (i % (T - P))]);
      const first = probe.run(g, head, B, P, { past: 0, prefix: null, keyLengths: Int32Array.of(P, P), keyMask: null });
      const second = probe.run(g, tail, B, T - P, { past: P, prefix: first.kv, keyLengths: lengths, keyMask: null });
      const C = probe.config.hiddenSize;
      for (let b = 0; b < B; b++) {
        for (let t = P; t < lengths[b]; t++) {
          for (let c = 0; c < C; c++) {
            const want = full.hidden.data[(b * T + t) * C + c];
            const got = second.hidden.data[(b * (T - P) + t - P) * C + c];
            assert.ok(Math.abs(got - want) <= 1e-5 * (1 + Math.abs(want)), `row ${b} position ${t} channel ${c}: ${got} vs ${want}`);
          }
        }
      }
    } finally {
      g.release();
    }
  });
}

interface DecoderLMProbe {
  config: { hiddenSize: number };
  run(g: Graph, ids: Int32Array, B: number, T: number, ctx: AttentionContext): BodyOutput;
}

class Gpt2Probe extends Gpt2Model implements DecoderLMProbe {
  run(g: Graph, ids: Int32Array, B: number, T: number, ctx: AttentionContext): BodyOutput {
    return this.body(g, ids, B, T, ctx);
  }
}
class LlamaProbe extends LlamaModel implements DecoderLMProbe {
  run(g: Graph, ids: Int32Array, B: number, T: number, ctx: AttentionContext): BodyOutput {
    return this.body(g, ids, B, T, ctx);
  }
}

cachedVersusFull("gpt2-tiny", (hf) => new Gpt2Probe(hf.normalized, hf.params, { backend: refBackend, grads: null }));
cachedVersusFull("llama-tiny", (hf) => new LlamaProbe(hf.normalized, hf.params, { backend: refBackend, grads: null }));
