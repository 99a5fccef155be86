"""Figure helpers shared by every lesson, so every picture in the course looks the same.

Colours: the Okabe-Ito palette (distinguishable with every common colour-vision deficiency) for
lines and markers; ``WEIGHT_CMAP`` (cividis) for weights and attention maps; gray for photos.
"""
from __future__ import annotations

import numpy as np
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
    from matplotlib import colormaps
    from matplotlib.cm import ScalarMappable

    rows, cols = grid
    norm = weight_log_norm(floor)
    level = norm(np.clip(np.asarray(weights, dtype=float), floor, 1.0)).reshape(rows, cols)
    rgba = colormaps[WEIGHT_CMAP](level)
    rgba[..., 3] = opacity * level
    show_image(ax, image)
    ax.imshow(rgba, interpolation="nearest",
              extent=(-0.5, cols * patch - 0.5, rows * patch - 0.5, -0.5))
    return ScalarMappable(norm=norm, cmap=WEIGHT_CMAP)
