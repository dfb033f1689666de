/**
 * Counts the matrix-product work of whole `rrhf train` steps: the backend's
 * sgemm is wrapped to add 2*M*N*K per call while `train()` runs two steps on
 * a model and data that `bench/train.ts` made (run it once first). Divided by
 * a matmul rate (README's matmul table), this is the floor a backend's step
 * cannot beat, which is how bench/RESULTS.md bounds the WASM backend.
 *
 *   npm run build && node dist/bench/train.js --shapes small --no-torch --threads 2   # makes /tmp/rrhf-bench/small
 *   node dist/bench/sgemm-flops.js [--shape small] [--backend wasm] [--threads 2] [--work /tmp/rrhf-bench]
 */
import { join } from "node:path";
import { parseArgs } from "node:util";
import { getBackend } from "../src/kernels/select.js";
import { resolveTrainConfig } from "../src/train/config.js";
import { train } from "../src/train/loop.js";

const { values } = parseArgs({
  options: {
    shape: { type: "string", default: "small" },
    backend: { type: "string", default: "wasm" },
    threads: { type: "string", default: "2" },
    work: { type: "string", default: "/tmp/rrhf-bench" },
  },
});
const threads = Number(values.threads);
const STEPS = 2;
// The same instance `train()` will get: getBackend keeps one per name and options.
const be = getBackend(values.backend, { threads });
const sgemm = be.sgemm.bind(be);
let flops = 0;
let calls = 0;
be.sgemm = (transA, transB, M, N, K, alpha, A, B, beta, C) => {
  flops += 2 * M * N * K;
  calls++;
  sgemm(transA, transB, M, N, K, alpha, A, B, beta, C);
};
const dir = join(values.work, values.shape);
const config = resolveTrainConfig({
  overrides: {
    model: join(dir, "model"),
    data: join(dir, "data.jsonl"),
    output_dir: join(dir, "flops-run"),
    overwrite_output_dir: true,
    max_steps: STEPS,
    save_steps: 0,
    logging_steps: 1000,
    backend: values.backend,
    threads,
  },
});
await train(config);
console.log(
  JSON.stringify({ shape: values.shape, backend: values.backend, gflopPerStep: flops / STEPS / 1e9, sgemmCallsPerStep: calls / STEPS }),
);
process.exit(0);
