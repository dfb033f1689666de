#!/usr/bin/env python3
"""Checks the committed goldens against real Hugging Face transformers.

The goldens under tests/fixtures/golden/ are written by this project's own
float64 PyTorch implementations (tests/reference/golden_*.py), and the
TypeScript tests compare against them. This script closes the loop: it loads
the same fixture folders with transformers (AutoModelForCausalLM,
AutoModelForSequenceClassification) and checks that

- the causal models' logits equal the goldens' logits (non-padding positions);
- `model.generate` gives the goldens' tokens for greedy and beam search (and
  for group beam search when the installed transformers still has it; 5.x
  moved it to the Hub, which needs network);
- the sequence-classification heads give the goldens' rewards.

It needs torch and transformers (not installed in CI; run on a machine that
has them, from the repository root):

    python3 tests/reference/check_transformers.py [--out report.json]

Exit status 0 when everything matches, 1 otherwise. The report lists every
comparison with its largest difference.
"""
import argparse
import json
import os
import sys

import numpy as np
import torch
import transformers
from transformers import AutoModelForCausalLM, AutoModelForSequenceClassification

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from golden_safetensors import read_safetensors_f64  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
GOLDEN = os.path.join(ROOT, "tests", "fixtures", "golden")
# The goldens' logits are stored as float32, and transformers computes the RoPE
# cos/sin tables in float32 even for a float64 model (measured: GPT-2 4.7e-7,
# Llama/Qwen2 logits up to 5.6e-6, Llama/Qwen2/Mistral rewards up to 1.5e-6;
# GPT-2's float64 rewards agree to 4e-15).
LOGIT_TOL = 1e-5
SCORE_TOL = 1e-6
REWARD_TOL = 1e-5

results = []


def record(kind, name, ok, **detail):
    results.append({"kind": kind, "name": name, "ok": bool(ok), **detail})
    print(("ok  " if ok else "FAIL"), kind, name, json.dumps(detail)[:300], flush=True)


def load_causal(folder):
    model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float64)
    return model.eval()


def check_logits():
    for name in ("gpt2-tiny", "llama-tiny", "qwen2-tiny"):
        golden = json.load(open(os.path.join(GOLDEN, f"{name}.json")))
        tensors = read_safetensors_f64(os.path.join(GOLDEN, f"{name}.safetensors"))
        model = load_causal(os.path.join(ROOT, "tests", "fixtures", "models", name))
        ids = torch.tensor(golden["batch"]["input_ids"])
        mask = torch.tensor(golden["batch"]["attention_mask"])
        worst = 0.0
        for row in range(ids.shape[0]):
            n = int(mask[row].sum())
            if n == 0:
                continue
            with torch.no_grad():
                logits = model(input_ids=ids[row : row + 1, :n]).logits[0].numpy()
            worst = max(worst, float(np.abs(logits - tensors["logits"][row, :n]).max()))
        record("logits", name, worst <= LOGIT_TOL, max_abs_diff=worst, tol=LOGIT_TOL)


def new_tokens(sequence, prompt_len, eos):
    tokens = [int(t) for t in sequence[prompt_len:]]
    for i, t in enumerate(tokens):
        if t in eos:
            return tokens[:i], "eos"
    return tokens, "length"


def generate_case(model, case):
    s = case["settings"]
    eos = case["eos"]
    ids = torch.tensor([case["prompt"]])
    kwargs = dict(
        input_ids=ids,
        attention_mask=torch.ones_like(ids),
        max_new_tokens=s["max_new_tokens"],
        eos_token_id=eos,
        pad_token_id=eos[0],
        do_sample=False,
        return_dict_in_generate=True,
        output_scores=True,
    )
    if s["strategy"] != "greedy":
        kwargs.update(
            num_beams=s["num_beams"],
            num_return_sequences=s["num_return_sequences"],
            length_penalty=s["length_penalty"],
        )
    if s["strategy"] == "diverse-beam":
        kwargs.update(num_beam_groups=s["num_beam_groups"], diversity_penalty=s["diversity_penalty"])
    with torch.no_grad():
        out = model.generate(**kwargs)
    got = [new_tokens(seq, ids.shape[1], eos) for seq in out.sequences.tolist()]
    scores = out.sequences_scores.tolist() if getattr(out, "sequences_scores", None) is not None else None
    return got, scores


