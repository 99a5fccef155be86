"""Ways to turn scores into weights besides plain softmax, and how to measure them (lesson 02).

    entropy(weights)          how spread out a weight distribution is (0 = all on one key)
    hard_weights(scores)      argmax: all weight on the best key (not differentiable)
    topk_weights(scores, k)   softmax restricted to the k best keys (sparse)
    sparsemax(scores)         a projection onto the simplex: exact zeros, still differentiable

Every function takes torch tensors or NumPy arrays (NumPy in -> NumPy out) and works along the
last axis, so scores of shape ``(..., n_q, n_k)`` give weights of the same shape.
"""
from __future__ import annotations

import torch

from course_lib.basics.arrays import like_input, require_rank, to_tensor
from course_lib.attention.core import softmax_weights


def entropy(weights):
    """Shannon entropy in nats along the last axis: ``-sum w log w`` (with ``0 log 0 = 0``).

    ``(..., n_k) -> (...)``. It is 0 when one key takes all the weight and ``log(n_k)`` when the
    weights are uniform, so ``exp(entropy)`` reads as "the number of keys effectively used".
    """
    w, from_numpy = to_tensor(weights, "weights")
    require_rank(w, "weights", 1, "(..., n_k)")
    # where(w > 0, ...) implements 0 log 0 = 0 without ever evaluating log(0) * 0 = NaN.
    terms = torch.where(w > 0, w * torch.log(w.clamp_min(torch.finfo(w.dtype).tiny)),
                        torch.zeros_like(w))
    return like_input(0.0 - terms.sum(-1), from_numpy)  # 0.0 - x: never print -0.0


def hard_weights(scores):
    """One-hot weights on the highest score of each row (ties: the first). ``(..., n_k)``.

    This is the limit of softmax as the temperature goes to 0. Its gradient is zero almost
    everywhere, which is why models are trained with softmax instead.
    """
    s, from_numpy = to_tensor(scores, "scores")
    require_rank(s, "scores", 1, "(..., n_k)")
    w = torch.zeros_like(s, dtype=s.dtype if s.is_floating_point() else torch.float64)
    w.scatter_(-1, s.argmax(-1, keepdim=True), 1.0)
    return like_input(w, from_numpy)


def topk_weights(scores, k: int, temperature: float = 1.0):
    """Softmax over the ``k`` highest scores of each row; every other key gets weight 0.

    Built on :func:`course_lib.softmax_weights` with a mask that allows only the top ``k``.
    ``(..., n_k) -> (..., n_k)``; ``k`` must lie in ``[1, n_k]``.
    """
    s, from_numpy = to_tensor(scores, "scores")
    require_rank(s, "scores", 1, "(..., n_k)")
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= s.shape[-1]:
        raise ValueError(f"k must be an integer in [1, n_k={s.shape[-1]}] (scores shape "
                         f"{tuple(s.shape)}), got {k!r}")
    top = s.topk(k, dim=-1).indices
    allowed = torch.zeros(s.shape, dtype=torch.bool, device=s.device).scatter_(-1, top, True)
    return like_input(softmax_weights(s, temperature, mask=allowed), from_numpy)


def sparsemax(scores):
    """Sparsemax (Martins & Astudillo, 2016): the point of the simplex closest to the scores.

    Like softmax it gives weights >= 0 summing to 1 and is differentiable almost everywhere, but
    keys whose score falls below a data-dependent threshold ``tau`` get exactly 0:
    ``w_i = max(s_i - tau, 0)`` with ``tau`` chosen so the weights sum to 1. ``(..., n_k)``.
    """
    s, from_numpy = to_tensor(scores, "scores")
    require_rank(s, "scores", 1, "(..., n_k)")
    z, _ = s.sort(dim=-1, descending=True)
    cumsum = z.cumsum(-1) - 1.0
    ranks = torch.arange(1, s.shape[-1] + 1, device=s.device, dtype=s.dtype)
    support = z - cumsum / ranks > 0                   # keys that stay above the threshold
    n_support = support.sum(-1, keepdim=True)          # always >= 1 (the largest score)
    tau = cumsum.gather(-1, n_support - 1) / n_support.to(s.dtype)
    return like_input((s - tau).clamp_min(0.0), from_numpy)
