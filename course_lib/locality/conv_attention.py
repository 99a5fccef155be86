"""Convolution is a special case of attention (lesson 04; Cordonnier, Loukas & Jaggi, ICLR 2020).

A ``K x K`` convolution computes, at every pixel p,

    out(p) = sum over offsets d of  W[:, :, d] @ x(p + d)

Read it as ``K*K`` attention heads. Head ``d`` attends from query pixel p to key pixel p' with a
score that depends only on positions, ``score_d(p, p') = -sharpness * |p' - (p + d)|^2``. As the
sharpness grows, softmax puts all of head d's weight on the one key ``p' = p + d``, so the head
returns ``x(p + d)``: a shifted copy of the image. The limit itself (``sharpness=inf``) is computed
as what it is, a hard lookup (weight exactly 1 on that key, 0 elsewhere), not as a softmax: a
softmax of infinite scores is undefined, and a finite sharpness only approaches the limit. Multi-head attention then mixes its heads'
outputs with an output projection; choosing head d's projection to be the kernel slice
``W[:, :, d]`` gives back the convolution exactly. With a finite sharpness each head spreads its
weight over neighbours of ``p + d``, which is a convolution with a *blurred* kernel.

Zero padding is handled the way a Transformer handles padding tokens: the keys are the pixels of
the zero-padded image, so a head that looks outside the image reads a zero.

The attention matrices here are dense ``(H*W) x ((H+2r)*(W+2r))``: fine for teaching-sized
images (up to about 48 x 48), quadratic in memory beyond. That cost is the point of lesson 04.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from course_lib.basics.arrays import compute_dtype, like_input, shape_str, to_tensor
from course_lib.attention.core import softmax_weights

MAX_ATTENTION_ENTRIES = 60_000_000  # K*K dense matrices beyond this would take > ~0.5 GB


def kernel_offsets(kernel_size: int) -> list[tuple[int, int]]:
    """The offsets ``(dy, dx)`` of a ``K x K`` kernel in row-major order (one per head)."""
    r = kernel_size // 2
    return [(dy, dx) for dy in range(-r, r + 1) for dx in range(-r, r + 1)]


def pixel_positions(height: int, width: int, offset: int = 0) -> torch.Tensor:
    """Coordinates ``(row, col)`` of every pixel in reading order, shape ``(H*W, 2)``.

    ``offset`` shifts them (used to place query pixels inside a padded key grid).
    """
    ys, xs = torch.meshgrid(torch.arange(height), torch.arange(width), indexing="ij")
    return torch.stack([ys.reshape(-1), xs.reshape(-1)], dim=1).double() + offset


def positional_scores(height: int, width: int, shift, radius: int, sharpness: float):
    """Scores of one head: ``-sharpness * |p' - (p + shift)|^2`` for every query p and key p'.

    Queries are the ``H*W`` pixels of the image; keys are the ``(H+2r)*(W+2r)`` pixels of the
    image zero-padded by ``radius``. Returns ``(H*W, (H+2r)*(W+2r))`` float64. The scores use
    positions only: they are the same for every image.
    """
    queries = pixel_positions(height, width, offset=radius)
    keys = pixel_positions(height + 2 * radius, width + 2 * radius)
    target = queries + torch.tensor(shift, dtype=torch.float64)       # where this head looks
    dy = keys[None, :, 0] - target[:, None, 0]                        # (H*W, n_keys) row offsets
    dx = keys[None, :, 1] - target[:, None, 1]                        # ... and column offsets
    return -sharpness * (dy * dy + dx * dx)


def head_weights(height: int, width: int, kernel_size: int, sharpness: float = math.inf):
    """Attention weights of all ``K*K`` heads, shape ``(K*K, H*W, (H+2r)*(W+2r))``.

    ``sharpness=inf`` is the limit, computed as a hard lookup: each query's weight is exactly 1
    on the key ``p + shift`` (no softmax); a finite sharpness is a softmax of the scores.
    """
    r = kernel_size // 2
    heads = []
    for shift in kernel_offsets(kernel_size):
        scores = positional_scores(height, width, shift, r, 1.0)     # -|p' - (p + shift)|^2
        if math.isinf(sharpness):
            heads.append((scores == 0).double())                       # the limit: one-hot
        else:
            heads.append(softmax_weights(sharpness * scores))
    return torch.stack(heads)


def head_maps(height: int, width: int, kernel_size: int, pixel, sharpness: float = math.inf):
    """Where each head looks from one query pixel: ``(K*K, H + 2r, W + 2r)`` weights over the
    zero-padded image's pixels (the keys), one map per head, in :func:`kernel_offsets` order.

    The grid of these maps, one per offset, is Cordonnier et al.'s picture of a convolution as
    multi-head attention. The query ``pixel = (row, col)`` sits at ``(row + r, col + r)``.
    """
    row, col = pixel
    if not (0 <= row < height and 0 <= col < width):
        raise ValueError(f"pixel={pixel!r} lies outside the {height} x {width} image")
    r = kernel_size // 2
    weights = head_weights(height, width, kernel_size, sharpness)      # (K*K, H*W, n_keys)
    return weights[:, row * width + col].reshape(-1, height + 2 * r, width + 2 * r)


def conv2d_as_attention(x, kernel, sharpness=math.inf, return_weights=False):
    """A 2-D convolution computed as ``K*K``-head attention with positional scores.

    Args:
        x: ``(C_in, H, W)`` or ``(B, C_in, H, W)``.
        kernel: ``(C_out, C_in, K, K)`` with K odd.
        sharpness: how peaked each head's positional softmax is. ``inf`` (default) is the exact
            limit, a hard lookup of the key ``p + d``, and equals
            ``torch.nn.functional.conv2d(x, kernel, padding=K // 2)`` (zero padding). A finite
            value is a softmax, and gives a convolution with a blurred kernel.
        return_weights: also return the heads' attention weights ``(K*K, H*W, n_keys)``.

    Returns:
        ``(C_out, H, W)`` or ``(B, C_out, H, W)``, like ``x`` (NumPy in -> NumPy out); with
        ``return_weights`` a pair ``(output, weights)``.
    """
    x, from_numpy = to_tensor(x, "x")
    kernel, _ = to_tensor(kernel, "kernel")
    if x.dim() not in (3, 4):
        raise ValueError(f"x must have shape (C_in, H, W) or (B, C_in, H, W), got shape {shape_str(x)}")
    if kernel.dim() != 4:
        raise ValueError(f"kernel must have shape (C_out, C_in, K, K), got shape {shape_str(kernel)}")
    unbatched = x.dim() == 3
    if unbatched:
        x = x.unsqueeze(0)
    b, c_in, h, w = x.shape
    c_out, k_in, kh, kw = kernel.shape
    if k_in != c_in:
        raise ValueError(
            f"kernel has C_in={k_in} input channels (shape {shape_str(kernel)}) but x has "
            f"C_in={c_in} (shape {shape_str(x)}); expected kernel.shape[1] == x.shape[-3]"
        )
    if x.numel() == 0 and (c_in == 0 or h == 0 or w == 0):
        raise ValueError(f"x must have at least one channel and one pixel (C_in, H, W >= 1), got "
                         f"shape {shape_str(x if not unbatched else x[0])}")
    if kh != kw or kh % 2 == 0:
        raise ValueError(f"kernel must be square with an odd size K, got K x K = {kh} x {kw}")
    if not (isinstance(sharpness, (int, float)) and sharpness > 0):
        raise ValueError(f"sharpness must be a number > 0 (math.inf for the exact limit), got {sharpness!r}")
    r = kh // 2
    n_keys = (h + 2 * r) * (w + 2 * r)
    if kh * kh * h * w * n_keys > MAX_ATTENTION_ENTRIES:
        raise ValueError(
            f"x of shape {shape_str(x)} with a {kh}x{kh} kernel needs {kh * kh} dense attention "
            f"matrices of {h * w} x {n_keys} entries; that is too much memory for a demo. "
            f"Use an image of at most about 48 x 48 (that quadratic cost is the lesson)."
        )
    out_dtype = torch.promote_types(x.dtype, kernel.dtype)
    dtype = compute_dtype(out_dtype)                  # float16/bfloat16: computed in float32
    x, kernel = x.to(dtype), kernel.to(dtype)

    # Keys/values: the zero-padded image, one token per pixel with C_in features.
    values = F.pad(x, (r,) * 4).flatten(2).transpose(1, 2)            # (B, n_keys, C_in)
    weights = head_weights(h, w, kh, sharpness).to(dtype=dtype, device=x.device)
    heads = weights.unsqueeze(1) @ values.unsqueeze(0)                # (K*K, B, H*W, C_in)
    # Output projection of head d = the kernel slice W[:, :, d] (C_out x C_in).
    projections = kernel.flatten(2).permute(2, 1, 0)                  # (K*K, C_in, C_out)
    out = torch.einsum("kbnc,kco->bon", heads, projections).reshape(b, c_out, h, w)
    if unbatched:
        out = out[0]
    out = like_input(out, from_numpy, out_dtype)
    return (out, like_input(weights, from_numpy, out_dtype)) if return_weights else out


def effective_kernel(kernel, sharpness: float):
    """The kernel that soft heads (finite sharpness) really apply, away from the border.

    Away from the border, head d spreads its weight over the keys ``p + d + e`` as
    ``g(e) = softmax_e(-sharpness * |e|^2)``, a discrete Gaussian. So the layer computes a
    convolution with ``kernel`` blurred by ``g``: shape ``(C_out, C_in, K + 2s, K + 2s)`` where
    ``s = ceil(sqrt(20 / sharpness))`` (offsets beyond s carry less than exp(-20) of the weight).
    As sharpness -> inf, ``g`` becomes a single 1 and the kernel comes back unchanged.
    """
    kernel, from_numpy = to_tensor(kernel, "kernel")
    spread = math.ceil(math.sqrt(20.0 / sharpness))
    e = torch.arange(-spread, spread + 1, dtype=kernel.dtype)
    g = torch.exp(-sharpness * (e[:, None] ** 2 + e[None, :] ** 2))
    g = g / g.sum()
    c_out, c_in, k, _ = kernel.shape
    # Full 2-D convolution of each kernel slice with g (g is symmetric, so no flip is needed).
    padded = F.pad(kernel.reshape(c_out * c_in, 1, k, k), (2 * spread,) * 4)
    blurred = F.conv2d(padded, g.view(1, 1, *g.shape))
    return like_input(blurred.view(c_out, c_in, k + 2 * spread, k + 2 * spread), from_numpy)


__all__ = [
    "conv2d_as_attention",
    "effective_kernel",
    "head_maps",
    "head_weights",
    "kernel_offsets",
    "pixel_positions",
    "positional_scores",
]
