#!/usr/bin/env python3
"""PyTorch CPU fp32 counterpart of bench/step.ts: one RRHF training step
(forward + loss with its SFT term + backward) of the same GPT-2-small-shaped
model (n_embd 768, 12 heads, vocab 50257, --layers layers) on the same
HH-like batch (one query of --query tokens, --responses responses of
--response-len tokens each, same token ids), in three forms:

  official   the layout of the official GanjinZero/RRHF trainer: the query
             repeated in every row of a right-padded [k, T] batch, logits for
             every position, log_softmax over the whole [k, T, V] tensor, a
             clone of it and a gather of the labels' log-probabilities.
  efficient  the query run once and shared by the k responses through
             attention (the counterpart of rrhf's packed-shared-prefix layout),
             the LM head only on the positions that predict a scored token, and
             a fused cross_entropy instead of log_softmax + gather.
  plain-head the official layout (query repeated in every row) with the
             efficient head: the like-for-like counterpart of rrhf's
             --layout plain, which also forms logits only where a token is scored.

Each form runs in its own child process so its peak RSS (getrusage ru_maxrss,
torch import and parameters included) is its own. Inside a child the thread
counts are interleaved within each repetition; the median after one warm-up
step per thread count is printed.

    /usr/bin/python3 bench/step_torch.py [--forms official,plain-head,efficient] [--layers 2]
        [--reps 3] [--threads 1,2] [--query 100] [--responses 6] [--response-len 40]
        [--intra-op same|blas] [--json]

Threads: Debian's torch runs sgemm in OpenBLAS's own pool (see
bench/matmul_torch.py), and everything else (log_softmax, the [V, C] gradient
fills and sums) in its OpenMP pool. --intra-op same (default) sizes both to
the thread count; --intra-op blas keeps torch's pool at 1 as matmul_torch.py
does (measured 1.6x slower for the official form at 2 threads, 1 layer).
"""
import argparse
import json
import math
import os
import platform
import resource
import statistics
import subprocess
import sys
import time

import torch
import torch.nn.functional as F

sys.dont_write_bytecode = True  # importing siblings by path must not leave __pycache__ in the tree
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "tests", "reference"))
from golden_models import gelu_new, gpt2_logits, gpt2_param_shapes  # noqa: E402
from matmul_torch import openblas_thread_setter  # noqa: E402

VOCAB = 50257
FORMS = ("official", "plain-head", "efficient")


def hh_like_batch(Q, K, R):
    """The token ids of bench/step.ts's hhLikeBatch: its LCG is evaluated in
    doubles there (seed * 1103515245 can exceed 2**53), so it is here too."""
    seed = 12345

    def nxt():
        nonlocal seed
        seed = int(float(seed) * 1103515245.0 + 12345.0) % 2**32
        return seed % VOCAB

    query = [nxt() for _ in range(Q)]
    rows = [query + [nxt() for _ in range(R)] for _ in range(K)]
    scores = torch.tensor([i - K / 2 for i in range(K)], dtype=torch.float32)
    return torch.tensor(query), torch.tensor(rows), scores


def rank_and_sft(token_logps, lengths, scores):
    """RRHF loss of docs/rrhf-spec.md from per-token log-probs [k, n] (0 where
    unscored): sum over pairs r_i < r_j of max(0, p_i - p_j), plus SFT on the
    best row (first on ties)."""
    p = token_logps.sum(-1) / lengths
    worse = scores[:, None] < scores[None, :]  # [i, j]: response i ranked below j
    rank = torch.clamp(p[:, None] - p[None, :], min=0)[worse].sum()
    best = int(torch.argmax(scores))  # argmax returns the first maximum
    sft = -token_logps[best].sum() / lengths[best]
    return rank + sft


def official_step(cfg, w, ids, Q):
    K, T = ids.shape
    labels = ids.clone()
    labels[:, :Q] = -100
    logits = gpt2_logits(cfg, w, ids, torch.ones(K, T, dtype=torch.long))
    logp = F.log_softmax(logits, dim=-1)
    # Logits at t - 1 predict the token at t; the official code also copies the
    # whole log-prob tensor before gathering, which is part of its memory cost.
    target = labels[:, 1:]
    mask = target != -100
    picked = logp[:, :-1].clone().gather(-1, target.clamp(min=0).unsqueeze(-1)).squeeze(-1)
    token_logps = picked * mask
    return token_logps, mask.sum(-1).to(logits.dtype)


