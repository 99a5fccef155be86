"""The window plumbing shared by lesson 04's filters: neighbour stacks, the streaming softmax average,
one pixel's window and its weight map (lesson 04).

Learners can read the filters (``local.py``, ``nonlocal_means.py``) without this file: every filter
there says *how it scores* a neighbour, and the functions here do the rest the same way for all:
softmax over the window (attention's step 2) and the weighted average (step 3), with the border
rule (a neighbour outside the image never enters an average).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from course_lib.attention.core import softmax_weights
from course_lib.basics.arrays import like_input
from course_lib.filters.image_args import inverse_width


# --------------------------------------------------------------------------------------------
# Plumbing: images in, neighbour stacks out
# --------------------------------------------------------------------------------------------
def window_offsets(radius: int, device=None, dtype=torch.float64) -> torch.Tensor:
    """The ``(K*K, 2)`` offsets ``(dy, dx)`` of a ``K x K`` window, ``K = 2 radius + 1``.

    Row-major order (dy slowest), the same order as ``F.unfold`` uses for its kernel positions.
    """
    r = torch.arange(-radius, radius + 1, device=device, dtype=dtype)
    dy, dx = torch.meshgrid(r, r, indexing="ij")
    return torch.stack([dy.reshape(-1), dx.reshape(-1)], dim=1)


def neighbours(image: torch.Tensor, radius: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Every pixel's ``K x K`` neighbourhood, as a stack.

    Args:
        image: ``(C, H, W)``.
        radius: window half-width; ``K = 2 radius + 1``.

    Returns:
        ``(values, inside)``: ``values[c, k, i, j]`` is channel c of the pixel at offset k
        (see :func:`window_offsets`) from pixel (i, j), shape ``(C, K*K, H, W)``; ``inside`` is a
        boolean ``(K*K, H, W)``, True where that neighbour lies inside the image. Outside
        neighbours hold 0 in ``values`` and must be masked out.
    """
    c, h, w = image.shape
    k = 2 * radius + 1
    # unfold = "im2col": column (i, j) lists the K*K values of the window centred on (i, j).
    values = F.unfold(image.unsqueeze(0), kernel_size=k, padding=radius)
    ones = torch.ones(1, 1, h, w, dtype=image.dtype, device=image.device)
    inside = F.unfold(ones, kernel_size=k, padding=radius) > 0.5
    return values.view(c, k * k, h, w), inside.view(k * k, h, w)


def weighted_average(values: torch.Tensor, scores: torch.Tensor, inside: torch.Tensor):
    """Attention over each pixel's window: softmax the scores, then average the values.

    Args:
        values: ``(C, K*K, H, W)`` neighbour values; scores and inside: ``(K*K, H, W)``.

    Returns:
        ``(output (C, H, W), weights (K*K, H, W))``; the weights of each pixel sum to 1 over the
        neighbours inside the image (the border rule).
    """
    # softmax_weights normalises over its last axis, so put the window axis last and back.
    weights = softmax_weights(scores.movedim(0, -1), mask=inside.movedim(0, -1)).movedim(-1, 0)
    return (values * weights.unsqueeze(0)).sum(dim=1), weights


def finish(out: torch.Tensor, gray: bool, caller: tuple[bool, torch.dtype]):
    """Hand back what the caller gave: NumPy or torch, grayscale or not, in its dtype."""
    from_numpy, dtype = caller
    return like_input(out[0] if gray else out, from_numpy, dtype)


def weight_map(image: torch.Tensor, row: int, col: int, radius: int, window_weights,
                caller: tuple[bool, torch.dtype]):
    """Scatter one pixel's window weights ``(K, K)`` into an ``(H, W)`` map (zero elsewhere)."""
    h, w = image.shape[-2:]
    full = torch.zeros(h + 2 * radius, w + 2 * radius, dtype=window_weights.dtype,
                       device=window_weights.device)
    k = 2 * radius + 1
    full[row : row + k, col : col + k] = window_weights  # window centred on (row, col)
    return finish(full[None, radius : radius + h, radius : radius + w], True, caller)


def window(image: torch.Tensor, row: int, col: int, radius: int):
    """One pixel's window: ``(values (C, K, K), inside (K, K))``, outside entries set to 0."""
    c, h, w = image.shape
    padded = F.pad(image, (radius,) * 4)
    k = 2 * radius + 1
    values = padded[:, row : row + k, col : col + k]
    ys = torch.arange(row - radius, row + radius + 1, device=image.device)
    xs = torch.arange(col - radius, col + radius + 1, device=image.device)
    inside = ((ys >= 0) & (ys < h))[:, None] & ((xs >= 0) & (xs < w))[None, :]
    return values, inside


def spatial_scores(radius: int, sigma: float, like: torch.Tensor) -> torch.Tensor:
    """``-|p - p'|^2 / (2 sigma^2)`` for every offset of the window, shape ``(K*K,)``."""
    offsets = window_offsets(radius, device=like.device, dtype=like.dtype)
    inverse = inverse_width(sigma, "sigma", like)   # written so that a tiny sigma gives 0, not NaN
    return -((offsets * inverse) ** 2).sum(dim=1) / 2


def streaming_window_average(image: torch.Tensor, radius: int, score_of_offset):
    """Average every pixel's window with weights ``softmax(scores)``, one offset at a time.

    Args:
        image: ``(C, H, W)``.
        radius: window half-width (the window is ``|dy|, |dx| <= radius``).
        score_of_offset: ``f(dy, dx, shifted) -> scores (H, W)`` where ``shifted[:, i, j]`` is the
            neighbour at ``(i + dy, j + dx)``. Every score must be ``<= 0`` and the pixel's own
            score (offset (0, 0)) must be 0.

    Returns:
        ``(C, H, W)``: ``sum_p' exp(score_p') I(p') / sum_p' exp(score_p')``, summed over the
        in-image neighbours p'.

    Why this is exactly ``softmax_weights``: a stable softmax subtracts each row's largest score
    before ``exp``. Here that maximum is known in advance: it is the pixel's own score, 0. So
    ``exp`` never overflows, the denominator is >= 1, and summing numerator and denominator over
    the offsets gives the softmax-weighted average without ever storing the K*K weights.
    """
    c, h, w = image.shape
    padded = F.pad(image, (radius,) * 4)                       # zeros: never used (masked)
    inside = F.pad(torch.ones(h, w, dtype=image.dtype, device=image.device), (radius,) * 4)
    numerator = torch.zeros_like(image)
    denominator = torch.zeros(h, w, dtype=image.dtype, device=image.device)
    for dy in range(-radius, radius + 1):
        for dx in range(-radius, radius + 1):
            rows = slice(radius + dy, radius + dy + h)
            cols = slice(radius + dx, radius + dx + w)
            shifted = padded[:, rows, cols]
            weight = torch.exp(score_of_offset(dy, dx, shifted)) * inside[rows, cols]
            numerator.addcmul_(weight, shifted)
            denominator.add_(weight)
    return numerator / denominator
