"""The RRHF loss of docs/rrhf-spec.md, written independently in PyTorch.

token_logps[r, t] is the log-probability of input_ids[r, t] given the tokens
before it (Hugging Face alignment: the label's own position; position 0 is
never scored), and 0 where labels[r, t] == -100. Rows whose row_query is -1
are padding rows.
"""
import torch


def token_logps_from_logits(logits, labels):
    """logits [R, T, V], labels [R, T] (HF-style, aligned with input_ids)."""
    logp = torch.log_softmax(logits, dim=-1)
    R, T, _ = logits.shape
    out = torch.zeros(R, T, dtype=logits.dtype)
    target = labels[:, 1:]
    scored = target != -100
    # Logits at t - 1 predict the token at t.
    gathered = logp[:, :-1].gather(-1, target.clamp(min=0).unsqueeze(-1)).squeeze(-1)
    out[:, 1:] = torch.where(scored, gathered, torch.zeros_like(gathered))
    return out


def rrhf_loss(token_logps, labels, row_query, scores, length_penalty=1.0, rrhf_weight=1.0, compat=False):
    """Returns dict with per-row policy scores `p` [R] (0 on padding rows) and
    per-query and batch-mean rank / sft / total losses.

    compat=True follows the official code: |y_i| is the padded length T of
    the batch and the SFT mean runs over all T positions of the best row."""
    R, T = token_logps.shape
    scored = labels != -100
    n_scored = scored.sum(-1).to(token_logps.dtype)
    length = torch.full((R,), float(T), dtype=token_logps.dtype) if compat else n_scored
    sums = token_logps.sum(-1)
    p = torch.where(row_query >= 0, sums / length.clamp(min=1) ** length_penalty, torch.zeros_like(sums))
    per_query = []
    for q in sorted(set(int(x) for x in row_query.tolist() if x >= 0)):
        rows = [r for r in range(R) if int(row_query[r]) == q]
        rank = token_logps.new_zeros(())
        for i in rows:
            for j in rows:
                if scores[i] < scores[j]:
                    rank = rank + torch.clamp(p[i] - p[j], min=0)
        best = rows[0]
        for r in rows:  # first row wins ties
            if scores[r] > scores[best]:
                best = r
        denom = float(T) if compat else n_scored[best]
        sft = -token_logps[best].sum() / denom
        per_query.append({"rank": rank, "sft": sft, "loss": rrhf_weight * rank + sft, "best_row": best})
    n = len(per_query)
    return {
        "p": p,
        "per_query": per_query,
        "rank": sum(x["rank"] for x in per_query) / n,
        "sft": sum(x["sft"] for x in per_query) / n,
        "loss": sum(x["loss"] for x in per_query) / n,
    }
