#!/usr/bin/python3
"""Writes the SFT golden for `rrhf sft`'s parity test.

Run from the repository root (torch + numpy only, no transformers):

    /usr/bin/python3 tests/reference/make_sft_golden.py

Independently of the TypeScript code it tokenises
tests/fixtures/train/tiny-sft.jsonl with gpt2-tiny's character vocabulary
(tokenizer.json: a BPE without merges, so one id per character; GPT-2 adds
no special tokens) the way the RRHF paper tokenises responses:

  {query, response}: input = query ++ response ++ [EOS], labels -100 on the query
  {text}:            input = text ++ [EOS], labels on every token (the first
                     one has nothing before it, so it is never predicted)

and runs, in float64, two AdamW updates of gpt2-tiny (HF's linear schedule,
clip_grad_norm_, weight decay on >= 2-dim tensors only) with the loss
HF's causal-LM models compute: cross_entropy over the shifted labels,
ignore_index -100, mean over the batch's label tokens; under gradient
accumulation each micro-batch's loss is divided by their number, as HF does.

It writes tests/fixtures/golden/sft-gpt2-tiny.json (the encoded records, the
settings, each step's loss, grad norm and lr) and sft-gpt2-tiny.safetensors
(the parameters after the two steps). CI does not run this; bump VERSION
when the meaning changes (the TS test checks it).
"""
import json
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from golden_models import gpt2_logits  # noqa: E402
from golden_safetensors import write_safetensors  # noqa: E402
from make_train_golden import read_safetensors  # noqa: E402

VERSION = 1
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
MODEL_DIR = os.path.join(ROOT, "tests", "fixtures", "models", "gpt2-tiny")
DATA = os.path.join(ROOT, "tests", "fixtures", "train", "tiny-sft.jsonl")
OUT = os.path.join(ROOT, "tests", "fixtures", "golden")

TOTAL_STEPS = 4
SETTING = {"optim": "adamw", "learning_rate": 0.01, "max_grad_norm": 1.0, "weight_decay": 0.01,
           "adam_beta1": 0.9, "adam_beta2": 0.999, "adam_epsilon": 1e-6,
           # Record indices (0-based, file order) of each micro-batch of each step: gradient accumulation 2,
           # and both record kinds in one micro-batch.
           "steps": [[[0, 3], [1, 5]], [[2, 4, 7], [6]]]}


def encode(vocab, eos, record):
    ids = lambda s: [vocab[c] for c in s]
    if "text" in record:
        full = ids(record["text"]) + [eos]
        return {"input_ids": full, "labels": [-100] + full[1:]}
    q, r = ids(record["query"]), ids(record["response"]) + [eos]
    return {"input_ids": q + r, "labels": [-100] * len(q) + r}


def collate(encoded, pad):
    T = max(len(e["input_ids"]) for e in encoded)
    pad_to = lambda xs, v: xs + [v] * (T - len(xs))
    return {
        "input_ids": torch.tensor([pad_to(e["input_ids"], pad) for e in encoded]),
        "labels": torch.tensor([pad_to(e["labels"], -100) for e in encoded]),
        "attention_mask": torch.tensor([pad_to([1] * len(e["input_ids"]), 0) for e in encoded]),
    }


def causal_lm_loss(logits, labels):
    """What HF's *ForCausalLM computes from `labels`: shift, cross-entropy, mean over non-ignored tokens."""
    V = logits.shape[-1]
    return F.cross_entropy(logits[:, :-1].reshape(-1, V), labels[:, 1:].reshape(-1), ignore_index=-100)


def main():
    with open(os.path.join(MODEL_DIR, "config.json")) as f:
        cfg = json.load(f)
    with open(os.path.join(MODEL_DIR, "tokenizer.json")) as f:
        tok = json.load(f)
    assert tok["model"]["type"] == "BPE" and not tok["model"]["merges"], "expected a character-level tokenizer"
    vocab = tok["model"]["vocab"]
    eos = vocab["<|endoftext|>"]
    with open(DATA) as f:
        records = [json.loads(line) for line in f if line.strip()]
    encoded = [encode(vocab, eos, r) for r in records]

    params = {k: v.clone().requires_grad_(True) for k, v in read_safetensors(os.path.join(MODEL_DIR, "model.safetensors")).items()}
    s = SETTING
    groups = [{"params": [p for p in params.values() if p.dim() >= 2], "weight_decay": s["weight_decay"]},
              {"params": [p for p in params.values() if p.dim() < 2], "weight_decay": 0.0}]
    opt = torch.optim.AdamW(groups, lr=s["learning_rate"], betas=(s["adam_beta1"], s["adam_beta2"]), eps=s["adam_epsilon"])
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda k: max(0.0, (TOTAL_STEPS - k) / TOTAL_STEPS))
    log = []
    for micro_batches in s["steps"]:
        opt.zero_grad()
        n = len(micro_batches)
        total = 0.0
        for idx in micro_batches:
            b = collate([encoded[i] for i in idx], pad=eos)
            loss = causal_lm_loss(gpt2_logits(cfg, params, b["input_ids"], b["attention_mask"]), b["labels"])
            (loss / n).backward()
            total += float(loss) / n
        norm = torch.nn.utils.clip_grad_norm_(list(params.values()), s["max_grad_norm"])
        log.append({"loss": total, "grad_norm": float(norm), "learning_rate": opt.param_groups[0]["lr"]})
        opt.step()
        sched.step()

    meta = {"version": VERSION, "generator": "tests/reference/make_sft_golden.py", "model": "tests/fixtures/models/gpt2-tiny",
            "data": "tests/fixtures/train/tiny-sft.jsonl", "total_steps": TOTAL_STEPS, "lr_scheduler_type": "linear",
            "warmup_steps": 0, "encoded": encoded, "setting": dict(s, log=log)}
    tensors = {name: p.detach().float().numpy() for name, p in params.items()}
    write_safetensors(os.path.join(OUT, "sft-gpt2-tiny.safetensors"), tensors, {"version": str(VERSION)})
    with open(os.path.join(OUT, "sft-gpt2-tiny.json"), "w") as f:
        json.dump(meta, f, indent=1)
        f.write("\n")
    print(json.dumps(log, indent=1))


if __name__ == "__main__":
    main()
