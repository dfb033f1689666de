/**
 * The bad-input cases beyond data files: model folders, tokenizer folders,
 * training configs and checkpoints. Each `make` builds its input under `root`
 * and returns the rrhf command line that must fail with exit code 1, the
 * message in tests/fixtures/bad-inputs/expected.tsv and no partial output.
 * `{root}` in an expected message stands for `root`.
 */
import { existsSync, mkdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { fixture } from "../helpers.js";
import { LOOP_CASES } from "./cases-loop.js";
import {
  appendFileSync,
  copyModel,
  cpSync,
  editHeader,
  editJson,
  joinSafetensors,
  rmSync,
  setU64,
  splitSafetensors,
  truncateBy,
  writeFileSync,
  type TensorEntry,
} from "./build.js";

export type CaseGroup = "model" | "tokenizer" | "train-config" | "checkpoint" | "prompts" | "scorer";

export interface BadInputCase {
  name: string;
  group: CaseGroup;
  /** Builds the input under `root` (`checkpointOut` holds a finished 1-step run for the checkpoint group); returns the CLI arguments. */
  make: (root: string, checkpointOut: string) => string[];
}

const DATA = fixture("train", "tiny-train.jsonl");
const ST = "model.safetensors";

/** `rrhf loss` on a broken copy of a model fixture. */
function modelCase(
  name: string,
  edit: (dir: string) => void,
  model: "gpt2-tiny" | "llama-tiny" | "qwen2-tiny" = "gpt2-tiny",
): BadInputCase {
  return {
    name,
    group: "model",
    make: (root) => {
      const dir = copyModel(model, join(root, "model"));
      edit(dir);
      return ["loss", "--model", dir, "--data", DATA];
    },
  };
}

const config = (dir: string, edit: (c: Record<string, unknown>) => void) => editJson(join(dir, "config.json"), edit);
const header = (dir: string, edit: (h: Record<string, TensorEntry>, data: Buffer) => Buffer | void) => editHeader(dir, edit);
const first = (h: Record<string, TensorEntry>): TensorEntry => Object.values(h).find((e) => "dtype" in e)!;
const byBegin = (h: Record<string, TensorEntry>, k: number): TensorEntry =>
  Object.values(h)
    .filter((e) => "dtype" in e)
    .sort((a, b) => a.data_offsets[0] - b.data_offsets[0])[k];

const MODEL_CASES: BadInputCase[] = [
  modelCase("st-header-length-2^60", (d) => setU64(join(d, ST), 0, 1n << 60n)),
  modelCase("st-header-length-past-end", (d) => setU64(join(d, ST), 0, 200_000n)),
  modelCase("st-file-shorter-than-prefix", (d) => writeFileSync(join(d, ST), Buffer.from([1, 2, 3]))),
  modelCase("st-empty-file", (d) => writeFileSync(join(d, ST), "")),
  modelCase("st-truncated-data", (d) => truncateBy(join(d, ST), 100)),
  modelCase("st-trailing-bytes", (d) => appendFileSync(join(d, ST), Buffer.alloc(16))),
  modelCase("st-header-not-json", (d) => {
    const { data } = splitSafetensors(join(d, ST));
    joinSafetensors(join(d, ST), null, data, Buffer.from('{"a": [1, 2'));
  }),
  modelCase("st-header-not-object", (d) => {
    const { data } = splitSafetensors(join(d, ST));
    joinSafetensors(join(d, ST), [], data);
  }),
  modelCase("st-header-invalid-utf8", (d) => {
    const { data } = splitSafetensors(join(d, ST));
    joinSafetensors(join(d, ST), null, data, Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d]));
  }),
  modelCase("st-unknown-dtype", (d) => header(d, (h) => void (first(h).dtype = "F128"))),
  modelCase("st-dtype-not-string", (d) => header(d, (h) => void ((first(h) as unknown as Record<string, unknown>).dtype = 32))),
  modelCase("st-integer-dtype", (d) => header(d, (h) => void (first(h).dtype = "I32"))),
  modelCase("st-overlapping-tensors", (d) =>
    header(d, (h) => {
      const [a, b] = [byBegin(h, 0), byBegin(h, 1)];
      const len = b.data_offsets[1] - b.data_offsets[0];
      b.data_offsets = [a.data_offsets[1] - 4, a.data_offsets[1] - 4 + len];
    }),
  ),
  modelCase("st-gap-between-tensors", (d) =>
    header(d, (h, data) => {
      for (const e of Object.values(h))
        if ("dtype" in e && e !== byBegin(h, 0)) e.data_offsets = [e.data_offsets[0] + 8, e.data_offsets[1] + 8];
      const a = byBegin(h, 0).data_offsets[1];
      return Buffer.concat([data.subarray(0, a), Buffer.alloc(8), data.subarray(a)]);
    }),
  ),
  modelCase("st-shape-byte-size-overflows", (d) => header(d, (h) => void (first(h).shape = [2 ** 40, 2 ** 40]))),
  modelCase("st-shape-negative", (d) => header(d, (h) => void (first(h).shape = [-1, 32]))),
  modelCase("st-shape-fractional", (d) => header(d, (h) => void (first(h).shape = [1.5]))),
  modelCase("st-offsets-missing", (d) => header(d, (h) => void delete (first(h) as Partial<TensorEntry>).data_offsets)),
  modelCase("st-offsets-end-before-begin", (d) =>
    header(d, (h) => {
      const e = first(h);
      e.data_offsets = [e.data_offsets[1], e.data_offsets[0]];
    }),
  ),
  modelCase("st-metadata-not-strings", (d) => header(d, (h) => void ((h as Record<string, unknown>).__metadata__ = { format: 1 }))),
  modelCase("st-shape-mismatch-with-config", (d) =>
    header(d, (h) => {
      const e = h["transformer.wte.weight"];
      e.shape = [e.shape[1], e.shape[0]];
    }),
  ),
  modelCase("st-missing-tensor", (d) =>
    header(d, (h, data) => {
      const last = byBegin(h, Object.values(h).filter((e) => "dtype" in e).length - 1);
      const name = Object.keys(h).find((k) => h[k] === last)!;
      delete h[name];
      return data.subarray(0, last.data_offsets[0]);
    }),
  ),
  modelCase("weights-missing", (d) => rmSync(join(d, ST))),
  modelCase("weights-index-names-missing-shard", (d) => {
    rmSync(join(d, ST));
    writeFileSync(
      join(d, "model.safetensors.index.json"),
      JSON.stringify({ weight_map: { "transformer.wte.weight": "model-00001-of-00002.safetensors" } }),
    );
  }),
  modelCase("weights-index-not-json", (d) => {
    rmSync(join(d, ST));
    writeFileSync(join(d, "model.safetensors.index.json"), '{"weight_map": ');
  }),
  modelCase("config-missing", (d) => rmSync(join(d, "config.json"))),
  modelCase("config-not-json", (d) => writeFileSync(join(d, "config.json"), '{"model_type": "gpt2",}')),
  modelCase("config-not-object", (d) => writeFileSync(join(d, "config.json"), "[1, 2, 3]")),
  modelCase("config-unknown-architecture", (d) => config(d, (c) => void (c.architectures = ["BertForMaskedLM"]))),
  modelCase("config-architecture-proto", (d) => config(d, (c) => void (c.architectures = ["__proto__"]))),
  modelCase("config-vocab-size-string", (d) => config(d, (c) => void (c.vocab_size = "64"))),
  modelCase("config-vocab-size-zero", (d) => config(d, (c) => void (c.vocab_size = 0))),
  modelCase("config-vocab-size-absurd", (d) => config(d, (c) => void (c.vocab_size = 2 ** 40))),
  modelCase("config-n-layer-absurd", (d) => config(d, (c) => void (c.n_layer = 1e9))),
  modelCase("config-n-layer-fractional", (d) => config(d, (c) => void (c.n_layer = 2.5))),
  modelCase("config-n-layer-more-than-weights", (d) => config(d, (c) => void (c.n_layer = 3))),
  modelCase("config-n-embd-not-divisible-by-heads", (d) => config(d, (c) => void (c.n_head = 3))),
  modelCase("config-unknown-activation", (d) => config(d, (c) => void (c.activation_function = "toString"))),
  modelCase("config-epsilon-string", (d) => config(d, (c) => void (c.layer_norm_epsilon = "1e-5"))),
  modelCase("config-tie-word-embeddings-string", (d) => config(d, (c) => void (c.tie_word_embeddings = "yes"))),
  modelCase("llama-kv-heads-not-dividing-heads", (d) => config(d, (c) => void (c.num_key_value_heads = 3)), "llama-tiny"),
  modelCase(
    "llama-unknown-rope-scaling",
    (d) => config(d, (c) => void (c.rope_scaling = { rope_type: "spiral", factor: 2 })),
    "llama-tiny",
  ),
  modelCase("llama-rope-theta-negative", (d) => config(d, (c) => void (c.rope_theta = -1)), "llama-tiny"),
  modelCase("llama-hidden-size-absurd", (d) => config(d, (c) => void (c.hidden_size = 2 ** 31)), "llama-tiny"),
  modelCase(
    "qwen2-head-dim-mismatch-with-weights",
    (d) =>
      config(d, (c) => {
        c.hidden_size = 64;
        c.head_dim = 16;
      }),
    "qwen2-tiny",
  ),
];

