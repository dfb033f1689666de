"""Writes tests/fixtures/optim/optim_golden.json: optimiser and schedule goldens.

Run offline (not in CI) with Debian's torch, from the repository root:

    /usr/bin/python3 tests/reference/make_optim_golden.py

What it records, for a few small tensors of odd shapes (1-D, 2-D, 3-D):
- params after one torch.optim.SGD step, and after two SGD-with-momentum steps;
- params after two torch.optim.AdamW steps with weight decay and
  clip_grad_norm_ (the HF Trainer's order: clip, then step);
- params after two Adafactor steps as the HF Trainer configures it
  (scale_parameter=False, relative_step=False, warmup_init=False, beta1=None).
  torch 1.13 has no Adafactor, so `adafactor_step` below implements the
  published algorithm (Shazeer & Stern 2018, as in transformers) directly;
- learning rates of the HF schedules (linear, cosine, constant with warmup).

Weight decay goes to tensors with >= 2 dims only, as our trainer does
(HF exempts biases and norm weights, which are exactly the 1-D tensors).
Bump VERSION when the file's meaning changes; the TS tests check it.
"""
import json
import math
import os

import torch

VERSION = 1
OUT = os.path.join("tests", "fixtures", "optim", "optim_golden.json")

SHAPES = [
    ("wte.weight", [7, 5]),
    ("h.0.ln_1.weight", [5]),
    ("h.0.attn.c_attn.weight", [5, 9]),
    ("h.0.attn.c_attn.bias", [9]),
    ("h.0.mlp.stacked", [2, 3, 4]),
    ("edge.column", [3, 1]),
]


def flat(t):
    """float32 values as Python floats (exact, so JSON round-trips them)."""
    return [float(x) for x in t.detach().reshape(-1).tolist()]


def make_inputs():
    gen = torch.Generator().manual_seed(1234)
    params = {n: torch.randn(s, generator=gen) for n, s in SHAPES}
    # Big enough gradients that a max norm of 1 clips them.
    grads = [{n: 0.5 * torch.randn(s, generator=gen) for n, s in SHAPES} for _ in range(2)]
    return params, grads


def torch_params(init):
    return {n: torch.nn.Parameter(t.clone()) for n, t in init.items()}


def groups(params, weight_decay):
    decay = [p for p in params.values() if p.dim() >= 2]
    no_decay = [p for p in params.values() if p.dim() < 2]
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]


def run_torch(opt_factory, init, grads, lrs, max_grad_norm):
    params = torch_params(init)
    opt = opt_factory(params)
    after, norms = [], []
    for g, lr in zip(grads, lrs):
        for n, p in params.items():
            p.grad = g[n].clone()
        if max_grad_norm > 0:
            norms.append(float(torch.nn.utils.clip_grad_norm_(list(params.values()), max_grad_norm)))
        for group in opt.param_groups:
            group["lr"] = lr
        opt.step()
        after.append({n: flat(p) for n, p in params.items()})
    return after, norms


# --- Adafactor, written out from the published algorithm -------------------

def adafactor_step(p, grad, state, lr, weight_decay, eps1=1e-30, clip_threshold=1.0, decay_rate=-0.8):
    """One in-place Adafactor update of tensor p (no first moment, no relative step)."""
    state["step"] = state.get("step", 0) + 1
    beta2t = 1.0 - state["step"] ** decay_rate
    sq = grad * grad + eps1
    if grad.dim() >= 2:
        row_mean_sq = sq.mean(dim=-1)  # [..., R]
        col_mean_sq = sq.mean(dim=-2)  # [..., C]
        if "row" not in state:
            state["row"] = torch.zeros_like(row_mean_sq)
            state["col"] = torch.zeros_like(col_mean_sq)
        state["row"] = beta2t * state["row"] + (1.0 - beta2t) * row_mean_sq
        state["col"] = beta2t * state["col"] + (1.0 - beta2t) * col_mean_sq
        # Rank-1 estimate of the second moment: row * col / mean(row).
        row_scale = torch.rsqrt(state["row"] / state["row"].mean(dim=-1, keepdim=True))
        col_scale = torch.rsqrt(state["col"])
        direction = grad * row_scale.unsqueeze(-1) * col_scale.unsqueeze(-2)
    else:
        if "v" not in state:
            state["v"] = torch.zeros_like(grad)
        state["v"] = beta2t * state["v"] + (1.0 - beta2t) * sq
        direction = grad * torch.rsqrt(state["v"])
    rms = direction.norm(2) / math.sqrt(direction.numel())
    direction = direction / torch.clamp(rms / clip_threshold, min=1.0)
    with torch.no_grad():
        if weight_decay != 0:
            p.add_(p, alpha=-weight_decay * lr)
        p.add_(-lr * direction)


