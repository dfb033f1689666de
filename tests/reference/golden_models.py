"""Small, independent PyTorch implementations of GPT-2 and Llama/Qwen2.

They follow the semantics of Hugging Face transformers' modeling_gpt2.py and
modeling_llama.py / modeling_qwen2.py (eager attention, no dropout) and read
parameters by their HF names from a plain dict, so the same dict is written
to model.safetensors. Everything runs in float64 so the goldens are the
"exact" answer the float32 TypeScript code is compared against.
"""
import math

import torch


def _causal_padding_bias(attention_mask, dtype):
    """Additive attention bias [B, 1, T, T]: 0 where query t may read key s
    (s <= t and key s is a real token), a large negative number elsewhere.
    Rows whose query is padding read garbage; the tests never compare them."""
    B, T = attention_mask.shape
    causal = torch.tril(torch.ones(T, T, dtype=torch.bool))
    allowed = causal[None, None, :, :] & attention_mask.bool()[:, None, None, :]
    bias = torch.zeros(B, 1, T, T, dtype=dtype)
    return bias.masked_fill(~allowed, torch.finfo(dtype).min)


def _attend(q, k, v, bias):
    """q [B, H, T, D], k/v [B, H, T, D] -> [B, T, H*D]."""
    D = q.shape[-1]
    scores = q @ k.transpose(-1, -2) / math.sqrt(D) + bias
    probs = torch.softmax(scores, dim=-1)
    out = probs @ v
    B, H, T, _ = out.shape
    return out.transpose(1, 2).reshape(B, T, H * D)


# ---------------------------------------------------------------- GPT-2


def gelu_new(x):
    """GPT-2's tanh approximation of GELU (HF ACT2FN["gelu_new"])."""
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x.pow(3))))


def gpt2_param_shapes(cfg):
    """HF GPT2LMHeadModel tensor names -> shapes. Conv1D weights are [in, out].
    The LM head is tied to wte and not stored (as save_pretrained does)."""
    C, V, P = cfg["n_embd"], cfg["vocab_size"], cfg["n_positions"]
    inner = cfg.get("n_inner") or 4 * C
    shapes = {"transformer.wte.weight": (V, C), "transformer.wpe.weight": (P, C)}
    for i in range(cfg["n_layer"]):
        p = f"transformer.h.{i}."
        shapes.update({
            p + "ln_1.weight": (C,), p + "ln_1.bias": (C,),
            p + "attn.c_attn.weight": (C, 3 * C), p + "attn.c_attn.bias": (3 * C,),
            p + "attn.c_proj.weight": (C, C), p + "attn.c_proj.bias": (C,),
            p + "ln_2.weight": (C,), p + "ln_2.bias": (C,),
            p + "mlp.c_fc.weight": (C, inner), p + "mlp.c_fc.bias": (inner,),
            p + "mlp.c_proj.weight": (inner, C), p + "mlp.c_proj.bias": (C,),
        })
    shapes["transformer.ln_f.weight"] = (C,)
    shapes["transformer.ln_f.bias"] = (C,)
    return shapes


def gpt2_logits(cfg, w, input_ids, attention_mask):
    """input_ids, attention_mask [B, T] -> logits [B, T, V]."""
    return gpt2_hidden(cfg, w, input_ids, attention_mask) @ w["transformer.wte.weight"].T


def gpt2_hidden(cfg, w, input_ids, attention_mask):
    """input_ids, attention_mask [B, T] -> final hidden states [B, T, C] (after ln_f)."""
    B, T = input_ids.shape
    C, H = cfg["n_embd"], cfg["n_head"]
    D = C // H
    eps = cfg["layer_norm_epsilon"]
    ln = lambda x, name: torch.nn.functional.layer_norm(x, (C,), w[name + ".weight"], w[name + ".bias"], eps)
    conv1d = lambda x, name: x @ w[name + ".weight"] + w[name + ".bias"]
    pos = torch.arange(T)
    h = w["transformer.wte.weight"][input_ids] + w["transformer.wpe.weight"][pos][None]
    bias = _causal_padding_bias(attention_mask, h.dtype)
    for i in range(cfg["n_layer"]):
        p = f"transformer.h.{i}."
        qkv = conv1d(ln(h, p + "ln_1"), p + "attn.c_attn")
        q, k, v = (t.reshape(B, T, H, D).transpose(1, 2) for t in qkv.split(C, dim=-1))
        h = h + conv1d(_attend(q, k, v, bias), p + "attn.c_proj")
        m = gelu_new(conv1d(ln(h, p + "ln_2"), p + "mlp.c_fc"))
        h = h + conv1d(m, p + "mlp.c_proj")
    return ln(h, "transformer.ln_f")


# ---------------------------------------------------------------- Llama / Qwen2


