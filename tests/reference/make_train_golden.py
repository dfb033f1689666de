#!/usr/bin/python3
"""Writes the optimiser-step goldens for the training-loop parity test.

Run from the repository root (torch + numpy only, no transformers):

    /usr/bin/python3 tests/reference/make_train_golden.py

Starting from tests/fixtures/models/gpt2-tiny and the golden RRHF batch of
tests/fixtures/golden/gpt2-tiny.json (its three queries; the all-padding row
is left out), it runs, in float64, what `rrhf train` does in one update:
loss over the micro-batches (each micro-batch loss divided by their number,
as HF does under gradient accumulation), backward,
torch.nn.utils.clip_grad_norm_(max_norm), optimizer.step() at the learning
rate of HF's linear schedule (no warmup) for that step. Weight decay goes to
tensors with >= 2 dims only, as our trainer (and HF, by module type) does.

  sgd:   one torch.optim.SGD step, all three queries in one micro-batch
  adamw: two torch.optim.AdamW steps, each over two micro-batches
         (queries 0-1, then query 2): gradient accumulation 2

It writes tests/fixtures/train/gpt2-tiny-steps.json (settings, losses, grad
norms) and gpt2-tiny-steps.safetensors (`sgd.<name>`, `adamw.<name>`: the
parameters after the steps). CI does not run this; bump VERSION when the
meaning changes (the TS test checks it).
"""
import json
import os
import struct
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from golden_loss import rrhf_loss, token_logps_from_logits  # noqa: E402
from golden_models import gpt2_logits  # noqa: E402
from golden_safetensors import write_safetensors  # noqa: E402

VERSION = 1
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
MODEL_DIR = os.path.join(ROOT, "tests", "fixtures", "models", "gpt2-tiny")
GOLDEN_JSON = os.path.join(ROOT, "tests", "fixtures", "golden", "gpt2-tiny.json")
OUT_DIR = os.path.join(ROOT, "tests", "fixtures", "train")

TOTAL_STEPS = 4  # the schedule's horizon: linear decay lr * (N - step) / N
SGD = {"optim": "sgd", "learning_rate": 0.5, "max_grad_norm": 1.0, "weight_decay": 0.01,
       "micro_batches": [[0, 1, 2]], "steps": 1}
ADAMW = {"optim": "adamw", "learning_rate": 0.01, "max_grad_norm": 1.0, "weight_decay": 0.01,
         "adam_beta1": 0.9, "adam_beta2": 0.999, "adam_epsilon": 1e-6,
         "micro_batches": [[0, 1], [2]], "steps": 2}


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        assert info["dtype"] == "F32", name
        a, b = info["data_offsets"]
        arr = np.frombuffer(data[a:b], dtype="<f4").reshape(info["shape"])
        out[name] = torch.tensor(arr.astype(np.float64))
    return out


def load_batch():
    with open(GOLDEN_JSON) as f:
        b = json.load(f)["batch"]
    rows = [r for r, q in enumerate(b["row_query"]) if q >= 0]
    t = lambda k, dt=torch.long: torch.tensor([b[k][r] for r in rows], dtype=dt)
    return {"input_ids": t("input_ids"), "labels": t("labels"), "attention_mask": t("attention_mask"),
            "row_query": t("row_query"), "scores": t("scores", torch.float64)}


def micro_batch(batch, queries):
    rows = [r for r in range(len(batch["row_query"])) if int(batch["row_query"][r]) in queries]
    return {k: v[rows] for k, v in batch.items()}


def run(cfg, setting, weights, batch):
    params = {k: v.clone().requires_grad_(True) for k, v in weights.items()}
    decay = [p for p in params.values() if p.dim() >= 2]
    no_decay = [p for p in params.values() if p.dim() < 2]
    groups = [{"params": decay, "weight_decay": setting["weight_decay"]}, {"params": no_decay, "weight_decay": 0.0}]
    lr = setting["learning_rate"]
    if setting["optim"] == "sgd":
        opt = torch.optim.SGD(groups, lr=lr)
    else:
        opt = torch.optim.AdamW(groups, lr=lr, betas=(setting["adam_beta1"], setting["adam_beta2"]),
                                eps=setting["adam_epsilon"])
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: max(0.0, (TOTAL_STEPS - s) / TOTAL_STEPS))
    log = []
    for _ in range(setting["steps"]):
        opt.zero_grad()
        n = len(setting["micro_batches"])
        total = 0.0
        for queries in setting["micro_batches"]:
            mb = micro_batch(batch, queries)
            logits = gpt2_logits(cfg, params, mb["input_ids"], mb["attention_mask"])
            logps = token_logps_from_logits(logits, mb["labels"])
            # Query ids restart at 0 in each micro-batch; rrhf_loss only groups by them.
            res = rrhf_loss(logps, mb["labels"], mb["row_query"], mb["scores"])
            (res["loss"] / n).backward()
            total += float(res["loss"]) / n
        norm = torch.nn.utils.clip_grad_norm_(list(params.values()), setting["max_grad_norm"])
        log.append({"loss": total, "grad_norm": float(norm), "learning_rate": opt.param_groups[0]["lr"]})
        opt.step()
        sched.step()
    return params, log


def main():
    with open(os.path.join(MODEL_DIR, "config.json")) as f:
        cfg = json.load(f)
    weights = read_safetensors(os.path.join(MODEL_DIR, "model.safetensors"))
    batch = load_batch()
    os.makedirs(OUT_DIR, exist_ok=True)
    tensors = {}
    meta = {"version": VERSION, "generator": "tests/reference/make_train_golden.py",
            "model": "tests/fixtures/models/gpt2-tiny", "batch": "tests/fixtures/golden/gpt2-tiny.json (rows with row_query >= 0)",
            "total_steps": TOTAL_STEPS, "lr_scheduler_type": "linear", "warmup_steps": 0}
    for key, setting in (("sgd", SGD), ("adamw", ADAMW)):
        params, log = run(cfg, setting, weights, batch)
        for name, p in params.items():
            tensors[f"{key}.{name}"] = p.detach().float().numpy()
        meta[key] = dict(setting, log=log)
    write_safetensors(os.path.join(OUT_DIR, "gpt2-tiny-steps.safetensors"), tensors, {"version": VERSION})
    with open(os.path.join(OUT_DIR, "gpt2-tiny-steps.json"), "w") as f:
        json.dump(meta, f, indent=1)
        f.write("\n")
    print(json.dumps({k: meta[k]["log"] for k in ("sgd", "adamw")}, indent=1))


if __name__ == "__main__":
    main()
