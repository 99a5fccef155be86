"""Ways to turn scores into weights besides plain softmax, and how to measure them (lesson 02).

    entropy(weights)                       how spread out a weight distribution is (0 = one key)
    hard_weights(scores, temperature, mask)        argmax: all weight on the best key
    topk_weights(scores, temperature, mask, k=k)   softmax restricted to the k best keys (sparse)
    sparsemax(scores, temperature, mask)           a projection onto the simplex: exact zeros

Every weight rule takes ``(scores, temperature=1.0, mask=None)`` with the meaning they have in
:func:`course_lib.softmax_weights`: the rule is applied to ``scores / temperature``; ``mask`` is
boolean, broadcastable to the scores, True = may attend; a blocked key gets weight exactly 0 and
a row with no allowed key gets all-zero weights. So a lesson or an explorer hands the same three
arguments to any rule, and the temperature has one owner: the rule.

Every function takes torch tensors or NumPy arrays (NumPy in -> NumPy out) and works along the
last axis, so scores of shape ``(..., n_q, n_k)`` give weights of the same shape.
"""
from __future__ import annotations

import math

import torch

from course_lib.attention.core import allocate_weights, enter_scores
from course_lib.basics.arrays import like_input, require_rank, to_tensor


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


def best_allowed(s: torch.Tensor, allowed: torch.Tensor | None) -> torch.Tensor:
    """``s`` with blocked entries at -inf (below every allowed score), so that a ranking of the
    row (argmax, top-k, sorting) puts them last. Tensor level: ``allowed`` as from the door."""
    return s if allowed is None else s.masked_fill(~allowed, -math.inf)


def hard_weights(scores, temperature=1.0, mask=None):
    """One-hot weights on the highest allowed score of each row (ties: the first). ``(..., n_k)``.

    This is the limit of softmax as the temperature goes to 0. Dividing by any temperature > 0
    keeps the order of the scores, so ``temperature`` does not change the result (it is checked
    and accepted so that every rule is called the same way). Its gradient is zero almost
    everywhere, which is why models are trained with softmax instead.
    """
    s, _, allowed, door = enter_scores(scores, temperature, mask)
    if s.shape[-1] == 0:                                   # no keys: nothing gets weight
        return door.back(s * 0.0)
    ranked = best_allowed(s, allowed)
    w = torch.zeros_like(s).scatter_(-1, ranked.argmax(-1, keepdim=True), 1.0)
    # a row with nothing allowed: its argmax is a blocked key, which gets 0 like the rest
    return door.back(w if allowed is None else w * allowed)


def topk_weights(scores, temperature=1.0, mask=None, *, k: int):
    """Softmax of ``scores / temperature`` over the ``k`` highest allowed scores of each row;
    every other key gets weight 0. ``(..., n_k) -> (..., n_k)``; ``k`` must lie in ``[1, n_k]``.

    ``k`` is keyword-only (``topk_weights(scores, k=3)``): every weight rule takes
    ``(scores, temperature, mask)`` first. A row with fewer than ``k`` allowed keys shares its
    weight among all of them; a row with none gets zeros. The softmax is
    :func:`course_lib.attention.core.allocate_weights` with a mask that allows only the top ``k``.
    """
    s, temperature, allowed, door = enter_scores(scores, temperature, mask)
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= s.shape[-1]:
        raise ValueError(f"k must be an integer in [1, n_k={s.shape[-1]}] (scores shape "
                         f"{tuple(s.shape)}), got {k!r}")
    top = best_allowed(s, allowed).topk(k, dim=-1).indices
    keep = torch.zeros(s.shape, dtype=torch.bool, device=s.device).scatter_(-1, top, True)
    if allowed is not None:
        keep &= allowed                   # fewer than k allowed keys: the top k held blocked ones
    return door.back(allocate_weights(s, temperature, keep))


def sparsemax(scores, temperature=1.0, mask=None):
    """Sparsemax (Martins & Astudillo, 2016): the point of the simplex closest to the scores.

    Like softmax it gives weights >= 0 summing to 1 and is differentiable almost everywhere, but
    keys whose score falls below a data-dependent threshold ``tau`` get exactly 0:
    ``w_i = max(z_i - tau, 0)`` with ``z = scores / temperature`` and ``tau`` chosen so the
    weights of the allowed keys sum to 1 (blocked keys get 0). ``(..., n_k)``. A small
    temperature spreads the scores apart (fewer keys stay above ``tau``; in the limit, argmax), a
    large one squeezes them together (in the limit, uniform over the allowed keys).
    """
    s, temperature, allowed, door = enter_scores(scores, temperature, mask)
    if s.shape[-1] == 0:                                   # no keys: nothing gets weight
        return door.back(s * 0.0)
    # Shift each row so that its largest allowed score is 0 (sparsemax ignores a shift, and the
    # sums below then stay small), then divide by T; blocked keys are -inf, sorted last.
    z = best_allowed(s, allowed)
    row_max = z.amax(dim=-1, keepdim=True).detach()
    z = (z - torch.where(torch.isfinite(row_max), row_max, torch.zeros_like(row_max))) / temperature
    ranked, _ = z.sort(dim=-1, descending=True)
    candidate = ranked > -math.inf                      # allowed keys, in falling order
    ranked = torch.where(candidate, ranked, torch.zeros_like(ranked))
    cumsum = ranked.cumsum(-1) - 1.0
    ranks = torch.arange(1, s.shape[-1] + 1, device=s.device, dtype=s.dtype)
    support = candidate & (ranked - cumsum / ranks > 0)  # keys that stay above the threshold
    n_support = support.sum(-1, keepdim=True)  # >= 1 (the largest score), 0 if nothing is allowed
    tau = cumsum.gather(-1, (n_support - 1).clamp_min(0)) / n_support.clamp_min(1).to(s.dtype)
    return door.back((z - tau).clamp_min(0.0))          # blocked: -inf - tau -> 0
