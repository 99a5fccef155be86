"""Three classical image filters, from fixed local weights to adaptive non-local ones (lesson 04).

This file holds the two local ones (Gaussian blur, the bilateral filter); NL-means is in
``nonlocal_means.py`` and the window plumbing all three share is in ``windows.py``.

Every filter here replaces a pixel ``p`` by a weighted average of pixels ``p'`` in a window
around it. They differ only in *where the weights come from*:

    filter            score of neighbour p' for pixel p                         weights are
    gaussian_blur     -|p - p'|^2 / (2 sigma^2)                                 fixed, local
    bilateral_filter  -|p - p'|^2 / (2 s_sp^2) - |I(p) - I(p')|^2 / (2 s_c^2)   adaptive, local
    nl_means          -d2(patch(p), patch(p')) / h^2                            adaptive, non-local

and the weights are always ``softmax(scores)`` over the window: ``exp(score)`` normalised to sum
to 1. That is attention's step 2 (:func:`course_lib.attention.core.softmax_weights`), and step 3 is the
weighted average. For NL-means the score is a *similarity between patches* (negative squared
distance), so NL-means is attention in which every pixel is a query and its patch is its key.

Conventions:
    * ``image`` is ``(H, W)`` (grayscale) or ``(C, H, W)`` (colour), floats in [0, 1];
      the output has the same shape. NumPy in -> NumPy out, torch in -> torch out.
    * Border rule (all three filters): a pixel near the border averages only the neighbours that
      lie *inside* the image, and its weights are renormalised over them. No padding value ever
      enters an average, so ``filter(image)[row, col] == (weights_map * image).sum()`` holds at
      every pixel. (NL-means compares *patches*; a patch that sticks out of the image is completed
      by mirror reflection, as scikit-image does.)
    * Each filter has a twin ``*_weights(image, (row, col), ...)`` returning the ``(H, W)`` map of
      the weights that one pixel uses: the picture of "where this pixel looks".

Nothing loops over pixels. The filters loop over the K*K *offsets* of the window instead: for one
offset (dy, dx) every pixel's score, weight and contribution is computed at once, and a running
numerator and denominator are updated ("streaming" softmax: the streaming idea behind
FlashAttention (Dao et al., 2022), which also keeps a running maximum because its largest score is
not known in advance; here it is 0, the pixel itself). This never stores all K*K weights per pixel,
so it is fast and lean. :func:`nl_means_as_attention` spells out the same computation as one big
attention (scores -> ``softmax_weights`` -> average), and the tests check that both agree. The
cost is ``H * W * K^2``: linear in the number of pixels, like a convolution.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from course_lib.basics.arrays import like_input, require_positive, require_count
from course_lib.filters.image_args import as_chw as _as_chw
from course_lib.filters.image_args import clip_radius, inverse_width
from course_lib.filters.image_args import pixel as _pixel
from course_lib.attention.core import softmax_weights
from course_lib.filters.windows import (finish, neighbours, spatial_scores, streaming_window_average,
                                        weight_map, weighted_average, window)


# --------------------------------------------------------------------------------------------
# Gaussian blur: fixed local weights = a convolution
# --------------------------------------------------------------------------------------------
def gaussian_radius(sigma: float) -> int:
    """Window half-width ``ceil(3 sigma)``: beyond 3 sigma the weights are below 1.1 % of the peak."""
    return int(math.ceil(3 * sigma))


def gaussian_blur(image, sigma):
    """Blur with fixed Gaussian weights: ``w(p, p') ~ exp(-|p - p'|^2 / (2 sigma^2))``.

    The weights depend only on the offset ``p' - p``, never on the image: this is a convolution
    with a Gaussian kernel over ``|dy|, |dx| <= ceil(3 sigma)``, normalised to sum to 1.

    Border rule: only in-image neighbours count and the weights are renormalised over them
    (we convolve the image and an all-ones image with the same kernel and divide).

    Args:
        image: ``(H, W)`` or ``(C, H, W)``, floats in [0, 1].
        sigma: standard deviation of the kernel in pixels (> 0).

    Returns:
        the blurred image, same shape (and NumPy if given NumPy).
    """
    img, gray, caller = _as_chw(image)
    sigma = require_positive(sigma, "sigma")
    radius = clip_radius(gaussian_radius(sigma), img)
    kernel = torch.exp(spatial_scores(radius, sigma, img)).view(1, 1, 2 * radius + 1, -1)
    # One kernel for every channel: a depth-wise convolution with zero padding ...
    blurred = F.conv2d(img.unsqueeze(1), kernel, padding=radius).squeeze(1)
    # ... divided by the total weight that fell inside the image (the border rule).
    ones = torch.ones_like(img[:1]).unsqueeze(1)
    total = F.conv2d(ones, kernel, padding=radius).squeeze(1)
    return finish(blurred / total, gray, caller)


def gaussian_weights(image, pixel, sigma):
    """The ``(H, W)`` map of weights that ``gaussian_blur(image, sigma)`` uses at ``pixel``.

    ``pixel`` is ``(row, col)``. Zero outside the ``ceil(3 sigma)`` window and outside the image;
    the rest sums to 1 (border rule: renormalised over in-image neighbours). For a grayscale image
    ``gaussian_blur(image, sigma)[row, col] == (map * image).sum()``.
    """
    img, _, caller = _as_chw(image)
    sigma = require_positive(sigma, "sigma")
    row, col = _pixel(img, pixel)
    radius = clip_radius(gaussian_radius(sigma), img)
    _, inside = window(img, row, col, radius)
    scores = spatial_scores(radius, sigma, img).view(inside.shape)
    weights = softmax_weights(scores.reshape(-1), mask=inside.reshape(-1)).view(inside.shape)
    return weight_map(img, row, col, radius, weights, caller)


# --------------------------------------------------------------------------------------------
# Bilateral filter: local weights that adapt to the image
# --------------------------------------------------------------------------------------------
def _bilateral_params(sigma_spatial, sigma_color, radius, img):
    """``(1 / sigma_spatial, 1 / sigma_color, radius)``, see :func:`inverse_width`."""
    inv_spatial = inverse_width(sigma_spatial, "sigma_spatial", img)
    inv_color = inverse_width(sigma_color, "sigma_color", img)
    radius = (gaussian_radius(float(sigma_spatial)) if radius is None
              else require_count(radius, "radius", minimum=0))
    return inv_spatial, inv_color, clip_radius(radius, img)


def bilateral_filter(image, sigma_spatial, sigma_color, radius=None):
    """Edge-preserving smoothing: neighbours count if they are close *and* look alike.

    ``w(p, p') ~ exp(-|p - p'|^2 / (2 s_sp^2)) * exp(-|I(p) - I(p')|^2 / (2 s_c^2))`` with
    ``s_sp = sigma_spatial`` and ``s_c = sigma_color``, over ``|dy|, |dx| <= radius`` (default
    ``ceil(3 sigma_spatial)``), normalised to sum to 1; ``|I(p) - I(p')|`` is the Euclidean
    distance over the channels. Across an edge the colour term is tiny, so the edge is not blurred.
    The weights depend on the image: adaptive, but local.

    Border rule: only in-image neighbours count; the weights are renormalised over them.

    Args:
        image: ``(H, W)`` or ``(C, H, W)``, floats in [0, 1].
        sigma_spatial: spatial standard deviation in pixels (> 0).
        sigma_color: intensity standard deviation, in the units of the image (> 0).
        radius: window half-width (int >= 0), default ``ceil(3 sigma_spatial)``.
    """
    img, gray, caller = _as_chw(image)
    inv_sp, inv_c, radius = _bilateral_params(sigma_spatial, sigma_color, radius, img)

    def scores(dy, dx, shifted):  # log of the product of the two Gaussians
        spatial = -((dy * inv_sp) * (dy * inv_sp) + (dx * inv_sp) * (dx * inv_sp)) / 2  # per offset
        colour_d2 = (((shifted - img) * inv_c) ** 2).sum(dim=0)  # |I(p) - I(p')|^2 / s_c^2
        return spatial - colour_d2 / 2

    return finish(streaming_window_average(img, radius, scores), gray, caller)


def bilateral_weights(image, pixel, sigma_spatial, sigma_color, radius=None):
    """The ``(H, W)`` map of weights that ``bilateral_filter`` uses at ``pixel = (row, col)``.

    Same parameters and border rule as :func:`bilateral_filter`; zero outside the window.
    For a grayscale image ``bilateral_filter(image, ...)[row, col] == (map * image).sum()``.
    """
    img, _, caller = _as_chw(image)
    inv_sp, inv_c, radius = _bilateral_params(sigma_spatial, sigma_color, radius, img)
    row, col = _pixel(img, pixel)
    values, inside = window(img, row, col, radius)               # (C, K, K), (K, K)
    centre = img[:, row, col].view(-1, 1, 1)
    scores = (spatial_scores(radius, float(sigma_spatial), img).view(inside.shape)
              - (((values - centre) * inv_c) ** 2).sum(dim=0) / 2)
    weights = softmax_weights(scores.reshape(-1), mask=inside.reshape(-1)).view(inside.shape)
    return weight_map(img, row, col, radius, weights, caller)


__all__ = ["bilateral_filter", "bilateral_weights", "gaussian_blur", "gaussian_radius", "gaussian_weights"]
