"""Lesson 04 explorer: where does one pixel look under Gaussian, bilateral and NL-means weights?

``filter_weights``  a noisy photo; pick a pixel (row, col) and the filters' parameters, and see the
                    weight map that pixel uses under each filter, in a 31 x 31 crop around it:
                    fixed and round (Gaussian), following the edge (bilateral), spread over every
                    similar-looking place in the search window (NL-means).
"""
from __future__ import annotations

import ipywidgets as W
import numpy as np

from ..filters import bilateral_weights, gaussian_weights, nl_means_weights
from ..images import add_noise, load_photo
from ..plotting import OKABE_ITO, WEIGHT_CMAP
from .base import Explorer, new_figure, register

SIZE = 128          # the photo is SIZE x SIZE
CROP = 15           # the maps show (2 CROP + 1)^2 pixels around the chosen one
NOISE = 0.1
EDGE_PIXEL = (48, 48)  # on the edge between the dark coat and the bright collar (128 x 128 photo)
FLAT_PIXEL = (20, 100)  # in the smooth sky


def demo_image() -> tuple[np.ndarray, np.ndarray]:
    """``(clean, noisy)``: the cameraman at 128 x 128 and the same with noise sigma 0.1 (seeded)."""
    clean = load_photo("camera", size=SIZE, gray=True)
    return clean, add_noise(clean, NOISE, seed=0)


def crop_around(image: np.ndarray, row: int, col: int, radius: int = CROP) -> np.ndarray:
    """The ``(2r+1, 2r+1)`` window centred on (row, col); pixels outside the image are NaN."""
    padded = np.pad(image.astype(float), radius, constant_values=np.nan)
    return padded[row : row + 2 * radius + 1, col : col + 2 * radius + 1]


def effective_neighbours(weights: np.ndarray) -> float:
    """``1 / sum(w^2)``: how many pixels the average really uses (n for n equal weights)."""
    return float(1.0 / np.sum(weights**2))


@register("filter_weights")
def filter_weights_explorer() -> Explorer:
    """Pick a pixel and the parameters; see its weight map under the three filters."""
    _, noisy = demo_image()
    fig = new_figure(10.5, 3.0)
    axes = fig.subplots(1, 4)
    ax_img = axes[0]
    ax_img.imshow(noisy, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    ax_img.set(xticks=[], yticks=[], title="noisy photo (box = crop)")
    (marker,) = ax_img.plot([], [], "o", color=OKABE_ITO["orange"], ms=5)
    (box,) = ax_img.plot([], [], color=OKABE_ITO["orange"], lw=1)

    names = ("Gaussian: fixed", "bilateral: adaptive, local", "NL-means: adaptive, non-local")
    maps, titles = [], []
    for ax, name in zip(axes[1:], names):
        artist = ax.imshow(np.zeros((2 * CROP + 1,) * 2), cmap=WEIGHT_CMAP, vmin=0, vmax=1,
                           interpolation="nearest")
        ax.plot([CROP], [CROP], "+", color=OKABE_ITO["orange"], ms=8)
        ax.set(xticks=[], yticks=[])
        maps.append(artist)
        titles.append(ax.set_title(name, fontsize=9))

    controls = {
        "row": W.IntSlider(value=EDGE_PIXEL[0], min=0, max=SIZE - 1, description="row"),
        "col": W.IntSlider(value=EDGE_PIXEL[1], min=0, max=SIZE - 1, description="col"),
        "sigma": W.FloatSlider(value=2.0, min=0.5, max=4.0, step=0.25,
                               description="σ spatial"),
        "sigma_color": W.FloatLogSlider(value=0.25, base=10, min=-1.7, max=0.3, step=0.05,
                                        description="σ colour"),
        "h": W.FloatLogSlider(value=0.12, base=10, min=-1.7, max=-0.3, step=0.05,
                              description="h (NL-means)"),
        "search_radius": W.IntSlider(value=10, min=2, max=CROP, description="search r"),
    }

    def update(row, col, sigma, sigma_color, h, search_radius):
        pixel = (row, col)
        weight_maps = (
            gaussian_weights(noisy, pixel, sigma),
            bilateral_weights(noisy, pixel, sigma, sigma_color),
            nl_means_weights(noisy, pixel, h, patch_radius=1, search_radius=search_radius),
        )
        for artist, title, name, wmap in zip(maps, titles, names, weight_maps):
            crop = np.nan_to_num(crop_around(wmap, row, col))
            artist.set_data(crop)
            artist.set_clim(0, max(crop.max(), 1e-12))
            title.set_text(f"{name}\n≈{effective_neighbours(wmap):.0f} pixels in use, "
                           f"max {wmap.max():.3f}")
        marker.set_data([col], [row])
        top, left = row - CROP - 0.5, col - CROP - 0.5
        side = 2 * CROP + 1
        box.set_data([left, left + side, left + side, left, left],
                     [top, top, top + side, top + side, top])

    return Explorer(fig, controls, update,
                    "Move the pixel onto an edge and into a flat region. The Gaussian map never "
                    "changes shape; the bilateral map stops at edges; the NL-means map lights up "
                    "wherever the 3x3 patch looks like the chosen pixel's patch. Lower σ colour "
                    "or h: the adaptive maps shrink to the pixel itself.",
                    animated=[marker, box, *maps, *titles])
