"""Checks for lesson 03 (weighted aggregation)."""
from __future__ import annotations

import numpy as np

from ..core import attend, softmax_weights
from .framework import Case, Mistake, register_check


def _swap(x):
    return np.swapaxes(x, -1, -2)


def _attend_with(scores_fn):
    def attend_wrong(q, k, v):
        w = softmax_weights(scores_fn(q, k))
        return w @ v, w
    return attend_wrong


def _attend_wrong_axis(q, k, v):
    s = q @ _swap(k) / np.sqrt(q.shape[-1])
    e = np.exp(s - s.max(axis=-2, keepdims=True))
    w = e / e.sum(axis=-2, keepdims=True)
    return w @ v, w


@register_check(
    "attend",
    task="fn(q, k, v) -> (output, weights): scaled dot-product attention",
    mistakes=[
        Mistake("The 1/sqrt(d) scale is missing from the scores.",
                _attend_with(lambda q, k: q @ _swap(k))),
        Mistake("The softmax runs over the queries (axis -2); it must run over the keys (axis -1), "
                "so that each query's weights sum to 1.", _attend_wrong_axis),
        Mistake("You returned the weights where the output should be (and vice versa): return "
                "(output, weights).", lambda q, k, v: attend(q, k, v)[::-1]),
    ],
)
def _attend_cases():
    rng = np.random.default_rng(3)
    q = np.array([[1.0, 0.0], [0.0, 1.0]])
    k = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    v = np.array([[10.0], [20.0], [30.0]])
    cases = [Case("hand-worked: 2 queries, 3 keys, 1-d values", (q, k, v), attend(q, k, v))]
    for label, nq, nk, d, dv, batch in [
        ("values wider than keys (d_v != d)", 3, 5, 4, 7, ()),
        ("a batch of 2", 4, 6, 8, 3, (2,)),
        ("two batch dimensions", 2, 3, 4, 5, (2, 3)),
    ]:
        q = rng.normal(size=batch + (nq, d))
        k = rng.normal(size=batch + (nk, d))
        v = rng.normal(size=batch + (nk, dv))
        cases.append(Case(label, (q, k, v), attend(q, k, v)))
    return cases
