#!/usr/bin/python3
"""Writes the committed model fixtures and PyTorch goldens for the TS parity tests.

Run from the repository root (needs only torch and numpy; no transformers):

    /usr/bin/python3 tests/reference/make_golden.py

It (re)writes
  tests/fixtures/models/{gpt2-tiny,llama-tiny,qwen2-tiny}/  config.json + model.safetensors
      (HF tensor names and layouts, F32, seeded random weights scaled up so
      the tests are sensitive) and, for gpt2-tiny, a 64-symbol character
      tokenizer (tokenizer.json, tokenizer_config.json)
  tests/fixtures/golden/<model>.json          batch, loss scalars, fixture_version
  tests/fixtures/golden/<model>.safetensors   logits, token_logps, p, grad.<HF name>
  tests/fixtures/golden/loss-data.jsonl + loss-cli.json   end-to-end goldens for `rrhf loss`

CI does not run this script: its outputs are committed. Re-run it only when
the fixtures must change, and bump FIXTURE_VERSION (the TS tests check it and
name this script when it does not match what they expect).
"""
import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from golden_loss import rrhf_loss, token_logps_from_logits  # noqa: E402
from golden_models import gpt2_logits, gpt2_param_shapes, llama_logits, llama_param_shapes  # noqa: E402
from golden_safetensors import write_safetensors  # noqa: E402

FIXTURE_VERSION = 1
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
MODELS_DIR = os.path.join(ROOT, "tests", "fixtures", "models")
GOLDEN_DIR = os.path.join(ROOT, "tests", "fixtures", "golden")
VOCAB = 64
T = 12

GPT2_CONFIG = {
    "architectures": ["GPT2LMHeadModel"], "model_type": "gpt2",
    "vocab_size": VOCAB, "n_embd": 32, "n_head": 4, "n_layer": 2, "n_positions": 64, "n_ctx": 64,
    "n_inner": None, "activation_function": "gelu_new", "layer_norm_epsilon": 1e-5,
    "resid_pdrop": 0.0, "embd_pdrop": 0.0, "attn_pdrop": 0.0,
    "bos_token_id": 0, "eos_token_id": 0, "tie_word_embeddings": True, "torch_dtype": "float32",
}
LLAMA_CONFIG = {
    "architectures": ["LlamaForCausalLM"], "model_type": "llama",
    "vocab_size": VOCAB, "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2,
    "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 8, "hidden_act": "silu",
    "max_position_embeddings": 128, "rms_norm_eps": 1e-5, "rope_theta": 10000.0,
    # original_max_position_embeddings 64 puts the 4 frequencies of head_dim 8
    # (wavelengths 6.3, 63, 628, 6283) in all three llama3 bands.
    "rope_scaling": {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                     "high_freq_factor": 4.0, "original_max_position_embeddings": 64},
    "attention_bias": False, "mlp_bias": False, "tie_word_embeddings": False,
    "bos_token_id": 1, "eos_token_id": 2, "torch_dtype": "float32",
}
QWEN2_CONFIG = {
    "architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2",
    "vocab_size": VOCAB, "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2,
    "num_attention_heads": 4, "num_key_value_heads": 2, "hidden_act": "silu",
    "max_position_embeddings": 128, "rms_norm_eps": 1e-6, "rope_theta": 1000000.0,
    "use_sliding_window": False, "sliding_window": 128, "max_window_layers": 2,
    "tie_word_embeddings": True, "bos_token_id": 3, "eos_token_id": 3, "torch_dtype": "float32",
}

# The golden batch: (query length, [response lengths incl. EOS], [scores]).
# Different k per query, a response that is only the EOS, a tie in the
# scores (first-on-ties SFT pick, no rank term for the tied pair), right
# padding, and one all-padding row at the end.
QUERIES = [
    (4, [3, 5, 2], [0.3, -0.7, 1.2]),
    (6, [4, 1], [-1.0, 0.5]),
    (3, [6, 2, 4, 3], [0.5, -1.0, 0.5, 0.2]),
]
PADDING_ROWS = 1


def random_weights(shapes, seed):
    """Seeded weights, rounded to float32 (what the fixture stores)."""
    g = torch.Generator().manual_seed(seed)
    out = {}
    for name, shape in shapes.items():
        if name.endswith(("ln_1.weight", "ln_2.weight", "ln_f.weight", "layernorm.weight", "norm.weight")):
            t = 1.0 + 0.2 * torch.randn(shape, generator=g, dtype=torch.float64)
        elif name.endswith(".bias"):
            t = 0.1 * torch.randn(shape, generator=g, dtype=torch.float64)
        elif name.endswith(("wte.weight", "embed_tokens.weight", "lm_head.weight")):
            t = 0.5 * torch.randn(shape, generator=g, dtype=torch.float64)
        else:
            t = 0.3 * torch.randn(shape, generator=g, dtype=torch.float64)
        out[name] = t.float().double()
    return out


