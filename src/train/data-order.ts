/**
 * The order in which training queries are visited, and a "data position"
 * that pins down exactly where a run is, so a resumed run reads the same
 * batches the uninterrupted run would have read.
 *
 * Like Hugging Face's seeded sampler, every epoch has its own permutation
 * derived from (seed, epoch) alone, so nothing but the position needs saving.
 * Batches never straddle an epoch; the last batch of an epoch may be short
 * (`drop_last=False`, as in the HF Trainer).
 *
 * @example
 * const order = new DataOrder({ numExamples: 10, batchSize: 4, seed: 42 });
 * const step = order.nextStep(2);       // up to 2 batches (gradient accumulation)
 * const pos = order.getPosition();      // { epoch: 0, batch_in_epoch: 2 } -> trainer_state.json
 * const resumed = new DataOrder({ numExamples: 10, batchSize: 4, seed: 42, position: pos });
 */
import { UserError } from "../errors.js";
import { Rng } from "./rng.js";

/** Where the next batch comes from: epoch (0-based) and batch index inside it. */
export interface DataPosition {
  epoch: number;
  batch_in_epoch: number;
}

export interface Batch {
  epoch: number;
  batchInEpoch: number;
  /** Example indices into the dataset. */
  indices: number[];
}

export interface DataOrderOptions {
  numExamples: number;
  batchSize: number;
  seed: number;
  /** Shuffle every epoch (training); false keeps file order (evaluation). */
  shuffle?: boolean;
  /** Start here instead of at the beginning (resume). */
  position?: DataPosition;
}

export class DataOrder {
  readonly numExamples: number;
  readonly batchSize: number;
  readonly seed: number;
  readonly shuffle: boolean;
  /** ceil(numExamples / batchSize): batches in one epoch. */
  readonly batchesPerEpoch: number;
  private position: DataPosition = { epoch: 0, batch_in_epoch: 0 };
  private cachedEpoch = -1;
  private cachedPermutation = new Uint32Array(0);

  constructor(opts: DataOrderOptions) {
    if (!Number.isInteger(opts.numExamples) || opts.numExamples < 1) {
      throw new UserError(`the training data has no examples (numExamples=${opts.numExamples})`);
    }
    if (!Number.isInteger(opts.batchSize) || opts.batchSize < 1) {
      throw new UserError(`batch size must be a positive integer, got ${opts.batchSize}`);
    }
    this.numExamples = opts.numExamples;
    this.batchSize = opts.batchSize;
    this.seed = opts.seed;
    this.shuffle = opts.shuffle ?? true;
    this.batchesPerEpoch = Math.ceil(opts.numExamples / opts.batchSize);
    if (opts.position) this.setPosition(opts.position);
  }

  getPosition(): DataPosition {
    return { ...this.position };
  }

  setPosition(pos: DataPosition): void {
    const ok =
      Number.isInteger(pos.epoch) &&
      pos.epoch >= 0 &&
      Number.isInteger(pos.batch_in_epoch) &&
      pos.batch_in_epoch >= 0 &&
      pos.batch_in_epoch <= this.batchesPerEpoch;
    if (!ok) {
      throw new UserError(
        `invalid data position ${JSON.stringify(pos)} for ${this.batchesPerEpoch} batches per epoch ` +
          `(did the data or the batch size change since the checkpoint?)`,
      );
    }
    // A position at the very end of an epoch is the start of the next one.
    this.position =
      pos.batch_in_epoch === this.batchesPerEpoch
        ? { epoch: pos.epoch + 1, batch_in_epoch: 0 }
        : { epoch: pos.epoch, batch_in_epoch: pos.batch_in_epoch };
  }

  /** Fractional epochs completed, as HF logs `epoch` (e.g. 1.25). */
  epochProgress(): number {
    return this.position.epoch + this.position.batch_in_epoch / this.batchesPerEpoch;
  }

  /** The visiting order of one epoch: a permutation of 0..numExamples-1. */
  permutation(epoch: number): Uint32Array {
    if (epoch !== this.cachedEpoch) {
      const perm = new Uint32Array(this.numExamples);
      for (let i = 0; i < perm.length; i++) perm[i] = i;
      if (this.shuffle) Rng.fromSeed(this.seed, epoch).shuffle(perm);
      this.cachedEpoch = epoch;
      this.cachedPermutation = perm;
    }
    return this.cachedPermutation;
  }

  /** The next batch; advances the position (rolling over to the next epoch). */
  nextBatch(): Batch {
    const { epoch, batch_in_epoch } = this.position;
    const perm = this.permutation(epoch);
    const start = batch_in_epoch * this.batchSize;
    const end = Math.min(start + this.batchSize, this.numExamples);
    const batch: Batch = { epoch, batchInEpoch: batch_in_epoch, indices: Array.from(perm.subarray(start, end)) };
    this.setPosition({ epoch, batch_in_epoch: batch_in_epoch + 1 });
    return batch;
  }

  /**
   * The micro-batches of one optimizer step: `accumulationSteps` batches, or
   * fewer at the end of an epoch (HF's Trainer also steps on a partial
   * accumulation at the epoch's end, so steps per epoch =
   * ceil(batchesPerEpoch / accumulationSteps)).
   */
  nextStep(accumulationSteps: number): Batch[] {
    if (!Number.isInteger(accumulationSteps) || accumulationSteps < 1) {
      throw new UserError(`gradient accumulation steps must be a positive integer, got ${accumulationSteps}`);
    }
    const epoch = this.position.epoch;
    const out: Batch[] = [];
    while (out.length < accumulationSteps && this.position.epoch === epoch) out.push(this.nextBatch());
    return out;
  }
}