def shared_prefix_attention(q, k, v, Q, K, R, H, D):
    """q/k/v [Q + K*R, C] packed as (query, response 0, ..., response K-1) ->
    attention output in the same packing. The query attends causally to itself;
    each response attends to all of the query and causally to itself."""
    C = H * D
    heads = lambda x, n: x.reshape(n, -1, H, D).transpose(1, 2)  # [n, H, len, D]
    qq, kq, vq = (heads(x[:Q], 1) for x in (q, k, v))
    qr, kr, vr = (heads(x[Q:], K) for x in (q, k, v))
    causal = lambda n: torch.full((n, n), float("-inf")).triu(1)
    s = qq @ kq.transpose(-1, -2) / math.sqrt(D) + causal(Q)
    out_q = (torch.softmax(s, -1) @ vq).transpose(1, 2).reshape(Q, C)
    keys = torch.cat((kq.expand(K, -1, -1, -1), kr), dim=2)
    vals = torch.cat((vq.expand(K, -1, -1, -1), vr), dim=2)
    bias = torch.cat((torch.zeros(R, Q), causal(R)), dim=1)
    s = qr @ keys.transpose(-1, -2) / math.sqrt(D) + bias
    out_r = (torch.softmax(s, -1) @ vals).transpose(1, 2).reshape(K * R, C)
    return torch.cat((out_q, out_r), dim=0)


def row_causal_attention(q, k, v, K, T, H, D):
    """q/k/v [K*T, C], rows one after the other -> causal attention per row."""
    heads = lambda x: x.reshape(K, T, H, D).transpose(1, 2)
    s = heads(q) @ heads(k).transpose(-1, -2) / math.sqrt(D) + torch.full((T, T), float("-inf")).triu(1)
    return (torch.softmax(s, -1) @ heads(v)).transpose(1, 2).reshape(K * T, H * D)


