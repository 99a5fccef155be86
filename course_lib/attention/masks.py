"""Masks: which keys each query may attend to (lesson 02).

A mask is a boolean array, ``True`` = "may attend", ``False`` = "blocked". It is handed to
:func:`course_lib.softmax_weights` (or :func:`course_lib.attend`), which gives blocked entries a
weight of exactly 0 and shares the weight among the allowed ones. Masks change *where* a query
may look, never *how much* it likes what it sees: the scores stay the same.

All functions return NumPy boolean arrays; ``softmax_weights`` accepts them for NumPy and torch
scores alike.
"""
from __future__ import annotations

import numpy as np

from course_lib.basics.arrays import require_count


def causal_mask(n: int) -> np.ndarray:
    """``(n, n)``: position ``i`` may attend to positions ``j <= i`` (itself and the past).

    Used when a sequence is generated one step at a time: step ``i`` cannot see the future.
    """
    n = require_count(n, "n")
    return np.tril(np.ones((n, n), dtype=bool))


def padding_mask(lengths, n_k: int) -> np.ndarray:
    """``(B, 1, n_k)``: in sequence ``b`` only the first ``lengths[b]`` keys are real.

    Batches hold sequences of different lengths padded to ``n_k``; padding must receive no weight.
    The size-1 query axis broadcasts against scores of shape ``(B, n_q, n_k)``.
    """
    n_k = require_count(n_k, "n_k")
    lengths = np.asarray(lengths)
    if lengths.ndim != 1 or lengths.dtype.kind not in "iu":
        raise ValueError(f"lengths must be a 1-D array of integers (one per sequence), got "
                         f"shape {lengths.shape} and dtype {lengths.dtype}")
    if lengths.min() < 0 or lengths.max() > n_k:
        raise ValueError(f"lengths must lie in [0, n_k={n_k}], got {lengths.tolist()}")
    return (np.arange(n_k)[None, :] < lengths[:, None])[:, None, :]


def window_mask(n: int, radius: int) -> np.ndarray:
    """``(n, n)``: position ``i`` may attend to ``j`` with ``|i - j| <= radius`` (local attention)."""
    n = require_count(n, "n")
    radius = require_count(radius, "radius", minimum=0)
    idx = np.arange(n)
    return np.abs(idx[:, None] - idx[None, :]) <= radius


def window_mask_2d(rows: int, cols: int, radius: int) -> np.ndarray:
    """``(rows*cols, rows*cols)`` for a grid of patches in reading order: patch ``p`` may attend
    to patch ``q`` when both their row and column differ by at most ``radius`` (a square window,
    like a convolution's receptive field).
    """
    rows, cols = require_count(rows, "rows"), require_count(cols, "cols")
    radius = require_count(radius, "radius", minimum=0)
    r, c = np.divmod(np.arange(rows * cols), cols)
    return (np.abs(r[:, None] - r[None, :]) <= radius) & (np.abs(c[:, None] - c[None, :]) <= radius)


MASK_KINDS = ("none", "padding", "causal", "local window")


def make_mask(kind: str, n: int, length: int, radius: int) -> np.ndarray:
    """The ``(n, n)`` boolean mask of ``kind``, one of ``MASK_KINDS`` (lesson 02 compares them):
    "none" (every key allowed), "padding" (only the first ``length`` keys are real),
    "causal" (:func:`causal_mask`) or "local window" (:func:`window_mask` of ``radius``)."""
    if kind == "none":
        return np.ones((n, n), dtype=bool)
    if kind == "padding":
        return np.broadcast_to(padding_mask(np.array([length]), n)[0], (n, n))
    if kind == "causal":
        return causal_mask(n)
    if kind == "local window":
        return window_mask(n, radius)
    raise ValueError(f"kind={kind!r} is not one of MASK_KINDS {MASK_KINDS}")
