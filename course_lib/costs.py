"""What locality buys: reach (receptive fields) and cost (time, memory) of conv vs attention.

Three layers that all mix information between the pixels of a ``(B, C, H, W)`` feature map:

* ``conv_layer``: a ``K x K`` convolution. Each output reads ``K*K`` inputs: cost ~ ``n C^2 K^2``
  for ``n = H*W`` pixels, linear in n, and no weight matrix to store.
* ``windowed_attention``: self-attention inside non-overlapping ``w x w`` windows (as in the Swin
  Transformer). Each pixel attends to ``w*w`` pixels: cost ~ ``n w^2 C``, linear in n; the weights
  take ``n w^2`` numbers.
* ``global_attention``: every pixel attends to every pixel. Cost ~ ``n^2 C`` and an ``n x n``
  weight matrix: quadratic in the number of pixels.

The receptive-field helpers count how far information can travel: a stack of L convolutions
with a ``K x K`` kernel sees ``1 + L (K - 1)`` pixels across; one global attention layer sees all.
"""
from __future__ import annotations

import math
import time

import numpy as np
import torch
import torch.nn.functional as F

from ._arrays import shape_str
from .core import attend


# --------------------------------------------------------------------------------------------
# Reach
# --------------------------------------------------------------------------------------------
def receptive_field_size(n_layers: int, kernel_size: int = 3) -> int:
    """Width in pixels of what one output of ``n_layers`` stacked ``K x K`` convolutions sees."""
    return 1 + n_layers * (kernel_size - 1)