/** `rrhf validate --tokenizer` on a broken copy of the gpt2-tiny tokenizer folder. */
function tokenizerCase(name: string, edit: (dir: string) => void, extra: string[] = []): BadInputCase {
  return {
    name,
    group: "tokenizer",
    make: (root) => {
      const dir = join(root, "tok");
      mkdirSync(dir);
      for (const f of ["tokenizer.json", "tokenizer_config.json"]) cpSync(fixture("models", "gpt2-tiny", f), join(dir, f));
      edit(dir);
      return ["validate", "--tokenizer", dir, ...extra, DATA];
    },
  };
}

const tokConfig = (dir: string, edit: (c: Record<string, unknown>) => void) => editJson(join(dir, "tokenizer_config.json"), edit);
const tokJson = (dir: string, edit: (c: Record<string, unknown>) => void) => editJson(join(dir, "tokenizer.json"), edit);

const TOKENIZER_CASES: BadInputCase[] = [
  tokenizerCase("tok-tokenizer-json-missing", (d) => rmSync(join(d, "tokenizer.json"))),
  tokenizerCase("tok-tokenizer-json-not-json", (d) => writeFileSync(join(d, "tokenizer.json"), '{"version": "1.0", "model": {')),
  tokenizerCase("tok-tokenizer-json-array", (d) => writeFileSync(join(d, "tokenizer.json"), "[]")),
  tokenizerCase("tok-vocab-id-null", (d) =>
    tokJson(d, (t) => void (((t.model as Record<string, unknown>).vocab as Record<string, unknown>).H = null)),
  ),
  tokenizerCase("tok-model-section-missing", (d) => tokJson(d, (t) => void delete t.model)),
  tokenizerCase("tok-bos-not-in-vocabulary", (d) => tokConfig(d, (c) => void (c.bos_token = "<s>"))),
  tokenizerCase("tok-pad-not-in-vocabulary", (d) => tokConfig(d, (c) => void (c.pad_token = "<pad>"))),
  tokenizerCase("tok-config-missing", (d) => rmSync(join(d, "tokenizer_config.json"))),
  tokenizerCase("tok-config-not-object", (d) => writeFileSync(join(d, "tokenizer_config.json"), '"gpt2"')),
  tokenizerCase("tok-eos-not-in-vocabulary", (d) => tokConfig(d, (c) => void (c.eos_token = "</never>"))),
  tokenizerCase("tok-no-eos-token", (d) => tokConfig(d, (c) => void delete c.eos_token)),
  tokenizerCase("tok-eos-token-number", (d) => tokConfig(d, (c) => void (c.eos_token = 5))),
  tokenizerCase("tok-model-max-length-string", (d) => tokConfig(d, (c) => void (c.model_max_length = "64"))),
  tokenizerCase("tok-special-tokens-map-not-json", (d) => writeFileSync(join(d, "special_tokens_map.json"), "{eos: 1}")),
  tokenizerCase("tok-chat-template-not-string", (d) => tokConfig(d, (c) => void (c.chat_template = 42)), ["--chat-template"]),
];

