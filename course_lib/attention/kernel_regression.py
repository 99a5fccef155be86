"""Attention pooling as Nadaraya-Watson kernel regression (lesson 03).

Long before Transformers (Nadaraya 1964, Watson 1964), statisticians predicted ``y`` at a new
``x`` by averaging the training targets, weighting each by how close its ``x_i`` is:

    f(x) = sum_i  K(x - x_i) / sum_j K(x - x_j)  *  y_i,      K(u) = exp(-u^2 / (2 width^2))

That is attention: the query is ``x``, the keys are the ``x_i``, the values are the ``y_i``, the
similarity is the negative squared distance and the softmax temperature is ``2 width^2``. A small
width gives sharp weights (the prediction follows the nearest points and their noise); a large
width gives flat weights (the prediction tends to the mean of all ``y_i``).

Other kernels are attention too: any weights ``K(u) / sum K`` are the softmax of the scores
``log K(u)``, and a kernel that is zero outside ``|u| <= 1`` is a *mask* (lesson 02):

    "gaussian"      K(u) = exp(-u^2 / 2)            every point gets some weight
    "boxcar"        K(u) = 1 for |u| <= 1           a plain average of the points in the window
    "epanechnikov"  K(u) = 1 - u^2 for |u| < 1      nearer points count more, zero at the edge

with ``u = (x - x_i) / width``. A query whose window holds no training point has nothing to
average: its prediction is NaN (and its weights are all zero), never a made-up number.
"""
from __future__ import annotations

import numpy as np

from course_lib.basics.arrays import require_positive
from course_lib.attention.core import attend, softmax_weights


def toy_function(x):
    """The smooth curve behind :func:`make_1d_data` (so plots can show the truth)."""
    return np.sin(2.0 * x) + 0.3 * x


def make_1d_data(n: int = 50, noise: float = 0.3, seed: int = 0, low: float = 0.0,
                 high: float = 5.0):
    """Noisy samples of :func:`toy_function` at sorted random points: ``(x (n,), y (n,))``."""
    rng = np.random.default_rng(seed)
    x = np.sort(rng.uniform(low, high, size=n))
    return x, toy_function(x) + noise * rng.standard_normal(n)


KERNELS = ("gaussian", "boxcar", "epanechnikov")


def kernel_shape(u, kernel: str = "gaussian") -> np.ndarray:
    """The kernel ``K(u)`` itself (unnormalised), for plots: 1 at ``u = 0``."""
    u = np.asarray(u, dtype=float)
    if kernel == "gaussian":
        return np.exp(-(u**2) / 2)
    if kernel == "boxcar":
        return (np.abs(u) <= 1).astype(float)
    if kernel == "epanechnikov":
        return np.clip(1 - u**2, 0.0, None)
    raise ValueError(f"kernel={kernel!r} is not one of {KERNELS}")


def nadaraya_watson(x_query, x_train, y_train, width: float, kernel: str = "gaussian"):
    """Kernel regression, computed as attention with :mod:`course_lib.attention.core`.

    Args:
        x_query: ``(n_q,)`` points where we want predictions (the queries).
        x_train: ``(n,)`` training inputs (the keys).
        y_train: ``(n,)`` training targets (the values).
        width: kernel width > 0. Gaussian: the standard deviation (a temperature
            ``T = 2 width^2``); boxcar and Epanechnikov: the half-width of the window.
        kernel: one of ``KERNELS``.

    Returns:
        ``(predictions (n_q,), weights (n_q, n))``; each row of ``weights`` sums to 1, except for
        a query with no training point in its window (compact kernels only): weights 0,
        prediction NaN.
    """
    if kernel not in KERNELS:
        raise ValueError(f"kernel={kernel!r} is not one of {KERNELS}")
    width = require_positive(width, "width")
    x_query, x_train, y_train = (np.asarray(a, dtype=float) for a in (x_query, x_train, y_train))
    for name, a in (("x_query", x_query), ("x_train", x_train), ("y_train", y_train)):
        if a.ndim != 1:
            raise ValueError(f"{name} must be 1-D (one number per point), got shape {a.shape}")
    if x_train.shape != y_train.shape:
        raise ValueError(f"x_train and y_train must have the same shape, got {x_train.shape} "
                         f"and {y_train.shape}")
    if kernel == "gaussian":
        # 1-D points become vectors of size d = 1, so the library's attention applies unchanged.
        out, weights = attend(x_query[:, None], x_train[:, None], y_train[:, None],
                              kind="neg_sq_euclidean", temperature=2.0 * width**2)
        return out[:, 0], weights
    # Compact kernels: scores log K(u) inside the window, a mask outside (exp(-inf) = 0).
    u = (x_query[:, None] - x_train[None, :]) / width
    inside = np.abs(u) <= 1 if kernel == "boxcar" else np.abs(u) < 1
    with np.errstate(divide="ignore"):
        scores = np.where(inside, np.log(np.clip(kernel_shape(u, kernel), 1e-300, None)), 0.0)
    weights = softmax_weights(scores, mask=inside)
    empty = ~inside.any(axis=1)
    predictions = np.where(empty, np.nan, weights @ y_train)
    return predictions, weights