def llama_param_shapes(cfg):
    """HF LlamaForCausalLM / Qwen2ForCausalLM tensor names -> shapes.
    nn.Linear weights are [out, in]. q/k/v biases when attention_bias (Qwen2
    always has them); lm_head.weight only when the head is untied."""
    C, V = cfg["hidden_size"], cfg["vocab_size"]
    H, KV = cfg["num_attention_heads"], cfg["num_key_value_heads"]
    D = cfg.get("head_dim") or C // H
    I = cfg["intermediate_size"]
    qkv_bias = cfg["model_type"] == "qwen2" or cfg.get("attention_bias", False)
    shapes = {"model.embed_tokens.weight": (V, C)}
    for i in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{i}."
        shapes.update({
            p + "input_layernorm.weight": (C,),
            p + "self_attn.q_proj.weight": (H * D, C),
            p + "self_attn.k_proj.weight": (KV * D, C),
            p + "self_attn.v_proj.weight": (KV * D, C),
            p + "self_attn.o_proj.weight": (C, H * D),
            p + "post_attention_layernorm.weight": (C,),
            p + "mlp.gate_proj.weight": (I, C),
            p + "mlp.up_proj.weight": (I, C),
            p + "mlp.down_proj.weight": (C, I),
        })
        if qkv_bias:
            shapes[p + "self_attn.q_proj.bias"] = (H * D,)
            shapes[p + "self_attn.k_proj.bias"] = (KV * D,)
            shapes[p + "self_attn.v_proj.bias"] = (KV * D,)
    shapes["model.norm.weight"] = (C,)
    if not cfg.get("tie_word_embeddings", False):
        shapes["lm_head.weight"] = (V, C)
    return shapes


def rope_inv_freq(cfg):
    """Inverse frequencies [D/2], with the "llama3" rope_scaling when present."""
    C, H = cfg["hidden_size"], cfg["num_attention_heads"]
    D = cfg.get("head_dim") or C // H
    inv_freq = 1.0 / (cfg["rope_theta"] ** (torch.arange(0, D, 2, dtype=torch.float64) / D))
    scaling = cfg.get("rope_scaling")
    if not scaling:
        return inv_freq
    if scaling.get("rope_type", scaling.get("type")) != "llama3":
        raise ValueError("only llama3 rope_scaling is implemented")
    factor = scaling["factor"]
    low, high = scaling["low_freq_factor"], scaling["high_freq_factor"]
    old_ctx = scaling["original_max_position_embeddings"]
    wavelen = 2 * math.pi / inv_freq
    low_freq_wavelen = old_ctx / low
    high_freq_wavelen = old_ctx / high
    # Long wavelengths (low frequencies) are slowed down by `factor`, short
    # ones kept, and the band in between blended smoothly.
    scaled = torch.where(wavelen > low_freq_wavelen, inv_freq / factor, inv_freq)
    smooth = (old_ctx / wavelen - low) / (high - low)
    blended = (1 - smooth) * scaled / factor + smooth * scaled
    medium = (wavelen >= high_freq_wavelen) & (wavelen <= low_freq_wavelen)
    return torch.where(medium, blended, scaled)


def _rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


def llama_logits(cfg, w, input_ids, attention_mask):
    """input_ids, attention_mask [B, T] -> logits [B, T, V]. Positions are
    0..T-1 for every row (right padding), as HF uses without position_ids."""
    h = llama_hidden(cfg, w, input_ids, attention_mask)
    head = w["model.embed_tokens.weight"] if cfg.get("tie_word_embeddings", False) else w["lm_head.weight"]
    return h @ head.T


def llama_hidden(cfg, w, input_ids, attention_mask):
    """input_ids, attention_mask [B, T] -> final hidden states [B, T, C] (after model.norm)."""
    B, T = input_ids.shape
    C = cfg["hidden_size"]
    H, KV = cfg["num_attention_heads"], cfg["num_key_value_heads"]
    D = cfg.get("head_dim") or C // H
    eps = cfg["rms_norm_eps"]

    def rms(x, name):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w[name]

    def linear(x, name):
        y = x @ w[name + ".weight"].T
        return y + w[name + ".bias"] if name + ".bias" in w else y

    freqs = torch.arange(T, dtype=torch.float64)[:, None] * rope_inv_freq(cfg)[None, :]
    emb = torch.cat((freqs, freqs), dim=-1)
    # The tables in the weights' dtype: float64 for the goldens (a no-op), float32 for bench/train_torch.py,
    # where float64 tables would promote q and k to float64 against a float32 v.
    dtype = w["model.embed_tokens.weight"].dtype
    cos, sin = emb.cos().to(dtype)[None, None], emb.sin().to(dtype)[None, None]
    rope = lambda x: x * cos + _rotate_half(x) * sin

    h = w["model.embed_tokens.weight"][input_ids]
    bias = _causal_padding_bias(attention_mask, h.dtype)
    for i in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{i}."
        x = rms(h, p + "input_layernorm.weight")
        q = linear(x, p + "self_attn.q_proj").reshape(B, T, H, D).transpose(1, 2)
        k = linear(x, p + "self_attn.k_proj").reshape(B, T, KV, D).transpose(1, 2)
        v = linear(x, p + "self_attn.v_proj").reshape(B, T, KV, D).transpose(1, 2)
        q, k = rope(q), rope(k)
        # Grouped-query attention: each KV head serves H/KV query heads.
        k = k.repeat_interleave(H // KV, dim=1)
        v = v.repeat_interleave(H // KV, dim=1)
        h = h + linear(_attend(q, k, v, bias), p + "self_attn.o_proj")
        x = rms(h, p + "post_attention_layernorm.weight")
        gate = linear(x, p + "mlp.gate_proj")
        h = h + linear(torch.nn.functional.silu(gate) * linear(x, p + "mlp.up_proj"), p + "mlp.down_proj")
    return rms(h, "model.norm.weight")
