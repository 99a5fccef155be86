"""The filters of lesson 04 as attention matrices: one row per query pixel, one column per key.

:mod:`course_lib.filters` computes each filter by streaming over window offsets and never holds
more than one offset's weights. Here we do the opposite and write the whole ``n x n`` matrix of
weights of a small ``(H, W)`` image (``n = H * W``, pixels in reading order), the way attention
matrices are drawn in the literature: entry ``[i, j]`` is how much query pixel i takes from key
pixel j. NL-means is then literally one call of :func:`course_lib.attend`:

    queries = keys = every pixel's patch, as a vector     values = the pixels
    scores  = -|patch_i - patch_j|^2 / (P h^2)  (P pixels per patch; = -d2 / h^2)
    mask    = "key j lies in query i's search window"  (no mask: global NL-means)

Also here: :func:`moved_weight`, how much of a pixel's weight the image's content moves away from
where a fixed rule over the same window would put it, and :func:`filter_maps`, the three maps of
one pixel that lesson 04 and its explorer compare that way.
"""
from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from course_lib.basics.arrays import like_input, shape_str, to_tensor
from course_lib.attention.masks import window_mask_2d  # the square window of lesson 02
from course_lib.filters.image_args import as_chw
from course_lib.attention.core import attend, softmax_weights
from course_lib.filters.local import bilateral_weights, gaussian_weights
from course_lib.filters.nonlocal_means import nl_means_weights


def _gray(image, name="image") -> tuple[torch.Tensor, bool]:
    if getattr(image, "ndim", 2) != 2:
        raise ValueError(f"{name} must be a grayscale image of shape (H, W), got shape "
                         f"{shape_str(image)}")
    img, _, (from_numpy, _) = as_chw(image, name)   # the filters' rules: floats, not empty
    img = img[0]
    return img.to(torch.promote_types(img.dtype, torch.float32)), from_numpy


def pixel_grid(height: int, width: int) -> torch.Tensor:
    """``(row, col)`` of every pixel in reading order, shape ``(H*W, 2)``, float64."""
    rows, cols = torch.meshgrid(torch.arange(height), torch.arange(width), indexing="ij")
    return torch.stack([rows.reshape(-1), cols.reshape(-1)], dim=1).double()


def patch_vectors(image: torch.Tensor, patch_radius: int) -> torch.Tensor:
    """Every pixel's ``(2r+1) x (2r+1)`` patch, flattened: ``(H*W, (2r+1)^2)``.

    Patches that stick out of the image are completed by mirror reflection (as in
    :func:`course_lib.nl_means`). Differentiable with respect to ``image``.
    """
    p = 2 * patch_radius + 1
    padded = F.pad(image[None, None], (patch_radius,) * 4, mode="reflect")
    return F.unfold(padded, kernel_size=p)[0].T                      # (H*W, p*p)


def nl_means_matrix(image, h: float, patch_radius: int = 1, search_radius: int | None = None):
    """NL-means of a grayscale image as one attention call.

    Args:
        image: ``(H, W)``; torch tensors keep their gradient.
        h, patch_radius: as in :func:`course_lib.nl_means`.
        search_radius: the window ``|dy|, |dx| <= search_radius``; ``None`` = the whole image
            (global NL-means, every pixel is a key of every query).

    Returns:
        ``(output (H, W), weights (n, n))``; for any search radius the output equals
        ``cl.nl_means(image, h, patch_radius, search_radius)``.
    """
    img, from_numpy = _gray(image)
    height, width = img.shape
    patches = patch_vectors(img, patch_radius)                        # queries = keys
    mask = None if search_radius is None else window_mask_2d(height, width, search_radius)
    out, weights = attend(patches, patches, img.reshape(-1, 1), mask=mask,
                          kind="neg_sq_euclidean", temperature=patches.shape[-1] * h**2)
    return like_input(out.reshape(height, width), from_numpy), like_input(weights, from_numpy)


def nl_means_at(image, pixel, h: float, patch_radius: int = 1, search_radius: int | None = None):
    """One row of :func:`nl_means_matrix`: NL-means' output at ``pixel = (row, col)`` alone, as
    attention with that pixel's patch as the only query. Returns a scalar (a 0-d tensor for a
    tensor image, keeping its gradient): cheap enough to differentiate on a large image."""
    img, _ = _gray(image)
    height, width = img.shape
    row, col = pixel
    patches = patch_vectors(img, patch_radius)
    query = patches[row * width + col][None]                          # (1, P)
    mask = None
    if search_radius is not None:
        mask = window_mask_2d(height, width, search_radius)[row * width + col][None]
    out, _ = attend(query, patches, img.reshape(-1, 1), mask=mask, kind="neg_sq_euclidean",
                    temperature=patches.shape[-1] * h**2)
    return out[0, 0]


def gaussian_matrix(height: int, width: int, sigma: float):
    """The ``(n, n)`` weights of :func:`course_lib.gaussian_blur` on an ``H x W`` image: scores
    ``-|p_i - p_j|^2 / (2 sigma^2)`` that use positions only, window ``ceil(3 sigma)``."""
    pos = pixel_grid(height, width)
    scores = -((pos[:, None, :] - pos[None, :, :]) ** 2).sum(-1) / (2 * sigma**2)
    return softmax_weights(scores, mask=window_mask_2d(height, width, math.ceil(3 * sigma))).numpy()


def moved_weight(weights, baseline) -> float:
    """Share of the weight the content moved: ``sum |w - baseline| / 2``, from 0 to 1.

    ``baseline`` is what a fixed rule gives over the *same* window (for the bilateral filter its
    spatial Gaussian alone; for NL-means uniform weights). 0: the content changed nothing; 1:
    the weights went to pixels the fixed rule ignores. Unlike a mean distance, it does not grow
    with the window.
    """
    w, _ = to_tensor(weights, "weights")
    b, _ = to_tensor(baseline, "baseline")
    if w.shape != b.shape:
        raise ValueError(f"weights and baseline must have the same shape, got {shape_str(w)} "
                         f"and {shape_str(b)}")
    return float((w - b).abs().sum() / 2)


def filter_maps(noisy, pixel, sigma, sigma_color, h, search_radius) -> dict:
    """Lesson 04's three ``(H, W)`` weight maps of ``pixel`` in the image ``noisy``, each over its
    denoiser's own window, with the fixed rule each one is set against (for :func:`moved_weight`):
    ``{"Gaussian": (map, map), "bilateral": (map, the Gaussian of the same sigma: its colour
    term switched off), "NL-means": (map, uniform weights in the search window)}``."""
    gauss = gaussian_weights(noisy, pixel, sigma)
    nlm = nl_means_weights(noisy, pixel, h, patch_radius=1, search_radius=search_radius)
    return {"Gaussian": (gauss, gauss),
            "bilateral": (bilateral_weights(noisy, pixel, sigma, sigma_color), gauss),
            "NL-means": (nlm, (nlm > 0) / np.count_nonzero(nlm))}


__all__ = [
    "filter_maps",
    "gaussian_matrix",
    "moved_weight",
    "nl_means_at",
    "nl_means_matrix",
    "patch_vectors",
    "pixel_grid",
]
