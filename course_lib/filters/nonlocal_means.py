"""Non-local means (lesson 04): attention between patches. Part of :mod:`course_lib.filters`.

Each pixel p averages the pixels p' of its search window with weights
``softmax_p'(-d2(p, p') / h^2)``, where ``d2`` is the mean squared difference between the patches
around p and p'. Query = the patch around p, key = the patch around p', value = the pixel p'.
The window plumbing (offsets, neighbour stacks, the streaming softmax) is shared with the other
filters and lives in ``windows.py``; import the filters from ``course_lib`` or ``course_lib.filters``.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from course_lib.basics.arrays import require_count
from course_lib.filters.image_args import as_chw as _as_chw
from course_lib.filters.image_args import clip_radius, inverse_width
from course_lib.filters.image_args import pixel as _pixel
from course_lib.attention.core import softmax_weights
from course_lib.filters.windows import (finish, weight_map, window, neighbours, streaming_window_average,
                                        weighted_average)


def _nl_means_params(h, patch_radius, search_radius, img):
    """``(1 / h, patch_radius, search_radius)``, see :func:`inverse_width`."""
    return (inverse_width(h, "h", img), require_count(patch_radius, "patch_radius", minimum=0),
            clip_radius(require_count(search_radius, "search_radius", minimum=0), img))


def _reflect_pad(img: torch.Tensor, patch_radius: int) -> torch.Tensor:
    """Mirror the image by ``patch_radius`` so that every patch is complete."""
    h, w = img.shape[-2:]
    if patch_radius >= min(h, w):
        raise ValueError(
            f"patch_radius={patch_radius} is too large for an image of height {h} and width {w}; "
            f"expected patch_radius < {min(h, w)}"
        )
    return F.pad(img.unsqueeze(0), (patch_radius,) * 4, mode="reflect").squeeze(0)


def box_sum(x: torch.Tensor, size: int) -> torch.Tensor:
    """Sum over every ``size x size`` block of the last two axes ('valid': no padding).

    A box sum is separable (rows, then columns), so it costs ``2 * size`` additions per pixel.
    """
    h, w = x.shape[-2] - size + 1, x.shape[-1] - size + 1
    rows = x[..., 0:h, :].clone()
    for i in range(1, size):
        rows += x[..., i : i + h, :]
    out = rows[..., 0:w].clone()
    for j in range(1, size):
        out += rows[..., j : j + w]
    return out


def patch_distances(image: torch.Tensor, patch_radius: int, search_radius: int) -> torch.Tensor:
    """``d2(p, p')`` for every pixel p and every p' in its search window: shape ``(K*K, H, W)``.

    ``d2`` is the mean, over the ``(2 patch_radius + 1)^2`` patch offsets u and the channels, of
    ``(I(p + u) - I(p' + u))^2``. Instead of cutting out patches we square the difference between
    the image and its shifted copy *once per pixel*, then a box filter averages those squares over
    the patch. Offsets are in :func:`window_offsets` order. ``image`` is ``(C, H, W)``; entries for
    p' outside the image are meaningless (mask them). Memory: K*K numbers per pixel.
    """
    pr = patch_radius
    padded = _reflect_pad(image, pr)                              # (C, H + 2pr, W + 2pr)
    shifted, _ = neighbours(padded, search_radius)                # (C, K*K, H + 2pr, W + 2pr)
    sq_diff = ((shifted - padded.unsqueeze(1)) ** 2).mean(dim=0)  # (K*K, H + 2pr, W + 2pr)
    return box_sum(sq_diff, 2 * pr + 1) / (2 * pr + 1) ** 2       # (K*K, H, W)


def nl_means_as_attention(image, h, patch_radius=1, search_radius=5):
    """NL-means written literally as attention; the same result as :func:`nl_means`.

    1. similarity: ``scores = -d2(p, p') / h^2`` for every pixel p and every p' in its window;
    2. weights:    ``softmax_weights(scores)`` over the window (in-image p' only);
    3. aggregate:  the weighted average of the pixels p'.

    It stores all ``K*K`` scores of every pixel (``K = 2 search_radius + 1``), so it needs
    ``K*K`` times the image's memory; :func:`nl_means` streams over the offsets instead.
    """
    img, gray, caller = _as_chw(image)
    inv_h, patch_radius, search_radius = _nl_means_params(h, patch_radius, search_radius, img)
    scores = -patch_distances(img, patch_radius, search_radius) * inv_h * inv_h  # 1: similarity
    values, inside = neighbours(img, search_radius)
    out, _ = weighted_average(values, scores, inside)                     # steps 2 and 3
    return finish(out, gray, caller)


def nl_means(image, h, patch_radius=1, search_radius=5):
    """Non-local means denoising (Buades, Coll & Morel, 2005): attention between patches.

    Each pixel p averages the pixels p' of its search window ``|dy|, |dx| <= search_radius``
    with weights ``softmax_p'(-d2(p, p') / h^2)``, i.e. ``exp(-d2 / h^2)`` normalised, where ``d2``
    is the mean (over the ``(2 patch_radius + 1)^2`` patch and the channels) of the squared
    differences between the patches around p and p'. In attention words: query = the patch around
    p, key = the patch around p', value = the pixel p', similarity = -(squared distance) / h^2.
    A pixel trusts pixels whose *surroundings* look like its own, wherever they are in the window:
    the weights adapt to the content and are not tied to nearby positions.

    Border rule: only in-image neighbours p' are averaged (weights renormalised over them);
    patches that stick out of the image are completed by mirror reflection.

    Args:
        image: ``(H, W)`` or ``(C, H, W)``, floats in [0, 1].
        h: filtering strength in the units of the image (> 0); about the noise's standard
            deviation is a good start. Larger h averages more.
        patch_radius: patches are ``(2 patch_radius + 1)^2`` pixels.
        search_radius: p' ranges over a ``(2 search_radius + 1)^2`` window around p.

    Computed by streaming over the offsets (see :func:`streaming_window_average`);
    :func:`nl_means_as_attention` is the same computation written as one attention.
    """
    img, gray, caller = _as_chw(image)
    inv_h, pr, sr = _nl_means_params(h, patch_radius, search_radius, img)
    c, height, width = img.shape
    padded = _reflect_pad(img, pr) * inv_h                   # complete patches; in units of h
    shifted_padded = F.pad(padded, (sr,) * 4)                # room for every search offset

    scale = -1.0 / (c * (2 * pr + 1) ** 2)   # the mean's 1 / (C * patch); 1 / h^2 is in padded

    def scores(dy, dx, shifted):
        # The squared difference between the image and its copy shifted by (dy, dx), summed over
        # the channels and the patch (a box sum), is d2(p, p + (dy, dx)) for every p at once.
        other = shifted_padded[:, sr + dy : sr + dy + height + 2 * pr,
                               sr + dx : sr + dx + width + 2 * pr]
        sq_diff = (other - padded).square_()
        sq_diff = sq_diff[0] if c == 1 else sq_diff.sum(dim=0)
        return box_sum(sq_diff, 2 * pr + 1).mul_(scale)

    return finish(streaming_window_average(img, sr, scores), gray, caller)


def nl_means_weights(image, pixel, h, patch_radius=1, search_radius=5):
    """The ``(H, W)`` map of weights that ``nl_means`` uses at ``pixel = (row, col)``.

    Same parameters and border rule as :func:`nl_means`; zero outside the search window.
    For a grayscale image ``nl_means(image, h, ...)[row, col] == (map * image).sum()``.
    """
    img, _, caller = _as_chw(image)
    inv_h, pr, sr = _nl_means_params(h, patch_radius, search_radius, img)
    row, col = _pixel(img, pixel)
    padded = F.pad(_reflect_pad(img, pr), (sr,) * 4)   # reflect for patches, zeros beyond
    k, p = 2 * sr + 1, 2 * pr + 1
    # The query patch, and every key patch of the window at once (as a (C, K, K, p, p) stack).
    query = padded[:, sr + row : sr + row + p, sr + col : sr + col + p]
    region = padded[:, row : row + k + p - 1, col : col + k + p - 1]
    keys = region.unfold(1, p, 1).unfold(2, p, 1)                          # (C, K, K, p, p)
    d2 = ((keys - query[:, None, None]) ** 2).mean(dim=(0, 3, 4))          # (K, K)
    _, inside = window(img, row, col, sr)
    weights = softmax_weights((-d2 * inv_h * inv_h).reshape(-1), mask=inside.reshape(-1)).view(k, k)
    return weight_map(img, row, col, sr, weights, caller)