/** `rrhf train --config FILE` on a broken config file. */
function trainConfigCase(name: string, ext: "json" | "yaml", text: (base: Record<string, unknown>) => string): BadInputCase {
  return {
    name,
    group: "train-config",
    make: (root) => {
      const base = { model: fixture("models", "gpt2-tiny"), data: DATA, output_dir: join(root, "out"), max_steps: 2, backend: "ref" };
      const file = join(root, `train.${ext}`);
      writeFileSync(file, text(base));
      return ["train", "--config", file];
    },
  };
}

const json = (extra: Record<string, unknown>) => (b: Record<string, unknown>) => JSON.stringify({ ...b, ...extra });
const yaml = (extra: string) => (b: Record<string, unknown>) =>
  `${Object.entries(b)
    .map(([k, v]) => `${k}: ${String(v)}`)
    .join("\n")}\n${extra}\n`;

const TRAIN_CONFIG_CASES: BadInputCase[] = [
  // A fixed text: the error position must not depend on where the repository (and so the fixture paths) lie.
  trainConfigCase("cfg-json-syntax", "json", () => '{"learning_rate": 0.001 "max_steps": 2}'),
  trainConfigCase("cfg-yaml-syntax", "yaml", yaml("learning_rate: [1e-3")),
  trainConfigCase("cfg-not-a-mapping", "yaml", () => "- model\n- data\n"),
  trainConfigCase("cfg-yaml-unresolved-alias", "yaml", () => "*!"),
  trainConfigCase("cfg-yaml-alias-bomb", "yaml", () =>
    [
      "a: &a [1,1,1,1,1,1,1,1,1]",
      "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]",
      "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]",
      "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]",
      "e: [*d,*d,*d,*d,*d,*d,*d,*d,*d]",
    ].join("\n"),
  ),
  trainConfigCase("cfg-unknown-key", "json", json({ learning_rat: 1e-3 })),
  trainConfigCase("cfg-learning-rate-string", "json", json({ learning_rate: "fast" })),
  trainConfigCase("cfg-learning-rate-negative", "yaml", yaml("learning_rate: -0.1")),
  trainConfigCase("cfg-batch-size-zero", "json", json({ per_device_train_batch_size: 0 })),
  trainConfigCase("cfg-warmup-ratio-above-one", "json", json({ warmup_ratio: 2 })),
  trainConfigCase("cfg-model-folder-missing", "yaml", (b) => yaml("")({ ...b, model: "/nonexistent/rrhf-model" })),
  trainConfigCase("cfg-length-penalty-string", "yaml", yaml("length_penalty: long")),
  trainConfigCase("cfg-max-steps-fractional", "yaml", (b) => yaml("")({ ...b, max_steps: 2.5 })),
  trainConfigCase("cfg-unknown-scheduler", "json", json({ lr_scheduler_type: "sawtooth" })),
  trainConfigCase("cfg-seed-object", "json", json({ seed: { value: 1 } })),
];

