/**
 * The fuzz targets: every parser of a file a user may download. Each target
 * prepares its fixtures once, then gives an input generator (random and
 * mutated-valid inputs) and the check of one input (see check.ts).
 */
import fc from "fast-check";
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseJsonLine } from "../../src/data/jsonl.js";
import { readAllRecords } from "../../src/data/reader.js";
import { checkRecord } from "../../src/data/schema.js";
import { DataError } from "../../src/errors.js";
import { parseHeaderJson, parseHeaderSize } from "../../src/io/safetensors-header.js";
import { readSafetensors } from "../../src/io/safetensors.js";
import { normalizeConfig } from "../../src/models/hf/config.js";
import { loadModelFolder } from "../../src/models/hf/folder.js";
import { loadCausalLM } from "../../src/models/registry.js";
import { loadTokenizer } from "../../src/tokenize/tokenizer.js";
import { resolveTrainConfig, type TrainConfig, type TrainConfigInput } from "../../src/train/config.js";
import { train } from "../../src/train/loop.js";
import { createOptimizer, segmentsFromSpecs } from "../../src/train/optim/index.js";
import { assertResumableArgs } from "../../src/train/resume-args.js";
import { restoreCheckpoint } from "../../src/train/run-resume.js";
import { LrSchedule } from "../../src/train/schedule.js";
import { fixture, tempDir } from "../helpers.js";
import { expectCleanOutcome } from "./check.js";
import { jsonFileBytes, mutatedBytes, mutatedJson } from "./mutate.js";
import { labelRequestTarget } from "./label-target.js";
import { serveRequestTarget } from "./serve-target.js";

export interface PreparedTarget<T> {
  arbitrary: fc.Arbitrary<T>;
  check: (input: T) => Promise<void>;
  /** Stops what prepare started (servers); absent when nothing needs stopping. */
  dispose?: () => Promise<void>;
}

export interface FuzzTarget {
  name: string;
  /** What it covers, for docs/reliability.md. */
  covers: string;
  /** Runs in CI (`npm test`); the full run uses the count given to run.js. */
  ciRuns: number;
  prepare: () => Promise<PreparedTarget<unknown>>;
}

const readJson = (file: string): unknown => JSON.parse(readFileSync(file, "utf8"));
const chooseFile = <K extends string>(files: readonly K[]) => fc.constantFrom(...files);

function jsonlTarget(): FuzzTarget {
  return {
    name: "jsonl-record",
    covers: "parseJsonLine + checkRecord (src/data/jsonl.ts, schema.ts) on one line",
    ciRuns: 400,
    prepare: async () => {
      const lines = readFileSync(fixture("train", "tiny-train.jsonl"), "utf8").trim().split("\n");
      const values = lines.map((l) => JSON.parse(l) as unknown);
      const arbitrary = fc.oneof(
        fc.constantFrom(...values).chain((v) => mutatedJson(v).map((m) => Buffer.from(JSON.stringify(m) ?? "null"))),
        fc.constantFrom(...lines).chain((l) => mutatedBytes(Buffer.from(l))),
        fc.uint8Array({ maxLength: 200 }),
        fc.jsonValue({ maxDepth: 3 }).map((v) => Buffer.from(JSON.stringify(v) ?? "null")),
      );
      return {
        arbitrary,
        check: async (bytes: Uint8Array) => {
          await expectCleanOutcome(() => {
            const parsed = parseJsonLine(bytes, "data.jsonl", 7);
            if (parsed.error !== undefined) throw parsed.error;
            const result = checkRecord(parsed.value, "data.jsonl", 7);
            for (const p of result.problems) {
              if (!(p instanceof DataError) || !p.message.startsWith("data.jsonl:7: "))
                throw new Error(`badly located problem: ${String(p)}`);
            }
            if (result.problems.length > 0) throw result.problems[0];
          }, ["data.jsonl:7: "]);
        },
      } as PreparedTarget<unknown>;
    },
  };
}

