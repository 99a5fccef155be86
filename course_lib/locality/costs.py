"""What locality costs (lesson 04): four layers that mix pixels, their exact counts, and a stopwatch.

Four layers mix information between the ``n = H * W`` pixels of a ``(B, C, H, W)`` feature map:

    method          what each output pixel reads            multiply-adds        n x n matrix?
    conv            its K x K neighbourhood (fixed weights) n C^2 K^2            no
    windowed        the w x w window it lies in             2 n w^2 C            no (n w^2 weights)
    global          every pixel (naive: scores, softmax,    2 n^2 C              yes, two of them
                    weighted sum, one step after the other)
    global_fused    every pixel, with torch's fused         2 n^2 C              no: it streams
                    scaled_dot_product_attention

``global`` and ``global_fused`` compute the same numbers (the tests check it); they differ in how
much memory they hold at once (see :mod:`course_lib.locality.memory`). Queries, keys and values are the
pixels' feature vectors, without projections, so that the layers compare *mixing* only; a real
attention layer adds four ``C x C`` projections (``4 n C^2`` multiply-adds, :func:`flops`).

Timings are noisy, so :func:`time_sweep` repeats every measurement and returns all repeats;
:func:`slope_per_repeat` turns them into one log-log exponent per repeat, whose spread shows how
far a single number can be trusted.
"""
from __future__ import annotations

import math
import time

import numpy as np
import torch
import torch.nn.functional as F

from course_lib.basics.arrays import shape_str

METHODS = ("conv", "windowed", "global", "global_fused")


# --------------------------------------------------------------------------------------------
# Four ways to mix pixels
# --------------------------------------------------------------------------------------------
def _check_map(x) -> None:
    if not isinstance(x, torch.Tensor) or x.dim() != 4:
        raise ValueError(f"x must be a torch tensor of shape (B, C, H, W), got shape {shape_str(x)}")


def naive_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """The three steps of attention written out, as a textbook (and ``cl.attend``) does them.

    ``q, k (..., n, d)``, ``v (..., n, d_v)`` -> ``(..., n, d_v)``. The scores and the weights
    are two complete ``n x n`` matrices, and the softmax needs both at once.
    """
    scores = (q * q.shape[-1] ** -0.5) @ k.transpose(-2, -1)   # step 1: (..., n, n)
    weights = torch.softmax(scores, dim=-1)                      # step 2: another (..., n, n)
    return weights @ v                                           # step 3