def layers_to_connect(distance: int, kernel_size: int = 3) -> int:
    """How many stacked ``K x K`` convolutions link two pixels ``distance`` apart (along a row or
    diagonal: Chebyshev distance). Each layer moves information ``K // 2`` pixels."""
    return math.ceil(distance / (kernel_size // 2))


def receptive_field_map(n_layers: int, size: int, kernel_size: int = 3) -> np.ndarray:
    """Which inputs can influence the centre output after ``n_layers`` convolutions, *measured*.

    Runs the stack backwards: starts from a one-hot at the centre of a ``size x size`` image and
    applies ``n_layers`` all-ones ``K x K`` convolutions (zero padding). Nonzero = reachable.
    Returns a boolean ``(size, size)`` array.
    """
    x = torch.zeros(1, 1, size, size, dtype=torch.float64)
    x[0, 0, size // 2, size // 2] = 1.0
    ones = torch.ones(1, 1, kernel_size, kernel_size, dtype=torch.float64)
    for _ in range(n_layers):
        x = F.conv2d(x, ones, padding=kernel_size // 2)
    return (x[0, 0] > 0).numpy()


# --------------------------------------------------------------------------------------------
# Three ways to mix pixels
# --------------------------------------------------------------------------------------------
def _check_map(x: torch.Tensor) -> None:
    if not isinstance(x, torch.Tensor) or x.dim() != 4:
        raise ValueError(f"x must be a torch tensor of shape (B, C, H, W), got shape {shape_str(x)}")


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


def windowed_attention(x: torch.Tensor, window: int, return_weights: bool = False):
    """Self-attention restricted to non-overlapping ``window x window`` blocks.

    Queries, keys and values are the pixels' feature vectors (no projections: we measure the
    mixing, not the linear layers). Returns ``(B, C, H, W)`` (and the weights
    ``(B * n_windows, w*w, w*w)`` if asked).
    """
    _check_map(x)
    tokens = to_windows(x, window)
    out, weights = attend(tokens, tokens, tokens)
    out = from_windows(out, x.shape, window)
    return (out, weights) if return_weights else out


def global_attention(x: torch.Tensor, return_weights: bool = False):
    """Self-attention over all ``H*W`` pixels: an ``(H*W) x (H*W)`` weight matrix per image."""
    _check_map(x)
    b, c, h, w = x.shape
    tokens = x.flatten(2).transpose(1, 2)                              # (B, n, C)
    out, weights = attend(tokens, tokens, tokens)
    out = out.transpose(1, 2).reshape(b, c, h, w)
    return (out, weights) if return_weights else out


# --------------------------------------------------------------------------------------------
# Measuring
# --------------------------------------------------------------------------------------------
def weight_bytes(n_pixels: int, method: str, window: int = 8, kernel_size: int = 3,
                 channels: int = 16, bytes_per_number: int = 4) -> int:
    """Exact memory of the mixing weights of one image, in bytes.

    ``"global"``: the ``n x n`` attention matrix. ``"windowed"``: ``n`` rows of ``w*w``.
    ``"conv"``: the kernel, ``C * C * K * K`` numbers, whatever the image size.
    """
    if method == "global":
        count = n_pixels * n_pixels
    elif method == "windowed":
        count = n_pixels * window * window
    elif method == "conv":
        count = channels * channels * kernel_size * kernel_size
    else:
        raise ValueError(f"method={method!r}; expected 'conv', 'windowed' or 'global'")
    return count * bytes_per_number


def flops(n_pixels: int, method: str, channels: int = 16, window: int = 8,
          kernel_size: int = 3) -> int:
    """Multiply-adds of one layer on one image (scores + weighted sum for attention)."""
    if method == "conv":
        return n_pixels * channels * channels * kernel_size * kernel_size
    if method == "windowed":
        return 2 * n_pixels * window * window * channels
    if method == "global":
        return 2 * n_pixels * n_pixels * channels
    raise ValueError(f"method={method!r}; expected 'conv', 'windowed' or 'global'")


def time_call(fn, repeats: int = 3) -> float:
    """Best-of-``repeats`` wall time of ``fn()`` in seconds, after one warm-up call.

    The minimum is the least noisy estimate on a busy machine (other processes only add time).
    """
    fn()
    best = math.inf
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def cost_sweep(sides=(16, 32, 48, 64, 96, 128, 192, 256), channels: int = 16, window: int = 8,
               kernel_size: int = 3, repeats: int = 3, max_global_side: int = 80,
               threads: int | None = 1, seed: int = 0) -> dict:
    """Time conv, windowed and global attention on ``side x side`` maps of ``channels`` features.

    Global attention is only run up to ``max_global_side`` (its float32 weight matrix alone is
    ``n^2 * 4`` bytes: 164 MB at 80 x 80, 17 GB at 256 x 256); beyond it the entry is NaN.

    ``threads``: torch threads during the sweep (restored afterwards). One thread gives the
    steadiest scaling on a shared laptop; ``None`` keeps the current setting.

    Returns a dict of NumPy arrays: ``n_pixels``, ``conv``, ``windowed``, ``global`` (seconds)
    and ``global_bytes`` (the exact size of the float32 ``n x n`` weight matrix).
    """
    previous_threads = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        return _sweep(sides, channels, window, kernel_size, repeats, max_global_side, seed)
    finally:
        torch.set_num_threads(previous_threads)


def _sweep(sides, channels, window, kernel_size, repeats, max_global_side, seed) -> dict:
    gen = torch.Generator().manual_seed(seed)
    kernel = torch.randn(channels, channels, kernel_size, kernel_size, generator=gen) * 0.1
    result = {"n_pixels": [], "conv": [], "windowed": [], "global": [], "global_bytes": []}
    with torch.no_grad():
        for side in sides:
            x = torch.randn(1, channels, side, side, generator=gen)
            result["n_pixels"].append(side * side)
            result["conv"].append(time_call(lambda: conv_layer(x, kernel), repeats))
            result["windowed"].append(time_call(lambda: windowed_attention(x, window), repeats))
            result["global"].append(time_call(lambda: global_attention(x), repeats)
                                    if side <= max_global_side else math.nan)
            result["global_bytes"].append(weight_bytes(side * side, "global"))
    return {k: np.asarray(v, dtype=float) for k, v in result.items()}


def loglog_slope(x, y) -> float:
    """Slope of the least-squares line through ``(log x, log y)``: the exponent p in y ~ x^p."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    if x.shape != y.shape:
        raise ValueError(f"x and y must have the same shape, got {x.shape} and {y.shape}")
    keep = np.isfinite(x) & np.isfinite(y) & (x > 0) & (y > 0)  # NaN = not measured
    if keep.sum() < 2:
        raise ValueError(f"need at least 2 positive, finite points to fit a slope, got {keep.sum()}")
    return float(np.polyfit(np.log(x[keep]), np.log(y[keep]), 1)[0])


__all__ = [
    "conv_layer",
    "cost_sweep",
    "flops",
    "from_windows",
    "global_attention",
    "layers_to_connect",
    "loglog_slope",
    "receptive_field_map",
    "receptive_field_size",
    "time_call",
    "to_windows",
    "weight_bytes",
    "windowed_attention",
]