function jsonlFileTarget(): FuzzTarget {
  return {
    name: "jsonl-file",
    covers: "readAllRecords over a whole mutated .jsonl file (src/data/reader.ts, lines.ts)",
    ciRuns: 100,
    prepare: async () => {
      const base = readFileSync(fixture("train", "tiny-train.jsonl"));
      const file = join(tempDir("rrhf-fuzz-"), "data.jsonl");
      return {
        arbitrary: fc.oneof(mutatedBytes(base), fc.uint8Array({ maxLength: 300 })),
        check: async (bytes: Uint8Array) => {
          writeFileSync(file, bytes);
          await expectCleanOutcome(() => readAllRecords(file), [file]);
        },
      } as PreparedTarget<unknown>;
    },
  };
}

const SAFETENSORS_BASES = [fixture("models", "gpt2-tiny", "model.safetensors"), fixture("train", "gpt2-tiny-steps.safetensors")];

function safetensorsHeaderTarget(): FuzzTarget {
  return {
    name: "safetensors-header",
    covers: "parseHeaderSize + parseHeaderJson (src/io/safetensors-header.ts) on mutated files",
    ciRuns: 400,
    prepare: async () => {
      const bases = SAFETENSORS_BASES.map((f) => readFileSync(f));
      const arbitrary = fc.oneof(
        { weight: 6, arbitrary: fc.constantFrom(...bases).chain((b) => mutatedBytes(b)) },
        { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }) },
      );
      return {
        arbitrary,
        check: async (bytes: Uint8Array) => {
          await expectCleanOutcome(() => {
            const n = parseHeaderSize("m.safetensors", bytes.subarray(0, 8), bytes.length);
            parseHeaderJson("m.safetensors", bytes.subarray(8, 8 + n), bytes.length - 8 - n);
          }, ["m.safetensors"]);
        },
      } as PreparedTarget<unknown>;
    },
  };
}

function safetensorsLoadTarget(): FuzzTarget {
  return {
    name: "safetensors-load",
    covers: "readSafetensors (src/io/safetensors.ts): header + every tensor read from a mutated file",
    ciRuns: 150,
    prepare: async () => {
      const bases = SAFETENSORS_BASES.map((f) => readFileSync(f));
      const file = join(tempDir("rrhf-fuzz-"), "model.safetensors");
      return {
        arbitrary: fc.constantFrom(...bases).chain((b) => mutatedBytes(b)),
        check: async (bytes: Uint8Array) => {
          writeFileSync(file, bytes);
          await expectCleanOutcome(() => readSafetensors(file), [file]);
        },
      } as PreparedTarget<unknown>;
    },
  };
}

const MODELS = ["gpt2-tiny", "llama-tiny", "qwen2-tiny"] as const;

