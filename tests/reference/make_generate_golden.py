#!/usr/bin/python3
"""Writes the PyTorch goldens of greedy decoding and (diverse) beam search.

Run from the repository root (needs only torch and numpy; no transformers):

    /usr/bin/python3 tests/reference/make_generate_golden.py

It reads the committed fixture models (tests/fixtures/models/{gpt2-tiny,llama-tiny})
and writes tests/fixtures/golden/generate.json: for a few prompts, the tokens
that greedy decoding, beam search and group (diverse) beam search give, and each
beam's score. Every step recomputes the whole sequence with the float64 models
of golden_models.py (no KV cache), and the search follows Hugging Face
transformers' generate: greedy = argmax of the processed logits; beam search =
BeamSearchScorer (log_softmax, processors, + beam scores, top 2 x group size
candidates, an EOS among the group-size best finishes a hypothesis scored
sum_logprobs / generated_len ** length_penalty with the EOS counted; groups
expanded in turn with HammingDiversityLogitsProcessor). CI does not run this
script; its output is committed.
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


def read_safetensors(path):
    return {name: torch.from_numpy(a) for name, a in read_safetensors_f64(path).items()}


def next_logits(model, seqs):
    """Logits [len(seqs), V] after each sequence (all the same length), recomputed from scratch."""
    fn, cfg, w = model
    ids = torch.tensor(seqs, dtype=torch.long)
    return fn(cfg, w, ids, torch.ones_like(ids))[:, -1, :]


def greedy(model, prompt, max_new, eos):
    seq = list(prompt)
    for _ in range(max_new):
        tok = int(torch.argmax(next_logits(model, [seq])[0]))
        if tok in eos:
            return {"tokens": seq[len(prompt):], "finish": "eos"}
        seq.append(tok)
    return {"tokens": seq[len(prompt):], "finish": "length"}


class Hyps:
    """HF BeamHypotheses."""

    def __init__(self, size, length_penalty, early_stopping):
        self.size, self.lp, self.early = size, length_penalty, early_stopping
        self.items, self.worst, self.done = [], 1e9, False

    def add(self, tokens, sum_logprobs, length, finish):
        score = sum_logprobs / length ** self.lp
        if len(self.items) < self.size or score > self.worst:
            self.items.append((score, tokens, finish))
            if len(self.items) > self.size:
                ranked = sorted((s, i) for i, (s, _, _) in enumerate(self.items))
                del self.items[ranked[0][1]]
                self.worst = ranked[1][0]
            else:
                self.worst = min(score, self.worst)

    def is_done(self, best_sum, length):
        if len(self.items) < self.size:
            return False
        if self.early:
            return True
        return self.worst >= best_sum / length ** self.lp


def beam_search(model, prompt, max_new, eos, num_beams, groups, diversity, length_penalty, n_return, early_stopping=False):
    gs = num_beams // groups
    beams = [[] for _ in range(num_beams)]
    scores = [0.0 if j % gs == 0 else -1e9 for j in range(num_beams)]
    hyps = [Hyps(gs, length_penalty, early_stopping) for _ in range(groups)]
    keep = max(2, 1 + len(eos)) * gs
    for t in range(max_new):
        logp = torch.log_softmax(next_logits(model, [prompt + b for b in beams]), dim=-1)
        new_beams, new_scores = list(beams), list(scores)
        chosen = []
        for g in range(groups):
            if hyps[g].done:
                continue
            rows = []
            for j in range(gs):
                q = g * gs + j
                row = logp[q].clone()
                for tok in chosen:
                    row[tok] -= diversity
                rows.append(row + scores[q])
            flat = torch.cat(rows)
            top_scores, top_idx = torch.topk(flat, keep)
            V = logp.shape[1]
            filled = 0
            for rank, (sc, idx) in enumerate(zip(top_scores.tolist(), top_idx.tolist())):
                src, tok = g * gs + idx // V, idx % V
                if tok in eos:
                    if rank < gs:
                        hyps[g].add(beams[src], sc, t + 1, "eos")
                    continue
                new_beams[g * gs + filled] = beams[src] + [tok]
                new_scores[g * gs + filled] = sc
                filled += 1
                if filled == gs:
                    break
            chosen += [new_beams[g * gs + j][-1] for j in range(gs)]
            hyps[g].done = hyps[g].is_done(max(top_scores.tolist()), t + 1)
        beams, scores = new_beams, new_scores
        if all(h.done for h in hyps):
            break
    for g in range(groups):
        if not hyps[g].done:
            for j in range(gs):
                hyps[g].add(beams[g * gs + j], scores[g * gs + j], len(beams[g * gs + j]), "length")
    best = sorted((h for hy in hyps for h in hy.items), key=lambda h: -h[0])[:n_return]
    return [{"tokens": toks, "finish": fin, "score": sc} for sc, toks, fin in best]


def main():
    torch.set_grad_enabled(False)
    cases = []
    for name, fn in MODELS.items():
        folder = os.path.join(ROOT, "tests", "fixtures", "models", name)
        with open(os.path.join(folder, "config.json")) as f:
            cfg = json.load(f)
        model = (fn, cfg, read_safetensors(os.path.join(folder, "model.safetensors")))
        eos = [cfg["eos_token_id"]]
        for prompt in ([5, 17, 3, 22, 9], [11, 4], [30, 31, 32, 33, 34, 35, 36]):
            cases.append({"model": name, "prompt": prompt, "eos": eos, "settings": {"strategy": "greedy", "max_new_tokens": 12},
                          "outputs": [greedy(model, prompt, 12, eos)]})
            beam = {"strategy": "beam", "num_beams": 3, "num_return_sequences": 3, "max_new_tokens": 8, "length_penalty": 1.0}
            cases.append({"model": name, "prompt": prompt, "eos": eos, "settings": beam,
                          "outputs": beam_search(model, prompt, 8, eos, 3, 1, 0.0, 1.0, 3)})
            diverse = {"strategy": "diverse-beam", "num_beams": 4, "num_beam_groups": 2, "diversity_penalty": 1.0,
                       "num_return_sequences": 4, "max_new_tokens": 6, "length_penalty": 0.8}
            cases.append({"model": name, "prompt": prompt, "eos": eos, "settings": diverse,
                          "outputs": beam_search(model, prompt, 6, eos, 4, 2, 1.0, 0.8, 4)})
        # An EOS the search can reach: the most likely token after the first prompt, as EOS.
        prompt = [5, 17, 3, 22, 9]
        first = int(torch.argmax(next_logits(model, [prompt])[0]))
        settings = {"strategy": "beam", "num_beams": 3, "num_return_sequences": 3, "max_new_tokens": 5, "length_penalty": 1.0}
        cases.append({"model": name, "prompt": prompt, "eos": [first], "settings": settings,
                      "outputs": beam_search(model, prompt, 5, [first], 3, 1, 0.0, 1.0, 3)})
    out = os.path.join(ROOT, "tests", "fixtures", "golden", "generate.json")
    with open(out, "w") as f:
        json.dump({"fixture_version": FIXTURE_VERSION, "cases": cases}, f, indent=1)
        f.write("\n")
    print(f"wrote {out}: {len(cases)} cases")


if __name__ == "__main__":
    main()
