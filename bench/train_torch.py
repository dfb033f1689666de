#!/usr/bin/env python3
"""PyTorch CPU fp32 counterpart of one `rrhf train` step, for bench/train.ts.

Loads the same model folder (config.json + model.safetensors written by
`rrhf init-model`; GPT-2 or Llama) and the same data file (one query + k
responses per record; the character-level tokenizer of the folder, so the
token ids are the characters' vocabulary ids), and runs whole optimizer
steps: forward, RRHF loss with its SFT term, backward, clip_grad_norm_(1.0),
torch.optim.AdamW (lr 2e-5, HF defaults), zero_grad. One record per step.

Layouts:
  official        GanjinZero/RRHF's trainer: the query repeated in every row,
                  logits at every position, log_softmax over [k, T, V], a
                  clone of it and a gather of the labels.
  same-algorithm  rrhf's algorithm: the query computed once and shared by the
                  k responses through attention, logits only where a token is
                  scored, fused cross_entropy.

Step time = (t(8 steps) - t(2 steps)) / 6 inside this process (the same
arithmetic bench/train.ts applies to two rrhf processes). Prints one JSON line.
Run it with jemalloc preloaded (LD_PRELOAD=/usr/lib/x86_64-linux-gnu/libjemalloc.so.2),
with its default page decay and with pages retained
(MALLOC_CONF=dirty_decay_ms:-1,muzzy_decay_ms:-1), and keep the faster, as
bench/train.ts does: fresh pages (glibc malloc, or jemalloc's decay) cost
PyTorch much of its speed on this VM, but retention is not faster everywhere.

    python3 bench/train_torch.py --model DIR --data FILE --layout official|same-algorithm --threads 1
"""
import argparse
import json
import math
import os
import resource
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "tests", "reference"))
from golden_models import _rotate_half, gelu_new, gpt2_hidden, llama_hidden, rope_inv_freq  # noqa: E402
from matmul_torch import openblas_thread_setter  # noqa: E402
from step_torch import rank_and_sft, shared_prefix_attention  # noqa: E402