def make_batch(eos, bos, seed):
    g = torch.Generator().manual_seed(seed)
    specials = {eos, bos} - {None}
    def tokens(n):
        ids = []
        while len(ids) < n:
            t = int(torch.randint(0, VOCAB, (1,), generator=g))
            if t not in specials:
                ids.append(t)
        return ids
    input_ids, labels, mask, row_query, scores = [], [], [], [], []
    for q, (qlen, rlens, qscores) in enumerate(QUERIES):
        query = ([bos] if bos is not None else []) + tokens(qlen - (1 if bos is not None else 0))
        for rlen, score in zip(rlens, qscores):
            resp = tokens(rlen - 1) + [eos]
            ids = query + resp
            assert len(ids) <= T
            pad = T - len(ids)
            input_ids.append(ids + [eos] * pad)
            labels.append([-100] * len(query) + resp + [-100] * pad)
            mask.append([1] * len(ids) + [0] * pad)
            row_query.append(q)
            scores.append(score)
    for _ in range(PADDING_ROWS):
        input_ids.append([eos] * T)
        labels.append([-100] * T)
        mask.append([0] * T)
        row_query.append(-1)
        scores.append(0.0)
    return {"input_ids": input_ids, "labels": labels, "attention_mask": mask,
            "row_query": row_query, "scores": scores, "T": T, "eos_token_id": eos}


def write_model_folder(name, cfg, weights, extra_files=None):
    folder = os.path.join(MODELS_DIR, name)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
        f.write("\n")
    arrays = {k: v.detach().float().numpy() for k, v in weights.items()}
    write_safetensors(os.path.join(folder, "model.safetensors"), arrays, {"format": "pt"})
    for fname, content in (extra_files or {}).items():
        with open(os.path.join(folder, fname), "w") as f:
            json.dump(content, f, indent=2, ensure_ascii=False)
            f.write("\n")
    return folder


def scalars(res):
    return {
        "rrhf_loss": float(res["rank"]), "sft_loss": float(res["sft"]), "loss": float(res["loss"]),
        "per_query": [{"rrhf_loss": float(x["rank"]), "sft_loss": float(x["sft"]),
                       "loss": float(x["loss"]), "best_row": x["best_row"]} for x in res["per_query"]],
    }


def make_golden(name, cfg, forward, shapes, seed, bos):
    weights = random_weights(shapes, seed)
    extra = char_tokenizer_files() if name == "gpt2-tiny" else None
    write_model_folder(name, cfg, weights, extra)
    batch = make_batch(cfg["eos_token_id"], bos, seed + 1)
    ids = torch.tensor(batch["input_ids"])
    labels = torch.tensor(batch["labels"])
    mask = torch.tensor(batch["attention_mask"])
    row_query = torch.tensor(batch["row_query"])
    scores = torch.tensor(batch["scores"], dtype=torch.float64)

    params = {k: v.clone().requires_grad_(True) for k, v in weights.items()}
    logits = forward(cfg, params, ids, mask)
    logps = token_logps_from_logits(logits, labels)
    res = rrhf_loss(logps, labels, row_query, scores)
    res["loss"].backward()
    with torch.no_grad():
        compat = rrhf_loss(logps, labels, row_query, scores, compat=True)
        lp2 = rrhf_loss(logps, labels, row_query, scores, length_penalty=2.0, rrhf_weight=3.0)

    # Logits of padding positions are unspecified (they attend to nothing
    # real); store zeros there so nobody compares them by accident.
    kept = logits.detach() * mask[:, :, None]
    tensors = {
        "logits": kept.float().numpy(),
        "token_logps": logps.detach().float().numpy(),
        "p": res["p"].detach().float().numpy(),
    }
    for k, v in params.items():
        tensors["grad." + k] = v.grad.float().numpy()
    write_safetensors(os.path.join(GOLDEN_DIR, name + ".safetensors"), tensors,
                      {"fixture_version": FIXTURE_VERSION})
    golden = {
        "fixture_version": FIXTURE_VERSION,
        "generator": "tests/reference/make_golden.py",
        "model": f"tests/fixtures/models/{name}",
        "batch": batch,
        "default": scalars(res),
        "compat_official": scalars(compat),
        "length_penalty_2_rrhf_weight_3": scalars(lp2) | {"p": [float(x) for x in lp2["p"]]},
    }
    with open(os.path.join(GOLDEN_DIR, name + ".json"), "w") as f:
        json.dump(golden, f, indent=1)
        f.write("\n")
    return weights


# ---------------------------------------------------------------- `rrhf loss` end to end

