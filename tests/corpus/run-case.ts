/** Shared by the corpus test and the recorder: the finished run the checkpoint cases damage, and the message line. */
import { join } from "node:path";
import { resolveTrainConfig } from "../../src/train/config.js";
import { train } from "../../src/train/loop.js";
import { fixture, tempDir } from "../helpers.js";

/** A 2-step gpt2-tiny run with checkpoint-1 (batch 4, ref backend), in a fresh folder. */
export async function makeFinishedRun(): Promise<string> {
  const out = join(tempDir("rrhf-bad-ck-"), "out");
  await train(
    resolveTrainConfig({
      overrides: {
        model: fixture("models", "gpt2-tiny"),
        data: fixture("train", "tiny-train.jsonl"),
        output_dir: out,
        backend: "ref",
        per_device_train_batch_size: 4,
        max_steps: 2,
        save_steps: 1,
        logging_steps: 1,
      },
    }),
  );
  return out;
}

/**
 * The error message on stderr, without the `rrhf: error: ` prefix, or null:
 * its first line plus the indented lines that continue it, joined with " | "
 * (one line per case in expected.tsv).
 */
export function errorLine(stderr: string): string | null {
  const lines = stderr.split("\n");
  const at = lines.findIndex((l) => l.startsWith("rrhf: error: "));
  if (at < 0) return null;
  const out = [lines[at].slice("rrhf: error: ".length)];
  for (let i = at + 1; i < lines.length && /^\s+\S/.test(lines[i]); i++) out.push(lines[i].trim());
  return out.join(" | ");
}
