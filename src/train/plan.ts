/**
 * How many optimizer updates a run makes, as the Hugging Face Trainer counts
 * them: updates per epoch = ceil(batches per epoch / gradient accumulation)
 * (a partial accumulation at an epoch's end still updates); total =
 * `max_steps` when > 0, else ceil(num_train_epochs * updates per epoch).
 *
 * @example
 * trainingPlan({ numExamples: 100, per_device_train_batch_size: 4, gradient_accumulation_steps: 8,
 *                num_train_epochs: 3, max_steps: -1 });
 * // { batchesPerEpoch: 25, stepsPerEpoch: 4, totalSteps: 12, numEpochs: 3 }
 */
import { UserError } from "../errors.js";

export interface TrainingPlanInput {
  numExamples: number;
  per_device_train_batch_size: number;
  gradient_accumulation_steps: number;
  num_train_epochs: number;
  max_steps: number;
}

export interface TrainingPlan {
  batchesPerEpoch: number;
  stepsPerEpoch: number;
  totalSteps: number;
  /** Epochs the loop will enter (the last one may be partial). */
  numEpochs: number;
}

export function trainingPlan(input: TrainingPlanInput): TrainingPlan {
  const { numExamples, per_device_train_batch_size: bs, gradient_accumulation_steps: accum } = input;
  if (!Number.isInteger(numExamples) || numExamples < 1) throw new UserError("the training data has no examples");
  const batchesPerEpoch = Math.ceil(numExamples / bs);
  const stepsPerEpoch = Math.max(1, Math.ceil(batchesPerEpoch / accum));
  const totalSteps = input.max_steps > 0 ? input.max_steps : Math.ceil(input.num_train_epochs * stepsPerEpoch);
  if (totalSteps < 1) throw new UserError("the run would make no optimizer update (check --num-train-epochs / --max-steps)");
  return { batchesPerEpoch, stepsPerEpoch, totalSteps, numEpochs: Math.ceil(totalSteps / stepsPerEpoch) };
}
