"""Positional encodings: telling attention *where* each element is (lessons 03 and 06).

Attention compares contents only, so shuffling the input tokens just shuffles the output
(permutation equivariance). To let a model use positions we add a position-dependent vector to
each token. The classic choice (Vaswani et al., 2017) uses sines and cosines of several
frequencies; for an image grid we encode the row in one half of the features and the column in
the other half (lesson 03's patches; lesson 06's vision transformer, as in MAE).
"""
from __future__ import annotations

import numpy as np
import torch


def sinusoidal_positions(n: int, dim: int, base: float = 10000.0, *, interleave: bool = True,
                         dtype: torch.dtype = torch.float64) -> np.ndarray:
    """``(n, dim)``: the code of position ``p`` holds ``sin(p w_i)`` and ``cos(p w_i)`` for the
    frequencies ``w_i = base^(-2i/dim)``, ``i < dim/2``, from fast to slow. ``dim`` must be even.

    ``interleave=True``: ``[sin(p w_0), cos(p w_0), sin(p w_1), cos(p w_1), ...]`` (lesson 03);
    ``False``: all the sines, then all the cosines (lesson 06's vision transformer). ``dtype``:
    the precision the code is computed in (a float32 model gets codes computed in float32).
    """
    if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)) or dim <= 0 or dim % 2:
        raise ValueError(f"dim must be a positive even number (sin and cos pairs), got {dim}")
    if n <= 0:
        raise ValueError(f"n must be >= 1, got {n}")
    half = dim // 2
    freqs = 1.0 / base ** (torch.arange(half, dtype=dtype) / half)     # (dim/2,)
    angles = torch.arange(n, dtype=dtype)[:, None] * freqs              # (n, dim/2)
    sines, cosines = angles.sin(), angles.cos()
    if interleave:
        return torch.stack([sines, cosines], -1).reshape(n, dim).numpy()
    return torch.cat([sines, cosines], 1).numpy()


def grid_positions(rows: int, cols: int, dim: int, base: float = 100.0, *, interleave: bool = True,
                   dtype: torch.dtype = torch.float64) -> np.ndarray:
    """``(rows*cols, dim)`` for patches in reading order: the first ``dim/2`` features encode the
    row, the last ``dim/2`` the column, each with :func:`sinusoidal_positions` (``interleave``,
    ``dtype`` as there). ``dim`` must be a multiple of 4. Patches in one row share the row half
    exactly, so "same row?" is a comparison attention scores can make from the start.
    """
    if dim <= 0 or dim % 4:
        raise ValueError(f"dim must be a positive multiple of 4 (row and column halves of "
                         f"sin/cos pairs), got {dim}")
    r, c = np.divmod(np.arange(rows * cols), cols)
    row_enc = sinusoidal_positions(rows, dim // 2, base, interleave=interleave, dtype=dtype)[r]
    col_enc = sinusoidal_positions(cols, dim // 2, base, interleave=interleave, dtype=dtype)[c]
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