def scored_head_step(cfg, w, query, ids, Q, shared):
    """Forms "efficient" (shared=True: the query once, packed with the
    responses) and "plain-head" (shared=False: every row whole, as the official
    layout, but the head only on scored positions). Hidden states are packed
    [tokens, C] so every linear layer is one matmul."""
    K, T = ids.shape
    R = T - Q
    C, H = cfg["n_embd"], cfg["n_head"]
    eps = cfg["layer_norm_epsilon"]
    ln = lambda x, name: F.layer_norm(x, (C,), w[name + ".weight"], w[name + ".bias"], eps)
    conv1d = lambda x, name: torch.addmm(w[name + ".bias"], x, w[name + ".weight"])
    resp = ids[:, Q:].reshape(-1)
    wte, wpe = w["transformer.wte.weight"], w["transformer.wpe.weight"]
    if shared:
        pos = torch.cat((torch.arange(Q), torch.arange(Q, T).repeat(K)))
        h = wte[torch.cat((query, resp))] + wpe[pos]  # [Q + K*R, C]
        attend = lambda q, k, v: shared_prefix_attention(q, k, v, Q, K, R, H, C // H)
    else:
        h = wte[ids.reshape(-1)] + wpe[torch.arange(T).repeat(K)]  # [K*T, C]
        attend = lambda q, k, v: row_causal_attention(q, k, v, K, T, H, C // H)
    for i in range(cfg["n_layer"]):
        p = f"transformer.h.{i}."
        q, k, v = conv1d(ln(h, p + "ln_1"), p + "attn.c_attn").split(C, dim=-1)
        h = h + conv1d(attend(q, k, v), p + "attn.c_proj")
        h = h + conv1d(gelu_new(conv1d(ln(h, p + "ln_2"), p + "mlp.c_fc")), p + "mlp.c_proj")
    h = ln(h, "transformer.ln_f")
    if shared:
        # Response token 0 is predicted by the last query position (shared by
        # every row), token t > 0 by the response's own position t - 1.
        hr = h[Q:].reshape(K, R, C)
        pred = torch.cat((h[Q - 1].expand(K, 1, C), hr[:, :-1]), dim=1)
    else:
        pred = h.reshape(K, T, C)[:, Q - 1:T - 1]
    nll = F.cross_entropy(pred.reshape(K * R, C) @ wte.T, resp, reduction="none")
    return -nll.reshape(K, R), torch.full((K,), float(R))


def run_form(args):
    """Child process: one form, every thread count, prints one JSON line."""
    threads = [int(t) for t in args.threads.split(",")]
    set_blas = openblas_thread_setter()

    def set_threads(t):
        if set_blas is None:
            torch.set_num_threads(t)
            return
        set_blas(t)
        torch.set_num_threads(t if args.intra_op == "same" else 1)

    Q, K, R = args.query, args.responses, args.response_len
    cfg = {"n_embd": 768, "n_head": 12, "n_layer": args.layers, "n_positions": 1024,
           "vocab_size": VOCAB, "layer_norm_epsilon": 1e-5}
    g = torch.Generator().manual_seed(1)
    w = {}
    for name, shape in gpt2_param_shapes(cfg).items():
        t = torch.ones(shape) if name.endswith("ln_1.weight") or name.endswith("ln_2.weight") or name == "transformer.ln_f.weight" \
            else torch.randn(shape, generator=g) * 0.02
        w[name] = t.requires_grad_(True)
    query, ids, scores = hh_like_batch(Q, K, R)

    def step():
        # Gradients zeroed in place, as bench/step.ts does (and as an optimizer's
        # zero_grad(set_to_none=False)): fresh 150 MB wte gradients every step
        # would add page faults on memory the allocator returned to the system.
        for t in w.values():
            if t.grad is not None:
                t.grad.zero_()
        if args.form == "official":
            token_logps, lengths = official_step(cfg, w, ids, Q)
        else:
            token_logps, lengths = scored_head_step(cfg, w, query, ids, Q, shared=args.form == "efficient")
        loss = rank_and_sft(token_logps, lengths, scores)
        loss.backward()
        if not torch.isfinite(loss):
            raise RuntimeError("non-finite step")
        return float(loss)

    rss_setup = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    losses = {}
    for t in threads:  # warm-up
        set_threads(t)
        losses[t] = step()
    times = {t: [] for t in threads}
    for _ in range(args.reps):
        for t in threads:  # interleaved, so a noisy neighbour hurts them alike
            set_threads(t)
            t0 = time.perf_counter()
            step()
            times[t].append((time.perf_counter() - t0) * 1e3)
    print(json.dumps({
        "form": args.form, "times": times, "loss": losses[threads[0]],
        "rss_setup_mib": rss_setup,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--forms", default="official,plain-head,efficient")
    p.add_argument("--form", choices=FORMS, help=argparse.SUPPRESS)  # child mode
    p.add_argument("--layers", type=int, default=2)
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--threads", default="1,2")
    p.add_argument("--query", type=int, default=100)
    p.add_argument("--responses", type=int, default=6)
    p.add_argument("--response-len", type=int, default=40)
    p.add_argument("--intra-op", choices=["blas", "same"], default="same")
    p.add_argument("--json", action="store_true")
    args = p.parse_args()
    if args.form:
        run_form(args)
        return
    forms = args.forms.split(",")
    for f in forms:
        if f not in FORMS:
            p.error(f"--forms: unknown form {f!r} ({', '.join(FORMS)})")
    print(f"torch {torch.__version__}, python {platform.python_version()}, {os.cpu_count()} CPUs, "
          f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '(unset)')}, "
          f"load average {os.getloadavg()[0]:.2f} / {os.getloadavg()[1]:.2f}\n"
          f"GPT-2 shape: {args.layers} layers, n_embd 768, 12 heads, vocab {VOCAB}; batch: 1 query of "
          f"{args.query} tokens, {args.responses} responses of {args.response_len} tokens; fp32; "
          f"reps={args.reps} (median after 1 warm-up); intra-op {args.intra_op}")
    passthrough = ["--layers", str(args.layers), "--reps", str(args.reps), "--threads", args.threads,
                   "--query", str(args.query), "--responses", str(args.responses),
                   "--response-len", str(args.response_len), "--intra-op", args.intra_op]
    print("| form | threads | median step ms | steps ms | peak RSS MiB (after setup) | loss |\n|---|---|---|---|---|---|")
    for f in forms:
        out = subprocess.run([sys.executable, __file__, "--form", f, *passthrough],
                             check=True, capture_output=True, text=True).stdout
        r = json.loads(out.strip().splitlines()[-1])
        for t, xs in r["times"].items():
            ms = statistics.median(xs)
            print(f"| torch {f} | {t} | {ms:.0f} | {', '.join(f'{x:.0f}' for x in xs)} | "
                  f"{r['peak_rss_mib']:.0f} ({r['rss_setup_mib']:.0f}) | {r['loss']:.4f} |")
            if args.json:
                print(json.dumps({"bench": "step_torch", "form": f, "threads": int(t), "layers": args.layers,
                                  "medianMs": ms, "stepsMs": xs, "peakRssMiB": r["peak_rss_mib"],
                                  "openblasCoretype": os.environ.get("OPENBLAS_CORETYPE"),
                                  "intraOp": args.intra_op}))
    print(f"load average at the end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
