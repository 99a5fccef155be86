"""Figure helpers shared by the lessons (00-06), so every picture in the course looks the same.

Colours: the Okabe-Ito palette (distinguishable with every common colour-vision deficiency) for
lines and markers; ``WEIGHT_CMAP`` (cividis) for weights and attention maps; gray for photos.
Lesson 01 names its similarity measures with ``MEASURE_LABELS``; lesson 04 draws weight maps on
one fixed logarithmic scale (``WEIGHT_NORM``, ``WEIGHT_CMAP_GREY_ZERO``, ``weight_image``) and
the nine heads of a 3x3 convolution as one picture (``head_mosaic``).
"""
from __future__ import annotations

import numpy as np
from matplotlib import colormaps
from matplotlib.cm import ScalarMappable
from matplotlib.colors import LogNorm

from course_lib.data.images import to_hwc

OKABE_ITO = {
    "orange": "#E69F00",
    "sky": "#56B4E9",
    "green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "purple": "#CC79A7",
    "black": "#000000",
}
# Order for categories: strongest contrast on white first; yellow (hard to see on white) last.
COLORS = [OKABE_ITO[c] for c in ("blue", "orange", "green", "vermillion", "sky", "purple",
                                 "black", "yellow")]
WEIGHT_CMAP = "cividis"  # perceptually uniform and colour-blind safe
DIVERGING_CMAP = "PuOr"  # for signed quantities (scores that can be negative)
# Lesson 04's weight maps: one fixed, shared colour scale, logarithmic, so that the pixel's own
# weight (often the largest) and the faint tails both show; zero weight (outside the window) is
# NaN in weight_image and drawn grey.
WEIGHT_NORM = LogNorm(1e-4, 1.0, clip=True)
WEIGHT_CMAP_GREY_ZERO = colormaps[WEIGHT_CMAP].with_extremes(bad="#d9d9d9")
CROP = 12  # lesson 04's weight maps show (2 CROP + 1)^2 pixels around the chosen one

# How figures name the similarity measures of course_lib.attention (lesson 01).
MEASURE_LABELS = {"dot": "dot  q·k", "scaled_dot": "scaled dot  q·k/√d",
                  "cosine": "cosine", "neg_sq_euclidean": "−|q−k|²"}


def show_image(ax, image, title=None, **kwargs):
    """Show a ``(H, W)`` or ``(C, H, W)`` image in [0, 1] without axes ticks."""
    image = np.asarray(image)
    artist = ax.imshow(to_hwc(image), cmap="gray" if image.ndim == 2 else None,
                       vmin=0, vmax=1, interpolation="nearest", **kwargs)
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title)
    return artist


def weight_log_norm(floor: float = 1e-3) -> LogNorm:
    """One fixed colour scale for attention weights, logarithmic from ``floor`` to 1.

    Weights over many keys span orders of magnitude: uniform weights over 143 patches are 0.007
    each, a sharp map puts 0.9 on one. Scaling each map by its own largest weight would make a
    nearly uniform map look as busy as a sharp one; a fixed log scale shows both honestly.
    Weights below ``floor`` (and exact zeros: clip them to ``floor``) get the darkest colour.
    """
    return LogNorm(vmin=floor, vmax=1.0, clip=True)


def overlay_weights(ax, image, weights, grid, patch: int, floor: float = 1e-3, opacity: float = 0.85):
    """Draw ``image`` and, on top, one cell per patch coloured by its weight on the fixed
    :func:`weight_log_norm` scale; a cell's opacity grows with its weight, so the photo shows
    through where the weights are small. ``weights`` has ``rows * cols`` entries (``grid``).
    Returns a ScalarMappable for a colour bar."""
    rows, cols = grid
    norm = weight_log_norm(floor)
    level = norm(np.clip(np.asarray(weights, dtype=float), floor, 1.0)).reshape(rows, cols)
    rgba = colormaps[WEIGHT_CMAP](level)
    rgba[..., 3] = opacity * level
    show_image(ax, image)
    ax.imshow(rgba, interpolation="nearest",
              extent=(-0.5, cols * patch - 0.5, rows * patch - 0.5, -0.5))
    return ScalarMappable(norm=norm, cmap=WEIGHT_CMAP)


def crop_around(image: np.ndarray, row: int, col: int, radius: int = CROP) -> np.ndarray:
    """The ``(2r+1, 2r+1)`` window of a ``(H, W)`` image centred on (row, col); pixels outside
    the image are NaN (drawn as missing, not as black)."""
    padded = np.pad(image.astype(float), radius, constant_values=np.nan)
    return padded[row : row + 2 * radius + 1, col : col + 2 * radius + 1]


def weight_image(wmap: np.ndarray, row: int, col: int) -> np.ndarray:
    """The crop of a ``(H, W)`` weight map that lesson 04 and its explorer show: zero weights
    become NaN, drawn grey by ``WEIGHT_CMAP_GREY_ZERO`` (a weight of 0 is not a small weight)."""
    crop = np.nan_to_num(crop_around(wmap, row, col))
    return np.where(crop > 0, crop, np.nan)


def head_mosaic(maps: np.ndarray) -> np.ndarray:
    """Nine ``(2v+1, 2v+1)`` maps, one per head of a 3x3 kernel in
    :func:`course_lib.locality.conv_attention.kernel_offsets` order, in a 3 x 3 grid separated by
    one NaN row/column (drawn blank): Cordonnier et al.'s picture (lesson 04)."""
    tile = maps.shape[-1]
    mosaic = np.full((3 * tile + 2, 3 * tile + 2), np.nan)
    for head in range(9):
        i, j = divmod(head, 3)
        mosaic[i * (tile + 1) : i * (tile + 1) + tile, j * (tile + 1) : j * (tile + 1) + tile] = maps[head]
    return mosaic