def read_safetensors(path):
    """name -> float32 tensor (requires_grad), from a safetensors file of F32 tensors."""
    with open(path, "rb") as f:
        raw = f.read()
    n = int.from_bytes(raw[:8], "little")
    header = json.loads(raw[8:8 + n])
    base = 8 + n
    out = {}
    for name, t in header.items():
        if name == "__metadata__":
            continue
        if t["dtype"] != "F32":
            raise SystemExit(f"{name}: dtype {t['dtype']}, only F32 is supported")
        a, b = t["data_offsets"]
        arr = np.frombuffer(raw, dtype=np.float32, count=(b - a) // 4, offset=base + a).reshape(t["shape"]).copy()
        out[name] = torch.from_numpy(arr).requires_grad_(True)
    return out


def char_ids(model_dir):
    with open(os.path.join(model_dir, "tokenizer.json"), encoding="utf8") as f:
        vocab = json.load(f)["model"]["vocab"]
    return lambda s: [vocab[c] for c in s]


def llama_shared_hidden(cfg, w, query, resp):
    """Llama forward with the query once and each response reading it through
    attention: packed [Q + K*R, C], positions 0..Q-1 then Q..Q+R-1 per response."""
    Q, (K, R) = query.shape[0], resp.shape
    C, H, KV = cfg["hidden_size"], cfg["num_attention_heads"], cfg["num_key_value_heads"]
    D = cfg.get("head_dim") or C // H
    eps = cfg["rms_norm_eps"]
    rms = lambda x, name: x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w[name]
    lin = lambda x, name: x @ w[name + ".weight"].T
    pos = torch.cat((torch.arange(Q), torch.arange(Q, Q + R).repeat(K))).float()
    freqs = pos[:, None] * rope_inv_freq(cfg).float()[None, :]
    emb = torch.cat((freqs, freqs), dim=-1)
    cos, sin = emb.cos()[:, None, :], emb.sin()[:, None, :]  # [N, 1, D]
    rope = lambda x: x * cos + _rotate_half(x) * sin
    h = w["model.embed_tokens.weight"][torch.cat((query, resp.reshape(-1)))]
    N = h.shape[0]
    for i in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{i}."
        x = rms(h, p + "input_layernorm.weight")
        q = rope(lin(x, p + "self_attn.q_proj").reshape(N, H, D)).reshape(N, H * D)
        k = rope(lin(x, p + "self_attn.k_proj").reshape(N, KV, D)).reshape(N, KV, D)
        v = lin(x, p + "self_attn.v_proj").reshape(N, KV, D)
        k = k.repeat_interleave(H // KV, dim=1).reshape(N, H * D)
        v = v.repeat_interleave(H // KV, dim=1).reshape(N, H * D)
        h = h + lin(shared_prefix_attention(q, k, v, Q, K, R, H, D), p + "self_attn.o_proj")
        x = rms(h, p + "post_attention_layernorm.weight")
        h = h + lin(F.silu(lin(x, p + "mlp.gate_proj")) * lin(x, p + "mlp.up_proj"), p + "mlp.down_proj")
    return rms(h, "model.norm.weight")


def gpt2_shared_hidden(cfg, w, query, resp):
    """GPT-2 forward, query once, packed like llama_shared_hidden."""
    Q, (K, R) = query.shape[0], resp.shape
    C, H = cfg["n_embd"], cfg["n_head"]
    eps = cfg.get("layer_norm_epsilon", 1e-5)
    ln = lambda x, name: F.layer_norm(x, (C,), w[name + ".weight"], w[name + ".bias"], eps)
    conv1d = lambda x, name: torch.addmm(w[name + ".bias"], x, w[name + ".weight"])
    pos = torch.cat((torch.arange(Q), torch.arange(Q, Q + R).repeat(K)))
    h = w["transformer.wte.weight"][torch.cat((query, resp.reshape(-1)))] + w["transformer.wpe.weight"][pos]
    for i in range(cfg["n_layer"]):
        p = f"transformer.h.{i}."
        q, k, v = conv1d(ln(h, p + "ln_1"), p + "attn.c_attn").split(C, dim=-1)
        h = h + conv1d(shared_prefix_attention(q, k, v, Q, K, R, H, C // H), p + "attn.c_proj")
        h = h + conv1d(gelu_new(conv1d(ln(h, p + "ln_2"), p + "mlp.c_fc")), p + "mlp.c_proj")
    return ln(h, "transformer.ln_f")


def head_weight(cfg, w):
    if cfg["model_type"] == "gpt2":
        return w["transformer.wte.weight"]
    return w["model.embed_tokens.weight"] if cfg.get("tie_word_embeddings", False) else w["lm_head.weight"]


def official_logps(cfg, w, query, resp):
    K, R = resp.shape
    Q = query.shape[0]
    ids = torch.cat((query.expand(K, Q), resp), dim=1)
    mask = torch.ones_like(ids)
    fn = gpt2_hidden if cfg["model_type"] == "gpt2" else llama_hidden
    logits = fn(cfg, w, ids, mask) @ head_weight(cfg, w).T
    logp = F.log_softmax(logits, dim=-1)
    target = ids[:, Q:]
    picked = logp[:, Q - 1:-1].clone().gather(-1, target.unsqueeze(-1)).squeeze(-1)
    return picked, torch.full((K,), float(R))


def same_algorithm_logps(cfg, w, query, resp):
    K, R = resp.shape
    Q = query.shape[0]
    fn = gpt2_shared_hidden if cfg["model_type"] == "gpt2" else llama_shared_hidden
    h = fn(cfg, w, query, resp)
    C = h.shape[-1]
    hr = h[Q:].reshape(K, R, C)
    pred = torch.cat((h[Q - 1].expand(K, 1, C), hr[:, :-1]), dim=1)
    nll = F.cross_entropy(pred.reshape(K * R, C) @ head_weight(cfg, w).T, resp.reshape(-1), reduction="none")
    return -nll.reshape(K, R), torch.full((K,), float(R))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("--layout", choices=("official", "same-algorithm"), default="official")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    set_blas = openblas_thread_setter()
    if set_blas is not None:
        set_blas(args.threads)
    torch.set_num_threads(args.threads)
    with open(os.path.join(args.model, "config.json"), encoding="utf8") as f:
        cfg = json.load(f)
    cfg.setdefault("layer_norm_epsilon", 1e-5)
    w = read_safetensors(os.path.join(args.model, "model.safetensors"))
    encode = char_ids(args.model)
    with open(args.data, encoding="utf8") as f:
        records = [json.loads(line) for line in f if line.strip()]
    params = list(w.values())
    opt = torch.optim.AdamW(params, lr=2e-5, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0)
    step_fn = official_logps if args.layout == "official" else same_algorithm_logps
    marks = {}
    t0 = time.perf_counter()
    tokens = 0
    for step in range(8):
        rec = records[step % len(records)]
        query = torch.tensor(encode(rec["query"]))
        resp = torch.tensor([encode(r) for r in rec["responses"]])
        scores = torch.tensor(rec["scores"], dtype=torch.float32)
        logps, lengths = step_fn(cfg, w, query, resp)
        loss = rank_and_sft(logps, lengths, scores)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        opt.zero_grad(set_to_none=False)
        if not math.isfinite(float(loss)):
            raise SystemExit("non-finite loss")
        tokens = query.shape[0] + resp.numel()
        marks[step + 1] = time.perf_counter() - t0
    print(json.dumps({
        "layout": args.layout, "threads": args.threads, "loss": float(loss),
        "s_per_step": (marks[8] - marks[2]) / 6, "tokens": tokens,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }))


if __name__ == "__main__":
    main()
