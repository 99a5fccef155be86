"""Checks for lesson 01 (similarity). A model for every lesson's checks:

1. build cases from small hand-worked inputs up to random batched ones, with a fixed seed;
2. compute the expected answer with the course's reference implementation (course_lib.attention.core);
3. list the mistakes learners really make, each as a wrong function plus a hint naming it.
"""
from __future__ import annotations

import numpy as np

from course_lib.attention.core import similarity
from course_lib.checks.case import Case, Mistake, register_check


def _swap(x):
    return np.swapaxes(x, -1, -2)


# np.dot works on 2-D inputs, so it passes the first cases and fails on the first batch
_NP_DOT_HINT = ("np.dot does not broadcast batch dimensions: for q (3, 4, 16) and the keys "
                "transposed to (3, 16, 6) it pairs every batch with every other batch and gives "
                "shape (3, 4, 3, 6). Use @ (np.matmul), which treats the leading axes as a batch.")


@register_check(
    "scaled_dot",
    task="fn(q, k) -> scores: q (..., n_q, d), k (..., n_k, d) -> (..., n_q, n_k), q.k / sqrt(d)",
    success="Your scores equal course_lib's similarity(q, k, 'scaled_dot') on batched inputs too: "
            "@ treats the leading axes as a batch, and 1/sqrt(d) keeps the scores' spread near 1 "
            "whatever the feature size.",
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
        Mistake(_NP_DOT_HINT, lambda q, k: np.dot(q, _swap(k)) / np.sqrt(q.shape[-1])),
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


# ------------------------------------------------------------------------------------------
# More exercises of lesson 01
# ------------------------------------------------------------------------------------------
def _unit(x, axis=-1):
    return x / np.linalg.norm(x, axis=axis, keepdims=True)


@register_check(
    "cosine",
    task="fn(q, k) -> scores: cosine similarity q.k / (|q| |k|), shape (..., n_q, n_k)",
    success="A key scaled by 100 kept its score: like course_lib's similarity(q, k, 'cosine') you "
            "divided every vector by its own length (keepdims kept the axes aligned), so only "
            "directions count.",
    mistakes=[
        Mistake("Only the queries were normalised: divide every key by its length too, "
                "k / |k| with the norm over the last axis.", lambda q, k: _unit(q) @ _swap(k)),
        Mistake("Only the keys were normalised: divide every query by its length too, "
                "q / |q| with the norm over the last axis.", lambda q, k: q @ _swap(_unit(k))),
        Mistake("The norms were taken over the wrong axis (axis -2, across vectors): each vector's "
                "length is the norm over its own features, axis=-1 with keepdims=True.",
                lambda q, k: _unit(q, -2) @ _swap(_unit(k, -2))),
        Mistake("You divided by the squared lengths |q|^2 |k|^2; divide by the lengths |q| |k| "
                "(np.linalg.norm, or the square root of the sum of squares).",
                lambda q, k: (q / (q * q).sum(-1, keepdims=True))
                @ _swap(k / (k * k).sum(-1, keepdims=True))),
        Mistake("That is the scaled dot product q.k / sqrt(d); cosine divides by the vectors' "
                "lengths |q| |k| instead.", lambda q, k: q @ _swap(k) / np.sqrt(q.shape[-1])),
        Mistake("The norms lost their axis: np.linalg.norm(q, axis=-1) has shape (..., n) and "
                "divides the *columns* of q (features), not its rows (vectors). Keep the axis with "
                "keepdims=True, shape (..., n, 1), so each vector is divided by its own length.",
                lambda q, k: (q / np.linalg.norm(q, axis=-1))
                @ _swap(k / np.linalg.norm(k, axis=-1))),
    ],
)
def _cosine_cases():
    rng = np.random.default_rng(11)
    # square inputs (n = d = 2): a norm without keepdims still broadcasts here, wrongly
    q = np.array([[1.0, 0.0], [1.0, 1.0]])
    k = np.array([[3.0, 0.0], [-1.0, -1.0]])
    cases = [Case("hand-worked: lengths must not matter, opposite vectors give -1", (q, k),
                  similarity(q, k, "cosine"))]
    q = np.array([[1.0, 0.0], [1.0, 1.0]])
    k = np.array([[3.0, 0.0], [0.0, 2.0], [-1.0, -1.0]])
    cases.append(Case("hand-worked: 2 queries, 3 keys", (q, k), similarity(q, k, "cosine")))
    q = rng.normal(size=(3, 6))
    cases.append(Case("scaling a key by 100 must not change its cosine",
                      (q, np.concatenate([q[:2], 100 * q[:2]])),
                      similarity(q, np.concatenate([q[:2], 100 * q[:2]]), "cosine")))
    for label, q_shape, k_shape in [("a batch of 2", (2, 4, 5), (2, 3, 5)),
                                    ("two batch dimensions", (2, 3, 2, 8), (2, 3, 6, 8))]:
        q, k = rng.normal(size=q_shape), rng.normal(size=k_shape)
        cases.append(Case(label, (q, k), similarity(q, k, "cosine")))
    return cases


def _dist(q, k):
    return np.sqrt(((q[..., :, None, :] - k[..., None, :, :]) ** 2).sum(-1))


@register_check(
    "neg_sq_euclidean",
    task="fn(q, k) -> scores: -|q - k|^2 for every pair, shape (..., n_q, n_k)",
    success="Your -|q - k|^2 matches course_lib's similarity(q, k, 'neg_sq_euclidean') for every "
            "pair and batch: the nearest key gets the highest score, and |q|^2 - 2 q.k + |k|^2 "
            "shows it is a dot product in disguise.",
    mistakes=[
        Mistake("The sign is wrong: a *distance* is large for dissimilar vectors, so the score is "
                "minus the squared distance.", lambda q, k: _dist(q, k) ** 2),
        Mistake("You returned minus the distance, -|q - k|; the exercise asks for minus the "
                "*squared* distance, -|q - k|^2 (no square root).", lambda q, k: -_dist(q, k)),
        Mistake("The factor 2 is missing: |q - k|^2 = |q|^2 - 2 q.k + |k|^2.",
                lambda q, k: q @ _swap(k) - (q * q).sum(-1)[..., :, None]
                - (k * k).sum(-1)[..., None, :]),
        Mistake("|q|^2 lost its axis: (q * q).sum(-1) has shape (..., n_q) and broadcasts along "
                "the *columns*, as if it were |k_j|^2. Keep the axis, (q * q).sum(-1, "
                "keepdims=True) of shape (..., n_q, 1), so that |q_i|^2 is added to row i.",
                lambda q, k: 2 * q @ _swap(k) - (q * q).sum(-1)[..., None, :]
                - (k * k).sum(-1)[..., None, :]),
        Mistake("The squared lengths are added on the wrong axes: |q_i|^2 belongs to row i "
                "(shape (..., n_q, 1)) and |k_j|^2 to column j (shape (..., 1, n_k)).",
                lambda q, k: 2 * q @ _swap(k) - (k * k).sum(-1)[..., :, None]
                - (q * q).sum(-1)[..., None, :]),
    ],
)
def _neg_sq_euclidean_cases():
    rng = np.random.default_rng(12)
    q = np.array([[0.0, 0.0], [1.0, 1.0], [2.0, 0.0]])
    k = np.array([[3.0, 4.0], [1.0, 1.0], [0.0, 1.0]])
    cases = [Case("hand-worked: distances 5 and 0 appear", (q, k), similarity(q, k, "neg_sq_euclidean"),
                  atol=1e-6)]
    for label, q_shape, k_shape in [("3 queries, 3 keys", (3, 4), (3, 4)),
                                    ("a batch of 2, more keys than queries", (2, 2, 5), (2, 6, 5)),
                                    ("two batch dimensions", (2, 3, 4, 3), (2, 3, 5, 3))]:
        q, k = rng.normal(size=q_shape), rng.normal(size=k_shape)
        cases.append(Case(label, (q, k), similarity(q, k, "neg_sq_euclidean"), atol=1e-6))
    return cases


def _top_matches_reference(vectors, index, n):
    s = similarity(vectors[index:index + 1], vectors, "cosine")[0]
    s[index] = -np.inf
    return np.argsort(-s, kind="stable")[:n]


def _top_matches_with(scores_fn, skip_self=True, descending=True, skip_first=False):
    def wrong(vectors, index, n):
        s = np.array(scores_fn(vectors[index], vectors), dtype=float)
        if skip_self:
            s[index] = -np.inf if descending else np.inf
        order = np.argsort(-s if descending else s, kind="stable")
        return order[1:n + 1] if skip_first else order[:n]
    return wrong


@register_check(
    "top_matches",
    task="fn(vectors, index, n) -> the indices of the n vectors most similar (cosine) to "
         "vectors[index], best first, leaving out index itself",
    success="You left out the query by its index, not by its rank: a scaled copy of the query "
            "ties with it (cosine 1) and stayed in your answer, which the lesson's relit-twin "
            "experiment relies on.",
    mistakes=[
        Mistake("You dropped the first entry of the ranking, assuming it is the query itself; but "
                "another vector can be exactly as similar (a scaled copy has cosine 1 too) and "
                "sort before it, and then the query stays in your answer. Leave out `index` "
                "itself (set its score to -np.inf before sorting), not rank 0.",
                _top_matches_with(lambda q, v: _unit(v) @ _unit(q), skip_self=False,
                                  skip_first=True)),
        Mistake("The query itself is in your answer: every vector is most similar to itself, so "
                "leave `index` out (e.g. set its score to -np.inf before sorting).",
                _top_matches_with(lambda q, v: _unit(v) @ _unit(q), skip_self=False)),
        Mistake("These are the *least* similar vectors: np.argsort sorts ascending, so sort "
                "-scores (or reverse the order) to put the best match first.",
                _top_matches_with(lambda q, v: _unit(v) @ _unit(q), descending=False)),
        Mistake("You ranked by the plain dot product, which favours long vectors (bright patches); "
                "the exercise asks for cosine similarity.",
                _top_matches_with(lambda q, v: v @ q)),
        Mistake("You ranked by the plain dot product and kept the query itself; use cosine "
                "similarity and leave `index` out.",
                _top_matches_with(lambda q, v: v @ q, skip_self=False)),
    ],
)
def _top_matches_cases():
    rng = np.random.default_rng(13)
    v = np.array([[1.0, 0.0], [10.0, 1.0], [0.0, 1.0], [1.0, 0.2], [-1.0, 0.0]])
    cases = [Case("hand-worked: 5 vectors in 2-D, the 2 best matches of vector 0", (v, 0, 2),
                  _top_matches_reference(v, 0, 2))]
    for label, shape, index, n in [("20 random vectors, d = 6", (20, 6), 7, 4),
                                   ("64 vectors, d = 16, best 10", (64, 16), 63, 10),
                                   ("vectors of very different lengths", (30, 4), 0, 5)]:
        v = rng.normal(size=shape)
        if "lengths" in label:
            v = v * rng.uniform(0.1, 50, size=(shape[0], 1))
        cases.append(Case(label, (v, index, n), _top_matches_reference(v, index, n)))
    # A tie: vector 2 is twice vector 5 (a power of 2, so both have exactly cosine 1 with it) and
    # sorts first; "skip the best match, it is the query" then keeps the query.
    v = rng.normal(size=(8, 5))
    v[2] = 2.0 * v[5]
    cases.append(Case("a scaled copy of the query (cosine 1, a tie) sits before it", (v, 5, 3),
                      _top_matches_reference(v, 5, 3)))
    return cases
