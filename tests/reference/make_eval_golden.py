#!/usr/bin/python3
"""Writes the PyTorch goldens of `rrhf eval` on scored data: perplexity, KL and ranking accuracy.

Run from the repository root (needs only torch and numpy; no transformers):

    /usr/bin/python3 tests/reference/make_eval_golden.py

It reads the committed fixture models (tests/fixtures/models/{gpt2-tiny,llama-tiny},
both with 64-token vocabularies) and tests/fixtures/golden/eval-data.jsonl, and
writes tests/fixtures/golden/eval.json. Independent of the TypeScript code:
the records are tokenised here with gpt2-tiny's character vocabulary (one id
per character, no special tokens; EOS id 0 after each response), each row
query ++ response ++ [EOS] is run on its own through the float64 models of
golden_models.py, and

- perplexity = exp(mean over every response token and EOS of -log p(token | prefix)),
- kl = mean over the same positions of sum_v p_v (log p_v - log q_v), p the
  policy's and q the reference's next-token distribution (log_softmax of the
  logits one position earlier),
- ranking_accuracy = over the pairs of a record's responses whose scores
  differ, the share where the mean token log-prob (length_penalty 1) is
  strictly larger for the higher-scored response.

CI does not run this script; its output is committed.
"""
import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from golden_models import gpt2_logits, llama_logits  # noqa: E402
from golden_safetensors import read_safetensors_f64  # noqa: E402

FIXTURE_VERSION = 1
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
MODELS = {"gpt2-tiny": gpt2_logits, "llama-tiny": llama_logits}
DATA = os.path.join("tests", "fixtures", "golden", "eval-data.jsonl")


def read_safetensors(path):
    return {name: torch.from_numpy(a) for name, a in read_safetensors_f64(path).items()}


def load(name):
    folder = os.path.join(ROOT, "tests", "fixtures", "models", name)
    with open(os.path.join(folder, "config.json")) as f:
        cfg = json.load(f)
    return (MODELS[name], cfg, read_safetensors(os.path.join(folder, "model.safetensors")))


def char_vocab():
    with open(os.path.join(ROOT, "tests", "fixtures", "models", "gpt2-tiny", "tokenizer.json")) as f:
        return json.load(f)["model"]["vocab"]


def log_probs(model, ids):
    """[T, V] log_softmax of the logits at every position of one row."""
    fn, cfg, w = model
    x = torch.tensor([ids], dtype=torch.long)
    return torch.log_softmax(fn(cfg, w, x, torch.ones_like(x))[0], dim=-1)


def evaluate(policy, ref, records, vocab, eos):
    nll, kl, tokens, pairs, correct = 0.0, 0.0, 0, 0, 0
    for rec in records:
        q = [vocab[c] for c in rec["query"]]
        means = []
        for resp in rec["responses"]:
            r = [vocab[c] for c in resp] + [eos]
            row = q + r
            lp, lq = log_probs(policy, row), log_probs(ref, row)
            s = 0.0
            for t in range(len(q), len(row)):
                token_lp = float(lp[t - 1, row[t]])
                nll -= token_lp
                s += token_lp
                kl += float((lp[t - 1].exp() * (lp[t - 1] - lq[t - 1])).sum())
                tokens += 1
            means.append(s / len(r))
        sc = rec["scores"]
        for i in range(len(sc)):
            for j in range(i + 1, len(sc)):
                if sc[i] == sc[j]:
                    continue
                pairs += 1
                hi, lo = (i, j) if sc[i] > sc[j] else (j, i)
                correct += 1 if means[hi] > means[lo] else 0
    return {"perplexity": float(np.exp(nll / tokens)), "kl": kl / tokens, "ranking_accuracy": correct / pairs, "tokens": tokens}


def main():
    torch.set_grad_enabled(False)
    vocab = char_vocab()
    eos = vocab["<|endoftext|>"]
    with open(os.path.join(ROOT, DATA)) as f:
        records = [json.loads(line) for line in f if line.strip()]
    cases = []
    for policy, ref in (("gpt2-tiny", "llama-tiny"), ("llama-tiny", "gpt2-tiny")):
        metrics = evaluate(load(policy), load(ref), records, vocab, eos)
        cases.append({"model": policy, "ref": ref, "tokenizer": "gpt2-tiny", "data": DATA, **metrics})
    out = os.path.join(ROOT, "tests", "fixtures", "golden", "eval.json")
    with open(out, "w") as f:
        json.dump({"fixture_version": FIXTURE_VERSION, "cases": cases}, f, indent=1)
        f.write("\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
