/** What the `rrhf train` CLI tests share: the fixture run every test starts from, as flags. */
import { join } from "node:path";
import { fixture, repoRoot } from "../helpers.js";

export const MODEL = fixture("models", "gpt2-tiny");
export const DATA = fixture("train", "tiny-train.jsonl");
/** The test-only script that runs the library `train()` with test hooks (see tests/train/train-child.ts). */
export const CHILD = join(repoRoot, "dist", "tests", "train", "train-child.js");

/** `rrhf train` on the tiny fixture with the shared settings, writing to `out`, plus `more` flags. */
export function base(out: string, ...more: string[]): string[] {
  return [
    "train",
    "--model",
    MODEL,
    "--data",
    DATA,
    "--out",
    out,
    "--backend",
    "ref",
    "--learning-rate",
    "3e-3",
    "--model-max-length",
    "64",
    ...more,
  ];
}