def check_generate():
    cases = json.load(open(os.path.join(GOLDEN, "generate.json")))["cases"]
    models = {}
    for i, case in enumerate(cases):
        name = f"{case['model']} #{i} {case['settings']['strategy']} prompt={case['prompt']}"
        if case["model"] not in models:
            models[case["model"]] = load_causal(os.path.join(ROOT, "tests", "fixtures", "models", case["model"]))
        try:
            got, scores = generate_case(models[case["model"]], case)
        except Exception as error:  # group beam search needs the Hub in transformers 5.x
            record("generate", name, case["settings"]["strategy"] == "diverse-beam", skipped=f"{type(error).__name__}: {str(error)[:200]}")
            continue
        want = [(o["tokens"], o["finish"]) for o in case["outputs"]]
        same_tokens = [g[0] for g in got] == [w[0] for w in want]
        same_finish = [g[1] for g in got] == [w[1] for w in want]
        detail = {"tokens_equal": same_tokens, "finish_equal": same_finish}
        if scores is not None and all(o.get("score") is not None for o in case["outputs"]):
            diff = max(abs(a - o["score"]) for a, o in zip(scores, case["outputs"]))
            detail["max_score_diff"] = diff
            same_scores = diff <= SCORE_TOL
        else:
            same_scores = True
        if not (same_tokens and same_finish):
            detail["got"] = got
            detail["want"] = want
        record("generate", name, same_tokens and same_finish and same_scores, **detail)


def check_rewards():
    for arch in ("gpt2", "llama", "qwen2", "mistral"):
        golden = json.load(open(os.path.join(GOLDEN, f"reward-{arch}.json")))
        folder = os.path.join(ROOT, golden["model"])
        model = AutoModelForSequenceClassification.from_pretrained(folder, dtype=torch.float64).eval()
        worst = 0.0
        for seq, want in zip(golden["sequences"], golden["rewards"]):
            with torch.no_grad():
                got = float(model(input_ids=torch.tensor([seq])).logits[0, 0])
            worst = max(worst, abs(got - want))
        record("reward", arch, worst <= REWARD_TOL, max_abs_diff=worst, tol=REWARD_TOL)


def check_demo_model():
    """The shipped float16 demo model (assets/demo/model, saved by rrhf sft --save-dtype float16) loads in
    transformers with its tokenizer, and its greedy answers are the ones rrhf gives (README: 8, 16, 14)."""
    from transformers import PreTrainedTokenizerFast

    folder = os.path.join(ROOT, "assets", "demo", "model")
    model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32).eval()
    tok = PreTrainedTokenizerFast(tokenizer_file=os.path.join(folder, "tokenizer.json"))
    want = {"What is 2 + 5?\nAnswer:": " 8", "What is 7 + 8?\nAnswer:": " 16", "What is 9 + 4?\nAnswer:": " 14"}
    got = {}
    for query in want:
        ids = torch.tensor([tok.encode(query)])
        with torch.no_grad():
            out = model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), max_new_tokens=4, do_sample=False, eos_token_id=0, pad_token_id=0)
        new = [t for t in out[0, ids.shape[1]:].tolist()]
        new = new[: new.index(0)] if 0 in new else new
        got[query] = tok.decode(new)
    record("demo-model", "greedy answers", got == want, got=got, want=want)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out")
    args = parser.parse_args()
    torch.manual_seed(0)
    print(f"torch {torch.__version__}, transformers {transformers.__version__}", flush=True)
    for check in (check_logits, check_generate, check_rewards, check_demo_model):
        try:
            check()
        except Exception as error:
            record(check.__name__, "crashed", False, error=f"{type(error).__name__}: {error}")
    report = {
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "passed": sum(r["ok"] for r in results),
        "failed": sum(not r["ok"] for r in results),
        "results": results,
    }
    if args.out:
        with open(args.out, "w") as f:
            json.dump(report, f, indent=1)
    print(f"{report['passed']} ok, {report['failed']} failed")
    sys.exit(0 if report["failed"] == 0 else 1)


if __name__ == "__main__":
    main()
