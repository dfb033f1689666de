"""PyTorch side of bench/decode.ts: greedy decoding with a KV cache, HF style.

The same model folder (made by `rrhf init-model`, read here without the
safetensors package), the same prompt ids (prompt_ids below = promptIds in
decode.ts), the same shapes. The model is written by hand in plain PyTorch
(transformers is not installed): GPT-2 or Llama, with `past_key_values`
grown by torch.cat each step as HF's DynamicCache does. As HF `generate`
does for num_return_sequences, the prompt is expanded to k rows before the
prefill (--shared-prefill instead prefills it once and expands the cache).

  /usr/bin/python3 bench/decode_torch.py --model /tmp/decode-models/gpt2-small [--threads 1]
      [--k 4] [--prompt-len 193] [--new-tokens 64] [--reps 3] [--shared-prefill] [--json]
"""
import argparse
import json
import math
import os
import statistics
import struct
import time

import torch
import torch.nn.functional as F


def load_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        if info["dtype"] != "F32":
            raise ValueError(f"{name}: dtype {info['dtype']} (only F32 here)")
        a, b = info["data_offsets"]
        out[name] = torch.frombuffer(bytearray(data[a:b]), dtype=torch.float32).reshape(info["shape"])
    return out


def prompt_ids(p, length, vocab):
    return [(i * 7919 + p * 104729 + 13) % vocab for i in range(length)]


class Gpt2:
    def __init__(self, cfg, w):
        self.w, self.L, self.H = w, cfg["n_layer"], cfg["n_head"]
        self.eps = cfg.get("layer_norm_epsilon", 1e-5)
        self.head = w.get("lm_head.weight", w["transformer.wte.weight"])

    def forward(self, ids, past, start):
        w, B, T = self.w, ids.shape[0], ids.shape[1]
        pos = torch.arange(start, start + T)
        h = w["transformer.wte.weight"][ids] + w["transformer.wpe.weight"][pos]
        C = h.shape[-1]
        D = C // self.H
        new_past = []
        for i in range(self.L):
            p = f"transformer.h.{i}."
            x = F.layer_norm(h, (C,), w[p + "ln_1.weight"], w[p + "ln_1.bias"], self.eps)
            qkv = torch.addmm(w[p + "attn.c_attn.bias"], x.view(-1, C), w[p + "attn.c_attn.weight"]).view(B, T, 3 * C)
            q, k, v = (t.view(B, T, self.H, D).transpose(1, 2) for t in qkv.split(C, dim=2))
            if past is not None:
                k = torch.cat([past[i][0], k], dim=2)
                v = torch.cat([past[i][1], v], dim=2)
            new_past.append((k, v))
            a = attend(q, k, v, 1 / math.sqrt(D))
            a = a.transpose(1, 2).reshape(B * T, C)
            h = h + torch.addmm(w[p + "attn.c_proj.bias"], a, w[p + "attn.c_proj.weight"]).view(B, T, C)
            x = F.layer_norm(h, (C,), w[p + "ln_2.weight"], w[p + "ln_2.bias"], self.eps)
            m = F.gelu(torch.addmm(w[p + "mlp.c_fc.bias"], x.view(-1, C), w[p + "mlp.c_fc.weight"]), approximate="tanh")
            h = h + torch.addmm(w[p + "mlp.c_proj.bias"], m, w[p + "mlp.c_proj.weight"]).view(B, T, C)
        h = F.layer_norm(h, (C,), w["transformer.ln_f.weight"], w["transformer.ln_f.bias"], self.eps)
        return h[:, -1] @ self.head.t(), new_past


def rms_norm(x, weight, eps):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * weight


