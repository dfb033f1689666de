/** The training config the loop tests start from: the tiny GPT-2 fixture on its tiny data set, reference kernels. */
import { resolveTrainConfig, type TrainConfig, type TrainConfigInput } from "../../src/train/config.js";
import { fixture } from "../helpers.js";

/** A resolved config writing into `out`; `settings` add to or override the base. */
export function tinyRunConfig(out: string, settings: TrainConfigInput = {}): TrainConfig {
  return resolveTrainConfig({
    overrides: {
      model: fixture("models", "gpt2-tiny"),
      data: fixture("train", "tiny-train.jsonl"),
      output_dir: out,
      backend: "ref",
      learning_rate: 3e-3,
      ...settings,
    },
  });
}
