"""Checks for lesson 02 (from scores to weights)."""
from __future__ import annotations

import numpy as np

from course_lib.attention.core import softmax_weights
from course_lib.checks.case import Case, Mistake, register_check
from course_lib.attention.masks import causal_mask, padding_mask
from course_lib.attention.weight_rules import topk_weights


def _naive_softmax(s, t):
    e = np.exp(s / t)
    return e / e.sum(axis=-1, keepdims=True)


def _shifted_softmax(s, t, shift, axis=-1):
    """softmax(s / t) over ``axis`` after subtracting ``shift(z)``: the max (right, stable), the
    mean (stable-looking, not stable) or the maximum of everything (stable, for mistakes)."""
    z = s / t
    e = np.exp(z - shift(z))
    return e / e.sum(axis=axis, keepdims=True)


def _row_max(z):
    return z.max(axis=-1, keepdims=True)


@register_check(
    "softmax",
    task="fn(scores, temperature) -> weights: softmax of scores / temperature over the last axis",
    unstable_softmax=_naive_softmax,
    success="Each row sums to 1 and [[1000, -1000]] came out as [1, 0], not NaN: like "
            "course_lib's softmax_weights you subtracted each row's maximum, which changes no "
            "weight but keeps every exp() at most 1.",
    mistakes=[
        # (the wrong answers below are stable, as a learner's would be: only the named mistake)
        Mistake("You normalised over the wrong axis: every row (last axis, one query's scores) must "
                "sum to 1. Use axis=-1 with keepdims=True.",
                lambda s, t: _shifted_softmax(s, t, lambda z: z.max(axis=0, keepdims=True), axis=0)),
        Mistake("You normalised over all entries at once: each row (one query) must sum to 1 on its "
                "own. Use .sum(axis=-1, keepdims=True).",
                lambda s, t: (lambda e: e / e.sum())(np.exp(s / t - (s / t).max()))),
        Mistake("The temperature is ignored: divide the scores by the temperature before exp.",
                lambda s, t: _shifted_softmax(s, 1.0, _row_max)),
        Mistake("You multiplied by the temperature; divide instead (a low temperature must make the "
                "weights sharper).", lambda s, t: _shifted_softmax(s * t * t, t, _row_max)),
        Mistake("You subtracted each row's *mean*: that keeps [1000, 999, 0] finite but not "
                "[1000, -1000], whose mean is 0 (exp(1000) is inf, inf / inf is NaN). Subtract the "
                "row's *maximum*: then the largest exponent is exp(0) = 1 and nothing overflows.",
                lambda s, t: _shifted_softmax(s, t, lambda z: z.mean(axis=-1, keepdims=True)),
                nan=True),
        Mistake("You normalised the scores themselves (s / s.sum()) without exp: weights must be "
                "positive, so exponentiate first.",
                lambda s, t: (s / t) / (s / t).sum(axis=-1, keepdims=True), nan=True),
    ],
)
def _softmax_cases():
    rng = np.random.default_rng(2)
    s = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])
    cases = [Case("hand-worked: rows [1, 2, 3] and [0, 0, 0]", (s, 1.0), softmax_weights(s, 1.0))]
    s = rng.normal(size=(4, 6))
    cases.append(Case("temperature 0.5 sharpens", (s, 0.5), softmax_weights(s, 0.5)))
    s = rng.normal(size=(2, 3, 5))
    cases.append(Case("a batch of score matrices, temperature 2", (s, 2.0), softmax_weights(s, 2.0)))
    s = np.array([[1000.0, 999.0, 0.0], [-1000.0, -1001.0, -1002.0]])
    cases.append(Case("huge scores (exp would overflow)", (s, 1.0), softmax_weights(s, 1.0)))
    s = np.array([[1000.0, -1000.0]])
    cases.append(Case("scores +1000 and -1000: their mean is 0, their maximum 1000", (s, 1.0),
                      softmax_weights(s, 1.0)))
    return cases


