"""Attention pooling as Nadaraya-Watson kernel regression (lesson 03).

Long before Transformers (Nadaraya 1964, Watson 1964), statisticians predicted ``y`` at a new
``x`` by averaging the training targets, weighting each by how close its ``x_i`` is:

    f(x) = sum_i  K(x - x_i) / sum_j K(x - x_j)  *  y_i,      K(u) = exp(-u^2 / (2 width^2))

That is attention: the query is ``x``, the keys are the ``x_i``, the values are the ``y_i``, the
similarity is the negative squared distance and the softmax temperature is ``2 width^2``. A small
width gives sharp weights (the prediction follows the nearest points and their noise); a large
width gives flat weights (the prediction tends to the mean of all ``y_i``).
"""
from __future__ import annotations

import numpy as np

from ._arrays import require_positive
from .core import attend


def toy_function(x):
    """The smooth curve behind :func:`make_1d_data` (so plots can show the truth)."""
    return np.sin(2.0 * x) + 0.3 * x


def make_1d_data(n: int = 50, noise: float = 0.3, seed: int = 0, low: float = 0.0,
                 high: float = 5.0):
    """Noisy samples of :func:`toy_function` at sorted random points: ``(x (n,), y (n,))``."""
    rng = np.random.default_rng(seed)
    x = np.sort(rng.uniform(low, high, size=n))
    return x, toy_function(x) + noise * rng.standard_normal(n)


def nadaraya_watson(x_query, x_train, y_train, width: float):
    """Gaussian-kernel regression, computed with :func:`course_lib.attend`.

    Args:
        x_query: ``(n_q,)`` points where we want predictions (the queries).
        x_train: ``(n,)`` training inputs (the keys).
        y_train: ``(n,)`` training targets (the values).
        width: kernel width > 0 (acts as a temperature: ``T = 2 width^2``).

    Returns:
        ``(predictions (n_q,), weights (n_q, n))``; each row of ``weights`` sums to 1.
    """
    width = require_positive(width, "width")
    x_query, x_train, y_train = (np.asarray(a, dtype=float) for a in (x_query, x_train, y_train))
    for name, a in (("x_query", x_query), ("x_train", x_train), ("y_train", y_train)):
        if a.ndim != 1:
            raise ValueError(f"{name} must be 1-D (one number per point), got shape {a.shape}")
    if x_train.shape != y_train.shape:
        raise ValueError(f"x_train and y_train must have the same shape, got {x_train.shape} "
                         f"and {y_train.shape}")
    # 1-D points become vectors of size d = 1, so the library's attention applies unchanged.
    out, weights = attend(x_query[:, None], x_train[:, None], y_train[:, None],
                          kind="neg_sq_euclidean", temperature=2.0 * width**2)
    return out[:, 0], weights