/** `rrhf train --resume-from-checkpoint` on a damaged copy of a finished run's checkpoint-1. */
function checkpointCase(name: string, edit: (ck: string) => void): BadInputCase {
  return {
    name,
    group: "checkpoint",
    make: (root, checkpointOut) => {
      const out = join(root, "out");
      cpSync(join(checkpointOut, "checkpoint-1"), join(out, "checkpoint-1"), { recursive: true });
      edit(join(out, "checkpoint-1"));
      return [
        "train",
        "--model",
        fixture("models", "gpt2-tiny"),
        "--data",
        DATA,
        "--out",
        out,
        "--backend",
        "ref",
        "--max-steps",
        "2",
        "--save-steps",
        "1",
        "--per-device-train-batch-size",
        "4",
        "--resume-from-checkpoint",
        join(out, "checkpoint-1"),
      ];
    },
  };
}

const ckJson = (ck: string, file: string, edit: (v: Record<string, unknown>) => void) => editJson(join(ck, file), edit);

const CHECKPOINT_CASES: BadInputCase[] = [
  checkpointCase("ck-trainer-state-missing", (ck) => rmSync(join(ck, "trainer_state.json"))),
  checkpointCase("ck-trainer-state-not-json", (ck) => writeFileSync(join(ck, "trainer_state.json"), '{"global_step": 1')),
  checkpointCase("ck-format-version-unknown", (ck) =>
    ckJson(ck, "trainer_state.json", (s) => {
      (s.rrhf_checkpoint as Record<string, unknown>).format_version = 99;
    }),
  ),
  checkpointCase("ck-global-step-string", (ck) => ckJson(ck, "trainer_state.json", (s) => void (s.global_step = "1"))),
  checkpointCase("ck-optimizer-truncated", (ck) => truncateBy(join(ck, "optimizer.safetensors"), 4)),
  checkpointCase("ck-optimizer-header-length-2^60", (ck) => setU64(join(ck, "optimizer.safetensors"), 0, 1n << 60n)),
  checkpointCase("ck-optimizer-scalars-not-json", (ck) => {
    const file = join(ck, "optimizer.safetensors");
    const { header: h, data } = splitSafetensors(file);
    const meta = h.__metadata__ as Record<string, string>;
    meta.scalars = meta.scalars.slice(0, -1) + "!";
    joinSafetensors(file, h, data);
    ckJson(ck, "trainer_state.json", (s) => {
      (s.rrhf_checkpoint as { files: Record<string, number> }).files["optimizer.safetensors"] =
        8 + Buffer.byteLength(JSON.stringify(h)) + data.length;
    });
  }),
  checkpointCase("ck-scheduler-not-json", (ck) => {
    writeFileSync(join(ck, "scheduler.json"), "{".padEnd(sizeOf(join(ck, "scheduler.json")), " "));
  }),
  checkpointCase("ck-training-args-not-json", (ck) => {
    writeFileSync(join(ck, "training_args.json"), "[".padEnd(sizeOf(join(ck, "training_args.json")), " "));
  }),
  checkpointCase("ck-weights-missing", (ck) => rmSync(join(ck, "model.safetensors"))),
];

/** Same-size rewrites keep the checkpoint's file manifest satisfied, so the content check is what fails. */
function sizeOf(file: string): number {
  return existsSync(file) ? statSync(file).size : 0;
}

export const BAD_INPUT_CASES: readonly BadInputCase[] = [
  ...MODEL_CASES,
  ...TOKENIZER_CASES,
  ...TRAIN_CONFIG_CASES,
  ...CHECKPOINT_CASES,
  ...LOOP_CASES,
];
