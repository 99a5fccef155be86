"""Positional encodings: telling attention *where* each element is (lesson 03).

Attention compares contents only, so shuffling the input tokens just shuffles the output
(permutation equivariance). To let a model use positions we add a position-dependent vector to
each token. The classic choice (Vaswani et al., 2017) uses sines and cosines of several
frequencies; for an image grid we encode the row in one half of the features and the column in
the other half.
"""
from __future__ import annotations

import numpy as np


def sinusoidal_positions(n: int, dim: int, base: float = 10000.0) -> np.ndarray:
    """``(n, dim)``: row ``p`` is ``[sin(p w_0), cos(p w_0), sin(p w_1), cos(p w_1), ...]``
    with frequencies ``w_i = base^(-2i/dim)`` from fast to slow. ``dim`` must be even.
    """
    if dim <= 0 or dim % 2:
        raise ValueError(f"dim must be a positive even number (sin and cos pairs), got {dim}")
    if n <= 0:
        raise ValueError(f"n must be >= 1, got {n}")
    freqs = base ** (-np.arange(0, dim, 2) / dim)           # (dim/2,)
    angles = np.arange(n)[:, None] * freqs[None, :]          # (n, dim/2)
    enc = np.empty((n, dim))
    enc[:, 0::2], enc[:, 1::2] = np.sin(angles), np.cos(angles)
    return enc


def grid_positions(rows: int, cols: int, dim: int, base: float = 100.0) -> np.ndarray:
    """``(rows*cols, dim)`` for patches in reading order: the first ``dim/2`` features encode the
    row, the last ``dim/2`` the column. ``dim`` must be a multiple of 4.
    """
    if dim <= 0 or dim % 4:
        raise ValueError(f"dim must be a positive multiple of 4 (row and column halves of "
                         f"sin/cos pairs), got {dim}")
    r, c = np.divmod(np.arange(rows * cols), cols)
    row_enc = sinusoidal_positions(rows, dim // 2, base)[r]
    col_enc = sinusoidal_positions(cols, dim // 2, base)[c]
    return np.concatenate([row_enc, col_enc], axis=1)


def with_positions(tokens: np.ndarray, grid, strength: float = 1.0) -> np.ndarray:
    """Lesson 03's patch tokens ``(rows*cols, d)`` plus ``strength`` times a unit-length
    :func:`grid_positions` code of their place in ``grid = (rows, cols)``, rescaled to length 1.

    With unit-length tokens, ``strength = 1`` weighs where a patch is as much as what it shows.
    """
    pos = grid_positions(*grid, tokens.shape[1])
    pos = pos / np.linalg.norm(pos, axis=1, keepdims=True)
    mixed = tokens + strength * pos
    return mixed / np.linalg.norm(mixed, axis=1, keepdims=True)