function configTarget(): FuzzTarget {
  return {
    name: "hf-config",
    covers: "normalizeConfig (src/models/hf/config.ts) on mutated gpt2/llama/qwen2 config.json values",
    ciRuns: 600,
    prepare: async () => {
      const configs = MODELS.map((m) => readJson(fixture("models", m, "config.json")));
      const arbitrary = fc.oneof(
        { weight: 8, arbitrary: fc.constantFrom(...configs).chain((c) => mutatedJson(c)) },
        { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
      );
      return {
        arbitrary,
        check: async (raw: unknown) => {
          await expectCleanOutcome(() => normalizeConfig(raw, "x/config.json"), ["x/config.json"]);
        },
      } as PreparedTarget<unknown>;
    },
  };
}

function modelFolderTarget(): FuzzTarget {
  return {
    name: "model-folder",
    covers: "loadModelFolder (src/models/hf/folder.ts): mutated config.json or model.safetensors, config/weights mismatches",
    ciRuns: 150,
    prepare: async () => {
      const root = tempDir("rrhf-fuzz-");
      const dirs = MODELS.map((m) => {
        const dir = join(root, m);
        cpSync(fixture("models", m), dir, { recursive: true });
        return { dir, config: readJson(join(dir, "config.json")), weights: readFileSync(join(dir, "model.safetensors")) };
      });
      const arbitrary = fc
        .record({
          model: fc.nat({ max: dirs.length - 1 }),
          file: chooseFile(["config.json", "model.safetensors"] as const),
          seed: fc.nat(),
        })
        .chain(({ model, file }) => {
          const d = dirs[model];
          const bytes = file === "config.json" ? jsonFileBytes(d.config) : mutatedBytes(d.weights);
          return bytes.map((b) => ({ model, file, bytes: b }));
        });
      return {
        arbitrary,
        check: async ({ model, file, bytes }: { model: number; file: string; bytes: Uint8Array }) => {
          const d = dirs[model];
          writeFileSync(join(d.dir, file), bytes);
          try {
            await expectCleanOutcome(() => loadModelFolder(d.dir), [d.dir]);
          } finally {
            writeFileSync(join(d.dir, "config.json"), JSON.stringify(d.config));
            writeFileSync(join(d.dir, "model.safetensors"), d.weights);
          }
        },
      } as PreparedTarget<unknown>;
    },
  };
}

function tokenizerTarget(): FuzzTarget {
  return {
    name: "tokenizer-folder",
    covers:
      "loadTokenizer (src/tokenize/tokenizer.ts) on mutated tokenizer.json / tokenizer_config.json / special_tokens_map.json, then encode+decode",
    ciRuns: 100,
    prepare: async () => {
      const dir = join(tempDir("rrhf-fuzz-"), "tok");
      cpSync(fixture("models", "gpt2-tiny"), dir, { recursive: true });
      const originals = {
        "tokenizer.json": readJson(join(dir, "tokenizer.json")),
        "tokenizer_config.json": readJson(join(dir, "tokenizer_config.json")),
        "special_tokens_map.json": { eos_token: "<|endoftext|>", pad_token: "<|endoftext|>" },
      };
      type Name = keyof typeof originals;
      const names = Object.keys(originals) as Name[];
      const arbitrary = chooseFile(names).chain((file) => jsonFileBytes(originals[file]).map((bytes) => ({ file, bytes })));
      return {
        arbitrary,
        check: async ({ file, bytes }: { file: Name; bytes: Uint8Array }) => {
          writeFileSync(join(dir, file), bytes);
          try {
            await expectCleanOutcome(async () => {
              const tok = await loadTokenizer(dir);
              tok.decode(tok.encode("Hello world!\n\nHuman: hi"));
            }, [dir]);
          } finally {
            for (const n of names) {
              if (n === "special_tokens_map.json") rmSync(join(dir, n), { force: true });
              else writeFileSync(join(dir, n), JSON.stringify(originals[n]));
            }
          }
        },
      } as PreparedTarget<unknown>;
    },
  };
}

const CHECKPOINT_FILES = [
  "trainer_state.json",
  "optimizer.safetensors",
  "scheduler.json",
  "rng_state.json",
  "training_args.json",
  "config.json",
  "model.safetensors",
] as const;

/** One training step of gpt2-tiny with a checkpoint, made once per process. */
async function makeCheckpoint(): Promise<{ out: string; dir: string; overrides: TrainConfigInput; config: TrainConfig }> {
  const out = tempDir("rrhf-fuzz-ck-");
  const overrides: TrainConfigInput = {
    model: fixture("models", "gpt2-tiny"),
    data: fixture("train", "tiny-train.jsonl"),
    output_dir: out,
    backend: "ref",
    per_device_train_batch_size: 4,
    max_steps: 2,
    save_steps: 1,
    logging_steps: 1,
  };
  const config = resolveTrainConfig({ overrides });
  await train(config);
  return { out, dir: join(out, "checkpoint-1"), overrides, config };
}

function checkpointTarget(): FuzzTarget {
  return {
    name: "checkpoint",
    covers:
      "resuming from a mutated checkpoint: training_args.json (resolveTrainConfig, assertResumableArgs), " +
      "loadCheckpoint + restoreCheckpoint (src/train/checkpoint.ts, run-resume.ts, resume-args.ts)",
    ciRuns: 80,
    prepare: async () => {
      const { dir, overrides, config } = await makeCheckpoint();
      const model = loadCausalLM(fixture("models", "gpt2-tiny"), { backend: "ref", trainable: true });
      const originals = new Map(CHECKPOINT_FILES.map((f) => [f, readFileSync(join(dir, f))]));
      const arbitrary = chooseFile(CHECKPOINT_FILES).chain((file) => {
        const base = originals.get(file)!;
        const bytes = file.endsWith(".json") ? jsonFileBytes(JSON.parse(base.toString("utf8"))) : mutatedBytes(base);
        return bytes.map((b) => ({ file, bytes: b }));
      });
      return {
        arbitrary,
        check: async ({ file, bytes }: { file: string; bytes: Uint8Array }) => {
          writeFileSync(join(dir, file), bytes);
          try {
            await expectCleanOutcome(() => {
              const resumed = resolveTrainConfig({ overrides: { ...overrides, resume_from_checkpoint: dir } });
              assertResumableArgs(dir, resumed);
              const optimizer = createOptimizer(config.optim, segmentsFromSpecs(model.params.specs()), config);
              const schedule = LrSchedule.fromTrainingArgs(config, 2);
              restoreCheckpoint(dir, { model, optimizer, schedule, config });
            }, [dir]);
          } finally {
            for (const [f, b] of originals) writeFileSync(join(dir, f), b);
          }
        },
      } as PreparedTarget<unknown>;
    },
  };
}

function trainConfigTarget(): FuzzTarget {
  return {
    name: "train-config",
    covers: "loadTrainConfigFile + resolveTrainConfig (src/train/config.ts) on mutated JSON and YAML config files",
    ciRuns: 300,
    prepare: async () => {
      const root = tempDir("rrhf-fuzz-");
      mkdirSync(root, { recursive: true });
      const base = {
        model: fixture("models", "gpt2-tiny"),
        data: fixture("train", "tiny-train.jsonl"),
        output_dir: join(root, "out"),
        learning_rate: 1e-3,
        per_device_train_batch_size: 2,
        max_steps: 3,
        lr_scheduler_type: "cosine",
        warmup_ratio: 0.1,
        rrhf_weight: 1,
        length_penalty: 1,
        seed: 3,
      };
      const yamlText = Object.entries(base)
        .map(([k, v]) => `${k}: ${String(v)}`)
        .join("\n");
      const arbitrary = fc.oneof(
        jsonFileBytes(base).map((bytes) => ({ ext: "json", bytes })),
        mutatedBytes(Buffer.from(yamlText)).map((bytes) => ({ ext: "yaml", bytes })),
        fc.string({ maxLength: 100 }).map((s) => ({ ext: "yaml", bytes: Buffer.from(s) })),
      );
      return {
        arbitrary,
        check: async ({ ext, bytes }: { ext: string; bytes: Uint8Array }) => {
          const file = join(root, `train.${ext}`);
          writeFileSync(file, bytes);
          await expectCleanOutcome(() => resolveTrainConfig({ configFile: file }), [file]);
        },
      } as PreparedTarget<unknown>;
    },
  };
}

/** Every target, in the order the runners use. */
export const FUZZ_TARGETS: readonly FuzzTarget[] = [
  jsonlTarget(),
  jsonlFileTarget(),
  safetensorsHeaderTarget(),
  safetensorsLoadTarget(),
  configTarget(),
  modelFolderTarget(),
  tokenizerTarget(),
  checkpointTarget(),
  trainConfigTarget(),
  serveRequestTarget(),
  labelRequestTarget(),
];