# ------------------------------------------------------------------------------------------
# More exercises of lesson 02
# ------------------------------------------------------------------------------------------
def _stable_softmax(s):
    e = np.exp(s - s.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _masked_nan_rows(s, mask):
    # -inf for blocked scores plus max subtraction: right, except a fully blocked row is NaN
    return _stable_softmax(np.where(mask, s, -np.inf))


def _masked_unstable(s, mask):
    # right about masks and empty rows, but exp() of the unshifted scores
    e = np.exp(np.where(mask, s, -np.inf))
    total = e.sum(axis=-1, keepdims=True)
    return e / np.where(total > 0, total, 1.0)


@register_check(
    "masked_softmax",
    task="fn(scores, mask) -> weights: softmax over the last axis where mask is True; blocked "
         "entries get 0; a row with nothing allowed gets all zeros",
    unstable_softmax=_masked_unstable,
    success="Blocked keys got exactly 0, the allowed ones still sum to 1, and a row with nothing "
            "allowed got zeros instead of NaN, as course_lib's softmax_weights(scores, mask=...) "
            "does.",
    mistakes=[
        Mistake("Blocked entries still get weight: setting a blocked score to 0 is not enough, "
                "exp(0) = 1. Set blocked scores to -np.inf before the softmax (exp(-inf) = 0).",
                lambda s, m: _stable_softmax(np.where(m, s, 0.0))),
        Mistake("You zeroed the blocked weights after the softmax, so the remaining weights no "
                "longer sum to 1. Mask the *scores* (-np.inf) before the softmax, or "
                "renormalise the row.", lambda s, m: _stable_softmax(s) * m),
        Mistake("The mask is inverted: True means 'may attend', False means 'blocked'.",
                lambda s, m: softmax_weights(s, mask=~m)),
        Mistake("A row where every key is blocked came out as NaN: its maximum is -inf, and "
                "-inf - (-inf) is NaN. Such a row has nothing to attend to: give it all-zero "
                "weights (e.g. replace a -inf row maximum by 0 before subtracting, and guard the "
                "division when the row sum is 0).", _masked_nan_rows, nan=True),
        Mistake("A row where every key is blocked got equal weights: with a large negative number "
                "(e.g. -1e9) instead of -inf, a fully blocked row looks like a row of equal scores. "
                "Such a row has nothing to attend to and must get all-zero weights.",
                lambda s, m: _stable_softmax(np.where(m, s, -1e9))),
    ],
)
def _masked_softmax_cases():
    rng = np.random.default_rng(21)
    s = np.array([[1.0, 2.0, 3.0, 4.0]])
    m = np.array([[True, True, False, True]])
    cases = [Case("hand-worked: one row, key index 2 blocked", (s, m), softmax_weights(s, mask=m))]
    s = rng.normal(size=(4, 4))
    cases.append(Case("a causal mask (each query sees itself and the past)", (s, causal_mask(4)),
                      softmax_weights(s, mask=causal_mask(4))))
    s = rng.normal(size=(3, 2, 5))
    m = padding_mask(np.array([5, 3, 2]), 5)
    cases.append(Case("a batch with padding: mask of shape (3, 1, 5) broadcasts over queries",
                      (s, m), softmax_weights(s, mask=m)))
    s = np.array([[1000.0, 990.0, -500.0], [-1000.0, -1001.0, 3.0]])
    m = np.array([[True, True, False], [True, True, False]])
    cases.append(Case("huge scores (exp would overflow)", (s, m), softmax_weights(s, mask=m)))
    s = rng.normal(size=(3, 4))
    m = np.array([[True, False, True, False], [False, False, False, False], [True] * 4])
    cases.append(Case("row 2 has nothing allowed: all-zero weights, not NaN", (s, m),
                      softmax_weights(s, mask=m)))
    return cases


@register_check(
    "causal_mask",
    task="fn(n) -> boolean (n, n) mask: query i may attend to keys j <= i",
    success="Row i allows columns 0..i, the lower triangle with its diagonal: the same boolean "
            "mask as course_lib.attention.masks.causal_mask, so no position sees the future.",
    mistakes=[
        Mistake("This mask lets each position see the future (j >= i): it is the transpose of the "
                "causal mask. Use np.tril (lower triangle): row i allows columns 0..i.",
                lambda n: np.triu(np.ones((n, n), dtype=bool))),
        Mistake("The diagonal is missing: a position may attend to itself (j <= i, not j < i).",
                lambda n: np.tril(np.ones((n, n), dtype=bool), k=-1)),
        Mistake("Everything is allowed: the causal mask must block the future, j > i.",
                lambda n: np.ones((n, n), dtype=bool)),
    ],
)
def _causal_mask_cases():
    return [Case(f"n = {n}", (n,), causal_mask(n)) for n in (3, 1, 6)]


def _topk_reference(s, k):
    return topk_weights(s, k=k)


def _topk_unstable(s, k):
    kth = np.sort(s, axis=-1)[..., -k][..., None]
    return _masked_unstable(s, s >= kth)


def _topk_wrong_rows(select):
    def wrong(s, k):
        w = np.zeros_like(s)
        order = np.argsort(-s, axis=-1, kind="stable")
        keep = select(order, k)
        np.put_along_axis(w, keep, np.take_along_axis(s, keep, -1), -1)
        chosen = np.zeros(s.shape, dtype=bool)
        np.put_along_axis(chosen, keep, True, -1)
        return softmax_weights(s, mask=chosen)
    return wrong


@register_check(
    "topk_weights",
    task="fn(scores, k) -> weights: softmax over the k largest scores of each row, 0 elsewhere",
    unstable_softmax=_topk_unstable,
    success="Only the k best keys share the weight and each row still sums to 1, as in "
            "course_lib's topk_weights; k = 1 (hard attention) and k = n_k (plain softmax), both "
            "of which you just passed, are its two ends.",
    mistakes=[
        Mistake("You took the softmax over all keys and then zeroed all but the top k, so a row "
                "no longer sums to 1. Take the softmax over the top k scores only (block the "
                "others with -inf first).",
                lambda s, k: np.where(s >= np.sort(s, -1)[..., -k:-k + 1 or None][..., :1],
                                      _stable_softmax(s), 0.0)),
        Mistake("You kept the k *smallest* scores: np.argsort sorts ascending, so take the last "
                "k indices (or sort -scores).", _topk_wrong_rows(lambda o, k: o[..., ::-1][..., :k])),
        Mistake("You kept k + 1 keys: with indices sorted best first, the top k are [:k].",
                _topk_wrong_rows(lambda o, k: o[..., :k + 1])),
        Mistake("You kept k - 1 keys: with indices sorted best first, the top k are [:k].",
                _topk_wrong_rows(lambda o, k: o[..., :max(k - 1, 1)])),
    ],
)
def _topk_cases():
    rng = np.random.default_rng(22)
    s = np.array([[1.0, 3.0, 2.0, 0.0]])
    cases = [Case("hand-worked: top 2 of [1, 3, 2, 0]", (s, 2), _topk_reference(s, 2))]
    s = rng.normal(size=(2, 3, 6))
    cases.append(Case("a batch of score matrices, k = 3", (s, 3), _topk_reference(s, 3)))
    s = rng.normal(size=(4, 5))
    cases.append(Case("k = 1 is hard attention (argmax)", (s, 1), _topk_reference(s, 1)))
    cases.append(Case("k = n_k is plain softmax", (s, 5), _topk_reference(s, 5)))
    s = np.array([[1000.0, 999.0, 0.0, 998.0]])
    cases.append(Case("huge scores (exp would overflow)", (s, 2), _topk_reference(s, 2)))
    return cases
