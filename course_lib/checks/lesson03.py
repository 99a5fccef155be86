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
    task="fn(q, k, v) -> a tuple (output, weights) of two arrays: scaled dot-product attention; "
         "output (..., n_q, d_v), weights (..., n_q, n_k)",
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


# ------------------------------------------------------------------------------------------
# More exercises of lesson 03
# ------------------------------------------------------------------------------------------
def _kernel(xq, x, width, denom):
    d2 = (xq[:, None] - x[None, :]) ** 2
    return np.exp(-(d2 - d2.min(axis=1, keepdims=True)) / denom)


@register_check(
    "nadaraya_watson",
    task="fn(x_query, x_train, y_train, width) -> only the predictions, one array (n_q,): "
         "Gaussian-kernel weighted average of y_train (the lesson's helper also returns the "
         "weights; this exercise does not)",
    mistakes=[
        Mistake("The weights are not normalised: divide each query's kernel values by their sum, "
                "so that the prediction is a weighted *average* of y_train.",
                lambda xq, x, y, w: np.exp(-(xq[:, None] - x[None, :]) ** 2 / (2 * w**2)) @ y),
        Mistake("The width is not squared: the Gaussian kernel is exp(-(x - x_i)^2 / (2 width^2)).",
                lambda xq, x, y, w: (lambda k: k / k.sum(1, keepdims=True))(_kernel(xq, x, w, 2 * w)) @ y),
        Mistake("The factor 2 is missing: the Gaussian kernel is exp(-(x - x_i)^2 / (2 width^2)).",
                lambda xq, x, y, w: (lambda k: k / k.sum(1, keepdims=True))(_kernel(xq, x, w, w**2)) @ y),
        Mistake("The weights were normalised over the queries (axis 0); each query's weights over "
                "the training points (axis 1, the last axis) must sum to 1.",
                lambda xq, x, y, w: (lambda k: k / k.sum(0, keepdims=True))(
                    np.exp(-(xq[:, None] - x[None, :]) ** 2 / (2 * w**2))) @ y),
        Mistake("You used the distance |x - x_i| instead of the squared distance in the kernel.",
                lambda xq, x, y, w: (lambda k: k / k.sum(1, keepdims=True))(
                    np.exp(-np.abs(xq[:, None] - x[None, :]) / (2 * w**2))) @ y),
    ],
)
def _nadaraya_watson_cases():
    from ..kernel_regression import make_1d_data, nadaraya_watson

    def case(label, xq, x, y, width, **tol):
        return Case(label, (xq, x, y, width), nadaraya_watson(xq, x, y, width)[0], **tol)

    cases = [case("hand-worked: 3 training points, width 1", np.array([0.0, 1.0]),
                  np.array([0.0, 1.0, 3.0]), np.array([1.0, 2.0, 4.0]), 1.0)]
    x, y = make_1d_data(30, seed=31)
    cases.append(case("30 noisy points, width 0.3", np.linspace(0, 5, 11), x, y, 0.3))
    cases.append(case("a very wide kernel: close to the mean of y", np.linspace(0, 5, 4), x, y, 50.0))
    cases.append(case("a narrow kernel and far queries: exp underflows unless you shift",
                      np.array([-3.0, 2.5, 9.0]), x, y, 0.05))
    return cases


def _self_attention_reference(x, w_q, w_k, w_v):
    return attend(x @ w_q, x @ w_k, x @ w_v)


@register_check(
    "self_attention",
    task="fn(x, w_q, w_k, w_v) -> (output, weights): queries, keys and values are projections of "
         "the same tokens x (..., n, d_model); scaled dot-product attention with d = d_k",
    mistakes=[
        Mistake("The projections are missing: queries, keys and values are x @ w_q, x @ w_k and "
                "x @ w_v, not x itself.", lambda x, wq, wk, wv: attend(x, x, x)),
        Mistake("Queries and keys are swapped (x @ w_k as queries, x @ w_q as keys): the weights "
                "come out transposed. Queries come from w_q, keys from w_k.",
                lambda x, wq, wk, wv: attend(x @ wk, x @ wq, x @ wv)),
        Mistake("You scaled by sqrt(d_model); the scale uses the size of the projected queries and "
                "keys, d_k = w_q.shape[-1].",
                lambda x, wq, wk, wv: _attend_with(
                    lambda q, k: q @ _swap(k) / np.sqrt(x.shape[-1]))(x @ wq, x @ wk, x @ wv)),
        Mistake("The values are the raw tokens x; they should be projected too: v = x @ w_v.",
                lambda x, wq, wk, wv: attend(x @ wq, x @ wk, x)),
    ],
)
def _self_attention_cases():
    rng = np.random.default_rng(32)
    cases = []
    for label, batch, n, d_model, d_k, d_v in [
        ("5 tokens, d_model = 6, d_k = 4, d_v = 3", (), 5, 6, 4, 3),
        ("a batch of 2", (2,), 4, 8, 2, 5),
        ("two batch dimensions", (2, 3), 3, 4, 9, 2),
    ]:
        x = rng.normal(size=batch + (n, d_model))
        w_q, w_k = rng.normal(size=(d_model, d_k)), rng.normal(size=(d_model, d_k))
        w_v = rng.normal(size=(d_model, d_v))
        cases.append(Case(label, (x, w_q, w_k, w_v), _self_attention_reference(x, w_q, w_k, w_v)))
    return cases


def _split_heads_reference(x, num_heads):
    *batch, n, d = x.shape
    return np.swapaxes(x.reshape(*batch, n, num_heads, d // num_heads), -2, -3)


@register_check(
    "split_heads",
    task="fn(x, num_heads) -> (..., num_heads, n, d / num_heads): head h gets features "
         "h*d/num_heads ... (h+1)*d/num_heads - 1 of every token",
    mistakes=[
        Mistake("You reshaped straight to (..., num_heads, n, d / num_heads). That cuts the token "
                "axis, not the features: reshape to (..., n, num_heads, d / num_heads) first, then "
                "swap the token and head axes.",
                lambda x, h: x.reshape(*x.shape[:-2], h, x.shape[-2], x.shape[-1] // h)),
        Mistake("The features were dealt out round-robin (feature 0 to head 0, feature 1 to head 1, "
                "...). Each head gets a contiguous block: reshape to (..., n, num_heads, d / "
                "num_heads), not (..., n, d / num_heads, num_heads).",
                lambda x, h: np.moveaxis(x.reshape(*x.shape[:-1], x.shape[-1] // h, h), -1, -3)),
        Mistake("The heads are in the right place but tokens and features are swapped in each head: "
                "the result should be (..., num_heads, n, d / num_heads).",
                lambda x, h: np.swapaxes(_split_heads_reference(x, h), -1, -2)),
    ],
)
def _split_heads_cases():
    rng = np.random.default_rng(33)
    x = np.arange(12.0).reshape(3, 4)
    cases = [Case("hand-worked: 3 tokens, 4 features, 2 heads", (x, 2), _split_heads_reference(x, 2))]
    for label, shape, h in [("a batch of 2, 5 tokens, 8 features, 4 heads", (2, 5, 8), 4),
                            ("two batch dimensions, 6 heads", (2, 3, 4, 12), 6),
                            ("one head: just a new axis", (3, 5), 1)]:
        x = rng.normal(size=shape)
        cases.append(Case(label, (x, h), _split_heads_reference(x, h)))
    return cases
