#!/usr/bin/python3
"""Writes the reward-model fixtures and their PyTorch goldens for the TS parity tests.

Run from the repository root (needs only torch and numpy; no transformers):

    /usr/bin/python3 tests/reference/make_reward_golden.py

It (re)writes
  tests/fixtures/reward-models/{gpt2,llama,qwen2,mistral}-rm/  config.json + model.safetensors
      (HF *ForSequenceClassification tensor names: the causal body and a
      bias-free `score.weight` [1, hidden]); gpt2-rm also gets the character
      tokenizer of tests/fixtures/models/gpt2-tiny so `rrhf score` can use it
  tests/fixtures/golden/reward-<arch>.json    sequences and their rewards

The reward follows transformers' *ForSequenceClassification.forward on one
unpadded sequence (batch size 1): the score head at the rightmost token whose
id is not config.pad_token_id ((arange(T) * (ids != pad)).argmax(), so 0 for
an all-pad sequence), or at the last token when pad_token_id is None.
Each architecture's fixture exercises one case of that rule.
"""
import json
import os
import shutil
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from golden_models import gpt2_hidden, gpt2_param_shapes, llama_hidden, llama_param_shapes  # noqa: E402
from make_golden import GPT2_CONFIG, LLAMA_CONFIG, QWEN2_CONFIG, random_weights, write_model_folder  # noqa: E402

FIXTURE_VERSION = 1
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
RM_DIR = os.path.join(ROOT, "tests", "fixtures", "reward-models")
GOLDEN_DIR = os.path.join(ROOT, "tests", "fixtures", "golden")


def classifier(cfg, arch, pad):
    out = {k: v for k, v in cfg.items() if k not in ("architectures", "tie_word_embeddings")}
    out["architectures"] = [arch]
    out["id2label"] = {"0": "LABEL_0"}
    out["label2id"] = {"LABEL_0": 0}
    out["pad_token_id"] = pad
    return out


MISTRAL_CONFIG = {
    **{k: v for k, v in LLAMA_CONFIG.items() if k not in ("rope_scaling", "attention_bias", "mlp_bias")},
    "architectures": ["MistralForCausalLM"], "model_type": "mistral", "rope_theta": 10000.0,
    # Longer than any golden sequence: full causal attention.
    "sliding_window": 4096,
}

# name -> (config, hidden fn, shapes fn, seed, sequences). Token ids < 64.
CASES = {
    # pad_token_id None: the reward is read at the last token.
    "gpt2": (classifier(GPT2_CONFIG, "GPT2ForSequenceClassification", None), gpt2_hidden, gpt2_param_shapes, 31,
             [[5, 17, 33, 8, 0], [40, 41, 42], [9], [12, 0, 0, 0, 13, 7, 60, 2, 3, 0, 1, 50]]),
    # pad == eos (2): a trailing run of EOS is skipped; all-pad reads position 0.
    "llama": (classifier(LLAMA_CONFIG, "LlamaForSequenceClassification", 2), llama_hidden, llama_param_shapes, 32,
              [[1, 20, 21, 22, 2], [1, 30, 2, 31, 2, 2], [1, 5, 6, 7, 8, 9, 10], [2, 2, 2]]),
    # pad 0 distinct from eos (3): a pad in the middle does not stop the read.
    "qwen2": (classifier(QWEN2_CONFIG, "Qwen2ForSequenceClassification", 0), llama_hidden, llama_param_shapes, 33,
              [[3, 11, 12, 0, 13, 3], [3, 44, 45, 0, 0], [7, 8]]),
    # pad None again, Llama-family code path with Mistral's config.
    "mistral": (classifier(MISTRAL_CONFIG, "MistralForSequenceClassification", None), llama_hidden, llama_param_shapes, 34,
                [[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], [1, 63, 62], [1]]),
}


def reward_position(ids, pad):
    if pad is None:
        return len(ids) - 1
    t = torch.tensor(ids)
    return int((torch.arange(len(ids)) * (t != pad).long()).argmax())


def main():
    goldens = {}
    for name, (cfg, hidden, shapes_of, seed, sequences) in CASES.items():
        shapes = shapes_of({**cfg, "tie_word_embeddings": True})
        hidden_size = cfg.get("n_embd") or cfg["hidden_size"]
        shapes["score.weight"] = (1, hidden_size)
        weights = random_weights(shapes, seed)
        folder = f"{name}-rm"
        os.makedirs(RM_DIR, exist_ok=True)
        # write_model_folder writes under tests/fixtures/models; move it beside its kind.
        write_model_folder(folder, cfg, weights)
        src = os.path.join(ROOT, "tests", "fixtures", "models", folder)
        dst = os.path.join(RM_DIR, folder)
        shutil.rmtree(dst, ignore_errors=True)
        shutil.move(src, dst)
        if name == "gpt2":
            for f in ("tokenizer.json", "tokenizer_config.json"):
                shutil.copy(os.path.join(ROOT, "tests", "fixtures", "models", "gpt2-tiny", f), dst)
        rewards = []
        for ids in sequences:
            x = torch.tensor([ids])
            h = hidden(cfg, weights, x, torch.ones_like(x))
            pos = reward_position(ids, cfg["pad_token_id"])
            rewards.append(float((h[0, pos] @ weights["score.weight"].T)[0]))
        golden = {"fixture_version": FIXTURE_VERSION, "model": f"tests/fixtures/reward-models/{folder}",
                  "pad_token_id": cfg["pad_token_id"], "sequences": sequences,
                  "positions": [reward_position(s, cfg["pad_token_id"]) for s in sequences], "rewards": rewards}
        with open(os.path.join(GOLDEN_DIR, f"reward-{name}.json"), "w") as f:
            json.dump(golden, f, indent=2)
            f.write("\n")
        goldens[name] = rewards
    print(json.dumps(goldens, indent=1))


if __name__ == "__main__":
    main()