CHARS = " \nabcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.,?!:'-01"
EOS_TOKEN = "<|endoftext|>"
assert len(CHARS) == VOCAB - 1 and len(set(CHARS)) == len(CHARS)


def char_tokenizer_files():
    """A tokenizer.json whose BPE has one token per character and no merges,
    so a string tokenises to its characters: easy to mirror here."""
    vocab = {EOS_TOKEN: 0}
    for i, c in enumerate(CHARS):
        vocab[c] = i + 1
    tokenizer = {
        "version": "1.0", "truncation": None, "padding": None,
        "added_tokens": [{"id": 0, "content": EOS_TOKEN, "single_word": False, "lstrip": False,
                          "rstrip": False, "normalized": False, "special": True}],
        "normalizer": None, "pre_tokenizer": None, "post_processor": None, "decoder": {"type": "Fuse"},
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
                  "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False,
                  "ignore_merges": False, "vocab": vocab, "merges": []},
    }
    config = {"tokenizer_class": "GPT2Tokenizer", "bos_token": EOS_TOKEN, "eos_token": EOS_TOKEN,
              "unk_token": EOS_TOKEN, "model_max_length": 64, "add_bos_token": False}
    return {"tokenizer.json": tokenizer, "tokenizer_config.json": config}


CLI_DATA = [
    {"query": "\n\nHuman: Hi!\n\nAssistant:", "responses": [" Hello.", " Go away!", " Hi, how can I help?"],
     "scores": [0.5, -1.0, 1.5]},
    {"query": "\n\nHuman: Name a color.\n\nAssistant:", "responses": [" Blue.", " I can't."],
     "scores": [1.0, -0.5]},
]


def make_cli_golden(weights):
    cfg = GPT2_CONFIG
    enc = lambda s: [CHARS.index(c) + 1 for c in s]
    eos = 0
    with open(os.path.join(GOLDEN_DIR, "loss-data.jsonl"), "w") as f:
        for rec in CLI_DATA:
            f.write(json.dumps(rec) + "\n")
    out, compat_out = [], []
    for rec in CLI_DATA:
        q = enc(rec["query"])
        rows = [q + enc(r) + [eos] for r in rec["responses"]]
        width = max(len(r) for r in rows)
        ids = torch.tensor([r + [eos] * (width - len(r)) for r in rows])
        labels = torch.tensor([[-100] * len(q) + r[len(q):] + [-100] * (width - len(r)) for r in rows])
        mask = torch.tensor([[1] * len(r) + [0] * (width - len(r)) for r in rows])
        row_query = torch.zeros(len(rows), dtype=torch.long)
        scores = torch.tensor(rec["scores"], dtype=torch.float64)
        with torch.no_grad():
            logps = token_logps_from_logits(gpt2_logits(cfg, weights, ids, mask), labels)
            res = rrhf_loss(logps, labels, row_query, scores)
            # Official code: |y_i| and the SFT mean run over the padded width. (Its
            # other quirks change nothing here: no BOS, and masking the final EOS
            # as a key changes no scored position.)
            compat = rrhf_loss(logps, labels, row_query, scores, compat=True)
        for dest, r in ((out, res), (compat_out, compat)):
            dest.append({"scores": [float(x) for x in r["p"]], "rrhf_loss": float(r["rank"]),
                         "sft_loss": float(r["sft"]), "loss": float(r["loss"])})
    with open(os.path.join(GOLDEN_DIR, "loss-cli.json"), "w") as f:
        json.dump({"fixture_version": FIXTURE_VERSION, "generator": "tests/reference/make_golden.py",
                   "model": "tests/fixtures/models/gpt2-tiny", "data": "tests/fixtures/golden/loss-data.jsonl",
                   "queries": out, "queries_compat_official": compat_out}, f, indent=1)
        f.write("\n")


def main():
    os.makedirs(MODELS_DIR, exist_ok=True)
    os.makedirs(GOLDEN_DIR, exist_ok=True)
    gpt2_w = make_golden("gpt2-tiny", GPT2_CONFIG, gpt2_logits, gpt2_param_shapes(GPT2_CONFIG), 1000, None)
    make_golden("llama-tiny", LLAMA_CONFIG, llama_logits, llama_param_shapes(LLAMA_CONFIG), 2000, 1)
    make_golden("qwen2-tiny", QWEN2_CONFIG, llama_logits, llama_param_shapes(QWEN2_CONFIG), 3000, None)
    make_cli_golden(gpt2_w)
    total = 0
    for d in (MODELS_DIR, GOLDEN_DIR):
        for dirpath, _, files in os.walk(d):
            total += sum(os.path.getsize(os.path.join(dirpath, f)) for f in files)
    print(f"fixtures written, {total / 1024:.0f} KiB in total")


if __name__ == "__main__":
    main()