def conv_layer(x: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
    """A convolution with zero padding: ``(B, C, H, W)`` -> ``(B, C_out, H, W)``."""
    _check_map(x)
    return F.conv2d(x, kernel, padding=kernel.shape[-1] // 2)


def to_windows(x: torch.Tensor, window: int) -> torch.Tensor:
    """``(B, C, H, W)`` -> ``(B * H/w * W/w, w*w, C)``: one row of tokens per window."""
    b, c, h, w = x.shape
    if h % window or w % window:
        raise ValueError(
            f"x of shape {shape_str(x)} cannot be cut into {window} x {window} windows; "
            f"expected H and W to be multiples of window={window}"
        )
    t = x.view(b, c, h // window, window, w // window, window)
    return t.permute(0, 2, 4, 3, 5, 1).reshape(-1, window * window, c)


def from_windows(tokens: torch.Tensor, shape, window: int) -> torch.Tensor:
    """Inverse of :func:`to_windows`."""
    b, c, h, w = shape
    t = tokens.view(b, h // window, w // window, window, window, c)
    return t.permute(0, 5, 1, 3, 2, 4).reshape(b, c, h, w)


def windowed_attention(x: torch.Tensor, window: int) -> torch.Tensor:
    """Self-attention inside non-overlapping ``window x window`` blocks (as in the Swin
    Transformer): ``(B, C, H, W)`` -> ``(B, C, H, W)``; ``n w^2`` weights in all."""
    _check_map(x)
    tokens = to_windows(x, window)
    return from_windows(naive_attention(tokens, tokens, tokens), x.shape, window)


def global_attention(x: torch.Tensor, fused: bool = False) -> torch.Tensor:
    """Self-attention over all ``H*W`` pixels: ``(B, C, H, W)`` -> ``(B, C, H, W)``.

    ``fused=False`` runs :func:`naive_attention` (two ``n x n`` matrices); ``fused=True`` runs
    ``F.scaled_dot_product_attention``, which on CPU streams over blocks of keys (the
    FlashAttention idea, Dao et al. 2022) and never holds the ``n x n`` matrix.
    """
    _check_map(x)
    b, c, h, w = x.shape
    # (B, 1 head, n, C), contiguous: the fused kernel needs each token's features side by side
    # (otherwise torch quietly falls back to its unfused path).
    tokens = x.flatten(2).transpose(1, 2).contiguous().unsqueeze(1)
    attention = F.scaled_dot_product_attention if fused else naive_attention
    out = attention(tokens, tokens, tokens)
    return out.squeeze(1).transpose(1, 2).reshape(b, c, h, w)


def make_layer(method: str, channels: int = 16, window: int = 8, kernel_size: int = 3,
               seed: int = 0):
    """The layer ``method`` (one of :data:`METHODS`) as a function ``x -> output``."""
    if method == "conv":
        gen = torch.Generator().manual_seed(seed)
        kernel = torch.randn(channels, channels, kernel_size, kernel_size, generator=gen) * 0.1
        return lambda x: conv_layer(x, kernel)
    if method == "windowed":
        return lambda x: windowed_attention(x, window)
    if method in ("global", "global_fused"):
        return lambda x: global_attention(x, fused=method == "global_fused")
    raise ValueError(f"method={method!r}; expected one of {', '.join(map(repr, METHODS))}")


# --------------------------------------------------------------------------------------------
# Exact counts
# --------------------------------------------------------------------------------------------
def flops(n_pixels: int, method: str, channels: int = 16, window: int = 8,
          kernel_size: int = 3, projections: bool = False) -> int:
    """Multiply-adds of one layer on one image.

    Attention: ``n_keys * C`` for the scores of each pixel plus as many for its weighted sum.
    ``projections=True`` adds an attention layer's four ``C x C`` projections (queries, keys,
    values, output): ``4 n C^2``. A convolution has none.
    """
    n, c = n_pixels, channels
    extra = 4 * n * c * c if projections else 0
    if method == "conv":
        return n * c * c * kernel_size * kernel_size
    if method == "windowed":
        return 2 * n * window * window * c + extra
    if method in ("global", "global_fused"):
        return 2 * n * n * c + extra
    raise ValueError(f"method={method!r}; expected one of {', '.join(map(repr, METHODS))}")


def break_even_pixels(channels: int, kernel_size: int = 3, projections: bool = True) -> float:
    """The number of pixels n at which global attention and a ``K x K`` convolution (C channels
    in and out) need the same multiply-adds.

    ``n C^2 K^2 = 2 n^2 C + 4 n C^2`` gives ``n = C (K^2 - 4) / 2`` (``5C/2`` for 3x3);
    without the projections ``n = C K^2 / 2``. Beyond it attention costs more, growing like n.
    """
    return channels * (kernel_size**2 - (4 if projections else 0)) / 2


def weight_bytes(n_pixels: int, method: str, window: int = 8, kernel_size: int = 3,
                 channels: int = 16, bytes_per_number: int = 4) -> int:
    """Bytes of the mixing weights alone: the ``n x n`` matrix (global), ``n w^2`` numbers
    (windowed) or the kernel's ``C^2 K^2`` (conv). Activations come on top: measure them with
    :func:`course_lib.locality.memory.peak_memory`."""
    if method in ("global", "global_fused"):
        count = n_pixels * n_pixels
    elif method == "windowed":
        count = n_pixels * window * window
    elif method == "conv":
        count = channels * channels * kernel_size * kernel_size
    else:
        raise ValueError(f"method={method!r}; expected one of {', '.join(map(repr, METHODS))}")
    return count * bytes_per_number


# --------------------------------------------------------------------------------------------
# The stopwatch
# --------------------------------------------------------------------------------------------
def time_call(fn, repeats: int = 3) -> float:
    """Best-of-``repeats`` wall time of ``fn()`` in seconds, after one warm-up call."""
    fn()
    best = math.inf
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def time_sweep(sides, methods=METHODS, repeats: int = 5, max_side=None, channels: int = 16,
               window: int = 8, threads: int | None = 1, seed: int = 0) -> dict:
    """Time each layer on ``side x side`` maps of ``channels`` random features, ``repeats`` times.

    The repeats are whole sweeps (every size, every method, then again), so that a burst of
    load from another program hits one repeat, not one size. ``max_side``: ``{method: side}``
    beyond which a method is not run (NaN). ``threads``: torch threads during the sweep
    (restored afterwards); one thread measures the algorithm rather than the machine's cores.

    Returns ``{"sides": (S,), method: (S, repeats) seconds}``.
    """
    max_side = dict(max_side or {})
    gen = torch.Generator().manual_seed(seed)
    inputs = {s: torch.randn(1, channels, s, s, generator=gen) for s in sides}
    layers = {m: make_layer(m, channels, window, seed=seed) for m in methods}
    runs = [(i, s, m) for i, s in enumerate(sides) for m in methods if s <= max_side.get(m, s)]
    result = {m: np.full((len(sides), repeats), np.nan) for m in methods}
    previous = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        with torch.no_grad():
            for _, s, m in runs:
                layers[m](inputs[s])                               # warm-up
            for r in range(repeats):
                for i, s, m in runs:
                    start = time.perf_counter()
                    layers[m](inputs[s])
                    result[m][i, r] = time.perf_counter() - start
    finally:
        torch.set_num_threads(previous)
    return {"sides": np.asarray(sides), **result}


def loglog_slope(x, y) -> float:
    """Slope of the least-squares line through ``(log x, log y)``: the exponent p in y ~ x^p."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    if x.shape != y.shape:
        raise ValueError(f"x and y must have the same shape, got {x.shape} and {y.shape}")
    keep = np.isfinite(x) & np.isfinite(y) & (x > 0) & (y > 0)  # NaN = not measured
    if keep.sum() < 2:
        raise ValueError(f"need at least 2 positive, finite points to fit a slope, got {keep.sum()}")
    return float(np.polyfit(np.log(x[keep]), np.log(y[keep]), 1)[0])


def slope_per_repeat(n_pixels, times) -> np.ndarray:
    """One log-log slope per repeat: ``times`` is ``(sizes, repeats)``; returns ``(repeats,)``."""
    times = np.asarray(times, float)
    return np.array([loglog_slope(n_pixels, times[:, r]) for r in range(times.shape[1])])


__all__ = [
    "METHODS",
    "break_even_pixels",
    "conv_layer",
    "flops",
    "from_windows",
    "global_attention",
    "loglog_slope",
    "make_layer",
    "naive_attention",
    "slope_per_repeat",
    "time_call",
    "time_sweep",
    "to_windows",
    "weight_bytes",
    "windowed_attention",
]
