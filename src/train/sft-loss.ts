/**
 * The supervised fine-tuning loss: the mean negative log-likelihood of every
 * scored token of the batch (responses with their EOS, or texts), pooled over
 * the batch's tokens as Hugging Face's causal-LM loss pools its labels
 * (not a mean of per-sequence means). Under gradient accumulation each
 * micro-batch's mean is scaled by 1 / micro-batches, as for the RRHF loss.
 *
 * @example
 * const pass = model.forward(batch, { grad: true });
 * const out = sftLossWithGrad(pass.tokenLogps, 1);
 * if (out !== null) pass.backward(out.dTokenLogps);
 */

/** The loss of one batch and its gradient with respect to the scored log-probs. */
export interface SftLoss {
  loss: number;
  /** Scored tokens the mean is over. */
  tokens: number;
  /** d(dLoss * loss) / d(tokenLogps): -dLoss / tokens everywhere. */
  dTokenLogps: Float32Array;
}

/**
 * Mean token NLL of `tokenLogps` (the model's log-prob of every scored
 * token) and its gradient scaled by `dLoss`. Null when a log-prob is NaN/inf
 * (the step is then non-finite and skipped by the guard).
 */
export function sftLossWithGrad(tokenLogps: Float32Array, dLoss: number): SftLoss | null {
  const tokens = tokenLogps.length;
  if (tokens === 0) throw new Error("sftLossWithGrad: a batch with no scored token");
  let sum = 0;
  for (let i = 0; i < tokens; i++) sum += tokenLogps[i];
  if (!Number.isFinite(sum)) return null;
  return { loss: -sum / tokens, tokens, dTokenLogps: new Float32Array(tokens).fill(-dLoss / tokens) };
}
