"""Checks for lesson 02 (from scores to weights)."""
from __future__ import annotations

import numpy as np

from ..core import softmax_weights
from .framework import Case, Mistake, register_check


def _naive_softmax(s, t):
    e = np.exp(s / t)
    return e / e.sum(axis=-1, keepdims=True)


@register_check(
    "softmax",
    task="fn(scores, temperature) -> weights: softmax of scores / temperature over the last axis",
    mistakes=[
        Mistake("You normalised over the wrong axis: every row (last axis, one query's scores) must "
                "sum to 1. Use axis=-1 with keepdims=True.",
                lambda s, t: np.exp(s / t) / np.exp(s / t).sum(axis=0, keepdims=True)),
        Mistake("You normalised over all entries at once: each row (one query) must sum to 1 on its "
                "own. Use .sum(axis=-1, keepdims=True).",
                lambda s, t: np.exp(s / t) / np.exp(s / t).sum()),
        Mistake("The temperature is ignored: divide the scores by the temperature before exp.",
                lambda s, t: _naive_softmax(s, 1.0)),
        Mistake("You multiplied by the temperature; divide instead (a low temperature must make the "
                "weights sharper).", lambda s, t: _naive_softmax(s * t * t, t)),
        Mistake("You normalised the scores themselves (s / s.sum()) without exp: weights must be "
                "positive, so exponentiate first.",
                lambda s, t: (s / t) / (s / t).sum(axis=-1, keepdims=True)),
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
    return cases
