"""Checks for lesson 01 (similarity). A model for every lesson's checks:

1. build cases from small hand-worked inputs up to random batched ones, with a fixed seed;
2. compute the expected answer with the course's reference implementation (course_lib.core);
3. list the mistakes learners really make, each as a wrong function plus a hint naming it.
"""
from __future__ import annotations

import numpy as np

from ..core import similarity
from .framework import Case, Mistake, register_check


def _swap(x):
    return np.swapaxes(x, -1, -2)


@register_check(
    "scaled_dot",
    task="fn(q, k) -> scores: q (..., n_q, d), k (..., n_k, d) -> (..., n_q, n_k), q.k / sqrt(d)",
    mistakes=[
        Mistake("You computed the plain dot product q @ k^T: divide by sqrt(d), where d is the "
                "feature size q.shape[-1].", lambda q, k: q @ _swap(k)),
        Mistake("You divided by d instead of sqrt(d). The scale is 1/sqrt(d) because the variance "
                "of a sum of d products grows like d, so its standard deviation grows like sqrt(d).",
                lambda q, k: q @ _swap(k) / q.shape[-1]),
        Mistake("You divided by sqrt(n_k) (the number of keys) instead of sqrt(d) (the feature size, "
                "the last axis).", lambda q, k: q @ _swap(k) / np.sqrt(k.shape[-2])),
        Mistake("You computed k @ q^T: rows should be queries and columns keys, scores[i, j] = "
                "q_i . k_j / sqrt(d).", lambda q, k: k @ _swap(q) / np.sqrt(q.shape[-1])),
    ],
)
def _scaled_dot_cases():
    rng = np.random.default_rng(1)
    q = np.array([[1.0, 0.0, 1.0, 0.0], [0.0, 2.0, 0.0, 2.0]])
    k = np.array([[1.0, 1.0, 1.0, 1.0], [2.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 1.0]])
    cases = [Case("hand-worked: d = 4, so divide by 2", (q, k), similarity(q, k, "scaled_dot"))]
    for label, q_shape, k_shape in [
        ("more keys than queries, d = 9", (2, 9), (5, 9)),
        ("a batch of 3 query sets", (3, 4, 16), (3, 6, 16)),
        ("two batch dimensions", (2, 3, 5, 8), (2, 3, 7, 8)),
    ]:
        q, k = rng.normal(size=q_shape), rng.normal(size=k_shape)
        cases.append(Case(label, (q, k), similarity(q, k, "scaled_dot")))
    return cases