class Llama:
    def __init__(self, cfg, w):
        self.w, self.L = w, cfg["num_hidden_layers"]
        self.H, self.Hkv = cfg["num_attention_heads"], cfg["num_key_value_heads"]
        self.C = cfg["hidden_size"]
        self.D = cfg.get("head_dim", self.C // self.H)
        self.eps = cfg.get("rms_norm_eps", 1e-6)
        self.head = w.get("lm_head.weight", w["model.embed_tokens.weight"])
        inv = 1.0 / (cfg.get("rope_theta", 10000.0) ** (torch.arange(0, self.D, 2, dtype=torch.float32) / self.D))
        angles = torch.outer(torch.arange(cfg["max_position_embeddings"], dtype=torch.float32), inv)
        emb = torch.cat([angles, angles], dim=-1)
        self.cos, self.sin = emb.cos(), emb.sin()

    def rope(self, x, pos):
        cos, sin = self.cos[pos], self.sin[pos]
        half = x.shape[-1] // 2
        rotated = torch.cat([-x[..., half:], x[..., :half]], dim=-1)
        return x * cos + rotated * sin

    def forward(self, ids, past, start):
        w, B, T, C, D = self.w, ids.shape[0], ids.shape[1], self.C, self.D
        pos = torch.arange(start, start + T)
        h = w["model.embed_tokens.weight"][ids]
        new_past = []
        for i in range(self.L):
            p = f"model.layers.{i}."
            x = rms_norm(h, w[p + "input_layernorm.weight"], self.eps)
            q = (x @ w[p + "self_attn.q_proj.weight"].t()).view(B, T, self.H, D).transpose(1, 2)
            k = (x @ w[p + "self_attn.k_proj.weight"].t()).view(B, T, self.Hkv, D).transpose(1, 2)
            v = (x @ w[p + "self_attn.v_proj.weight"].t()).view(B, T, self.Hkv, D).transpose(1, 2)
            q, k = self.rope(q, pos), self.rope(k, pos)
            if past is not None:
                k = torch.cat([past[i][0], k], dim=2)
                v = torch.cat([past[i][1], v], dim=2)
            new_past.append((k, v))
            rep = self.H // self.Hkv
            a = attend(q, k.repeat_interleave(rep, dim=1), v.repeat_interleave(rep, dim=1), 1 / math.sqrt(D))
            a = a.transpose(1, 2).reshape(B, T, self.H * D)
            h = h + a @ w[p + "self_attn.o_proj.weight"].t()
            x = rms_norm(h, w[p + "post_attention_layernorm.weight"], self.eps)
            g = F.silu(x @ w[p + "mlp.gate_proj.weight"].t()) * (x @ w[p + "mlp.up_proj.weight"].t())
            h = h + g @ w[p + "mlp.down_proj.weight"].t()
        h = rms_norm(h, w["model.norm.weight"], self.eps)
        return h[:, -1] @ self.head.t(), new_past


def attend(q, k, v, scale):
    """Eager attention as HF's: causal over the new queries, all past keys visible."""
    T, S = q.shape[2], k.shape[2]
    scores = (q @ k.transpose(-1, -2)) * scale
    if T > 1:
        mask = torch.ones(T, S, dtype=torch.bool).tril(S - T)
        scores = scores.masked_fill(~mask, float("-inf"))
    return torch.softmax(scores, dim=-1) @ v


def expand_past(past, k):
    return [(pk.expand(k, -1, -1, -1).contiguous(), pv.expand(k, -1, -1, -1).contiguous()) for pk, pv in past]


def run_once(model, prompt, k, new_tokens, shared):
    start = time.perf_counter()
    first = []
    with torch.inference_mode():
        ids = torch.tensor([prompt] * (1 if shared else k))
        logits, past = model.forward(ids, None, 0)
        if shared:
            logits, past = logits.expand(k, -1), expand_past(past, k)
        pos = len(prompt)
        tokens = logits.argmax(-1)
        ttft = time.perf_counter() - start
        cpu_at_first = time.process_time()
        first.append(int(tokens[0]))
        for _ in range(new_tokens - 1):
            logits, past = model.forward(tokens.view(k, 1), past, pos)
            pos += 1
            tokens = logits.argmax(-1)
            first.append(int(tokens[0]))
    total = time.perf_counter() - start
    return ttft, total, first, time.process_time() - cpu_at_first


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--k", type=int, default=4)
    ap.add_argument("--prompt-len", type=int, default=193)
    ap.add_argument("--new-tokens", type=int, default=64)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--shared-prefill", action="store_true")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    with open(os.path.join(args.model, "config.json")) as f:
        cfg = json.load(f)
    weights = load_safetensors(os.path.join(args.model, "model.safetensors"))
    model = (Gpt2 if cfg["model_type"] == "gpt2" else Llama)(cfg, weights)
    vocab = cfg["vocab_size"]
    prompt = prompt_ids(0, args.prompt_len, vocab)
    run_once(model, prompt, args.k, args.new_tokens, args.shared_prefill)  # warm-up
    runs = [run_once(model, prompt, args.k, args.new_tokens, args.shared_prefill) for _ in range(max(1, args.reps))]
    n = args.k * args.new_tokens
    ttft = statistics.median(r[0] for r in runs) * 1000
    decode_tps = statistics.median(args.k * (args.new_tokens - 1) / (r[1] - r[0]) for r in runs)
    total_tps = statistics.median(n / r[1] for r in runs)
    cpu_per_token = statistics.median(r[3] * 1000 / (args.k * (args.new_tokens - 1)) for r in runs)
    name = f"{cfg['architectures'][0]} {cfg.get('n_layer', cfg.get('num_hidden_layers'))}x{cfg.get('n_embd', cfg.get('hidden_size'))}"
    prefill = "shared" if args.shared_prefill else "expanded"
    print(
        f"torch {torch.__version__} threads={args.threads} {name} k={args.k} prompt={args.prompt_len} new={args.new_tokens} "
        f"prefill={prefill}: ttft {ttft:.1f} ms, decode {decode_tps:.1f} tokens/s, overall {total_tps:.1f} tokens/s, "
        f"decode CPU {cpu_per_token:.2f} ms/token "
        f"(median of {len(runs)}; load {os.getloadavg()[0]:.2f}; first ids {','.join(map(str, runs[-1][2][:8]))})"
    )
    if args.json:
        print(json.dumps({"impl": "torch", "threads": args.threads, "model": name, "k": args.k, "prefill": prefill,
                          "promptLen": args.prompt_len, "newTokens": args.new_tokens, "ttftMs": ttft,
                          "decodeTps": decode_tps, "totalTps": total_tps,
                          "decodeCpuMsPerToken": cpu_per_token}))


if __name__ == "__main__":
    main()