def run_adafactor(init, grads, lrs, weight_decay, max_grad_norm):
    params = torch_params(init)
    states = {n: {} for n in params}
    after, norms = [], []
    for g, lr in zip(grads, lrs):
        for n, p in params.items():
            p.grad = g[n].clone()
        norms.append(float(torch.nn.utils.clip_grad_norm_(list(params.values()), max_grad_norm)))
        for n, p in params.items():
            wd = weight_decay if p.dim() >= 2 else 0.0
            adafactor_step(p.data, p.grad, states[n], lr, wd)
        after.append({n: flat(p) for n, p in params.items()})
    return after, norms


# --- HF learning-rate schedules ---------------------------------------------

def hf_lr_factor(kind, step, warmup, total):
    if step < warmup:
        return step / max(1, warmup)
    if kind == "constant_with_warmup":
        return 1.0
    if kind == "linear":
        return max(0.0, (total - step) / max(1, total - warmup))
    if kind == "cosine":
        progress = (step - warmup) / max(1, total - warmup)
        return max(0.0, 0.5 * (1.0 + math.cos(math.pi * 2.0 * 0.5 * progress)))
    raise ValueError(kind)


def schedules():
    out = []
    for kind, lr, warmup_steps, warmup_ratio, total in [
        ("linear", 2e-5, 0, 0.03, 100),
        ("cosine", 2e-5, 0, 0.07, 100),  # 0.07 * 100 = 7.000000000000001 -> 8 warmup steps
        ("cosine", 1e-3, 5, 0.0, 17),
        ("linear", 1e-3, 0, 0.0, 10),
        ("constant_with_warmup", 5e-4, 4, 0.0, 12),
    ]:
        # HF: warmup_steps wins when > 0, else ceil(ratio * total).
        warmup = warmup_steps if warmup_steps > 0 else math.ceil(warmup_ratio * total)
        out.append({
            "lr_scheduler_type": kind,
            "learning_rate": lr,
            "warmup_steps": warmup_steps,
            "warmup_ratio": warmup_ratio,
            "total_steps": total,
            "resolved_warmup_steps": warmup,
            "lrs": [lr * hf_lr_factor(kind, s, warmup, total) for s in range(total + 2)],
        })
    return out


def main():
    torch.manual_seed(0)
    init, grads = make_inputs()
    golden = {
        "version": VERSION,
        "generator": "tests/reference/make_optim_golden.py",
        "torch": torch.__version__,
        "segments": [{"name": n, "shape": s} for n, s in SHAPES],
        "params0": {n: flat(t) for n, t in init.items()},
        "grads": [{n: flat(t) for n, t in g.items()} for g in grads],
    }

    lr, wd = 0.1, 0.01
    after, _ = run_torch(lambda ps: torch.optim.SGD(groups(ps, wd), lr=lr), init, grads[:1], [lr], 0.0)
    golden["sgd"] = {"lrs": [lr], "weight_decay": wd, "momentum": 0.0, "max_grad_norm": 0.0, "after": after}

    lrs = [0.1, 0.05]
    after, _ = run_torch(lambda ps: torch.optim.SGD(groups(ps, wd), lr=lrs[0], momentum=0.9), init, grads, lrs, 0.0)
    golden["sgd_momentum"] = {"lrs": lrs, "weight_decay": wd, "momentum": 0.9, "max_grad_norm": 0.0, "after": after}

    lrs, wd = [1e-2, 5e-3], 0.1
    after, norms = run_torch(
        lambda ps: torch.optim.AdamW(groups(ps, wd), lr=lrs[0], betas=(0.9, 0.999), eps=1e-8),
        init, grads, lrs, 1.0)
    golden["adamw"] = {
        "lrs": lrs, "weight_decay": wd, "adam_beta1": 0.9, "adam_beta2": 0.999, "adam_epsilon": 1e-8,
        "max_grad_norm": 1.0, "grad_norms": norms, "after": after,
    }

    lrs, wd = [1e-2, 5e-3], 0.01
    after, norms = run_adafactor(init, grads, lrs, wd, 1.0)
    golden["adafactor"] = {"lrs": lrs, "weight_decay": wd, "max_grad_norm": 1.0, "grad_norms": norms, "after": after}

    golden["schedules"] = schedules()

    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w", encoding="utf-8") as f:
        json.dump(golden, f, indent=1)
        f.write("\n")
    print(f"wrote {OUT} ({os.path.getsize(OUT)} bytes)")


if __name__ == "__main__":
    main()
