"""Lesson 04's explorers: adaptive filters' weights, and a convolution rebuilt from attention heads.

``filter_weights``      a noisy photo; pick a pixel and the filters' parameters and see the weights
                        that pixel uses under a Gaussian, the bilateral filter (the same Gaussian
                        times a colour term) and NL-means, each over the window its denoiser uses,
                        on one shared colour scale.
``conv_as_attention``   Cordonnier et al.'s construction: K*K heads with positional scores; pick
                        the sharpness alpha and a head, and see where every head looks from one
                        query pixel and how close the layer comes to the convolution.
"""
from __future__ import annotations

import contextlib

import ipywidgets as W
import numpy as np
import torch
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Normalize
from matplotlib.patches import Rectangle

from course_lib.locality.conv_attention import kernel_offsets
from course_lib.attention.core import softmax_weights
from course_lib.data.examples import EDGE_PIXEL, IMAGE_SIZE as SIZE, demo_image
from course_lib.data.images import load_photo
from course_lib.basics.language import tr
from course_lib.filters.matrices import filter_maps, moved_weight
from course_lib.plotting import (CROP, OKABE_ITO, WEIGHT_CMAP, WEIGHT_CMAP_GREY_ZERO, WEIGHT_NORM, head_mosaic,
                                 weight_image)
from course_lib.widgets.base import Explorer, new_figure, register


def _note(ax):
    """A line of numbers inside the bottom of ``ax``, on a white box (readable on any map)."""
    return ax.text(0.5, 0.015, "", transform=ax.transAxes, ha="center", va="bottom",
                   fontsize=8.5, bbox=dict(fc="white", ec="none", alpha=0.85, pad=1.5))


@contextlib.contextmanager
def _one_thread():
    """Run tiny computations on one torch thread: waking a thread pool for a 25 x 25 window
    costs more than the work (and far more when other programs keep the cores busy)."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


@register("filter_weights")
def filter_weights_explorer() -> Explorer:
    """Pick a pixel and the parameters; see its weight map under the three filters."""
    _, noisy = demo_image()
    fig = new_figure(10.0, 3.1, dpi=80)
    axes = fig.subplots(1, 4)
    ax_img = axes[0]
    ax_img.imshow(noisy, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    ax_img.set(xticks=[], yticks=[], title="noisy photo (box = crop)")
    (marker,) = ax_img.plot([], [], "o", color=OKABE_ITO["orange"], ms=5)
    (box,) = ax_img.plot([], [], color=OKABE_ITO["orange"], lw=1)

    side = 2 * CROP + 1
    maps, centres = [], []
    names = ("Gaussian (fixed)", "bilateral", "NL-means (3x3 patches)")
    for ax, name in zip(axes[1:], names):
        maps.append(ax.imshow(np.full((side, side), np.nan), cmap=WEIGHT_CMAP_GREY_ZERO,
                              norm=WEIGHT_NORM, interpolation="nearest"))
        # the pixel itself: outlined, not hidden; listed as animated so that it is drawn on top
        # of the map, which is redrawn at every move
        centres.append(ax.add_patch(Rectangle((CROP - 0.5, CROP - 0.5), 1, 1, fill=False,
                                              lw=1.2, ec=OKABE_ITO["orange"])))
        ax.set(xticks=[], yticks=[], title=name)
    notes = [_note(ax) for ax in axes[2:]]       # the Gaussian moves nothing: no note (text is slow)
    fig.colorbar(ScalarMappable(WEIGHT_NORM, WEIGHT_CMAP_GREY_ZERO), ax=list(axes[1:]),
                 shrink=0.85, label="weight (grey: 0)")

    controls = {
        "row": W.IntSlider(value=EDGE_PIXEL[0], min=0, max=SIZE - 1, description="row"),
        "col": W.IntSlider(value=EDGE_PIXEL[1], min=0, max=SIZE - 1, description="col"),
        "sigma": W.FloatSlider(value=2.0, min=0.5, max=4.0, step=0.25, description="σ spatial"),
        "sigma_color": W.FloatLogSlider(value=0.2, base=10, min=-1.7, max=0.3, step=0.05,
                                        description="σ colour"),
        "h": W.FloatLogSlider(value=0.12, base=10, min=-1.7, max=-0.3, step=0.05,
                              description="h (NL-means)"),
        "search_radius": W.IntSlider(value=5, min=1, max=CROP, description="search r"),
    }

    def update(row, col, sigma, sigma_color, h, search_radius):
        with _one_thread():
            weight_maps = filter_maps(noisy, (row, col), sigma, sigma_color, h, search_radius)
        for artist, (wmap, _) in zip(maps, weight_maps.values()):
            artist.set_data(weight_image(wmap, row, col))
        _, (bilat, gauss), (nlm, uniform) = weight_maps.values()
        notes[0].set_text(tr("moved {share:.0%}").format(share=moved_weight(bilat, gauss)))
        notes[1].set_text(tr("moved {share:.0%}").format(share=moved_weight(nlm, uniform)))
        marker.set_data([col], [row])
        left, upper = col - CROP - 0.5, row - CROP - 0.5
        box.set_data([left, left + side, left + side, left, left],
                     [upper, upper, upper + side, upper + side, upper])

    return Explorer(fig, controls, update,
                    "Each map shows the weights over the window its denoiser uses (grey: weight 0) "
                    "on one fixed logarithmic colour scale; the orange square is the pixel itself. "
                    "'moved' is the share of the weight the image's content moved away from the "
                    "fixed rule over the same window (the Gaussian for the bilateral filter, "
                    "uniform weights for NL-means). Move the pixel onto an edge and into a flat "
                    "region; lower σ colour or h and the adaptive maps shrink to the pixel itself.",
                    animated=[marker, box, *maps, *notes, *centres])


# ------------------------------------------------------------------------------------------
# Convolution as multi-head attention
# ------------------------------------------------------------------------------------------
CONV_SIZE = 16                       # a 16 x 16 crop of the photo
QUERY = (8, 8)                        # the query pixel whose heads the grid shows
VIEW = 3                              # each head's map shows keys within 3 pixels of the query
LAPLACIAN = np.array([[0.0, -1.0, 0.0], [-1.0, 4.0, -1.0], [0.0, -1.0, 0.0]])
HEAD_NAMES = [f"({dy:+d}, {dx:+d})" for dy, dx in kernel_offsets(3)]


def separable_heads(image: np.ndarray, alpha: float):
    """The nine heads of a 3x3 convolution as attention, at sharpness ``alpha``.

    A positional score ``-alpha ((y' - t_y)^2 + (x' - t_x)^2)`` is a row part plus a column part,
    so each head's softmax over the 2-D key grid is the product of two 1-D softmaxes: the same
    weights as :func:`course_lib.locality.conv_attention.head_weights`, computed from ``(H + W)`` numbers
    per query instead of ``H * W``. Returns ``(rows (9, H, H+2), cols (9, W, W+2), outputs
    (9, H, W))``: head d's weight on key (y', x') for query (y, x) is
    ``rows[d, y, y'] * cols[d, x, x']``, and its output is the weighted average of the
    zero-padded image.
    """
    height, width = image.shape
    padded = torch.from_numpy(np.pad(image, 1))
    key_y = torch.arange(height + 2, dtype=torch.float64)
    key_x = torch.arange(width + 2, dtype=torch.float64)
    rows, cols, outputs = [], [], []
    for dy, dx in kernel_offsets(3):
        target_y = torch.arange(height)[:, None] + 1.0 + dy          # p + d, in padded coords
        target_x = torch.arange(width)[:, None] + 1.0 + dx
        a = softmax_weights(-alpha * (key_y[None, :] - target_y) ** 2)
        b = softmax_weights(-alpha * (key_x[None, :] - target_x) ** 2)
        rows.append(a)
        cols.append(b)
        outputs.append(a @ padded @ b.T)
    return torch.stack(rows), torch.stack(cols), torch.stack(outputs)


@register("conv_as_attention")
def conv_as_attention_explorer() -> Explorer:
    """Nine positional heads rebuild a 3x3 convolution as their sharpness alpha grows."""
    crop = load_photo("camera", size=64, gray=True)[20:20 + CONV_SIZE, 24:24 + CONV_SIZE]
    exact = torch.nn.functional.conv2d(torch.from_numpy(crop)[None, None],
                                       torch.from_numpy(LAPLACIAN)[None, None], padding=1)[0, 0]
    qy, qx = QUERY[0] + 1, QUERY[1] + 1                                  # query in the key grid
    tile = 2 * VIEW + 1
    kernel = torch.from_numpy(LAPLACIAN.ravel())

    fig = new_figure(9.6, 3.3, dpi=80)
    ax_grid, ax_head, ax_out = fig.subplots(1, 3, width_ratios=[1.2, 1, 1])
    grid = ax_grid.imshow(np.zeros((3 * tile + 2,) * 2), cmap=WEIGHT_CMAP, vmin=0, vmax=1,
                          interpolation="nearest")
    selected = Rectangle((-0.5, -0.5), tile, tile, fill=False, lw=2, ec=OKABE_ITO["orange"])
    ax_grid.add_patch(selected)
    ax_grid.set(xticks=[], yticks=[], title=tr("all 9 heads, query {query}\nat each tile's centre").format(query=QUERY))
    head_img = ax_head.imshow(np.zeros((tile, tile)), cmap=WEIGHT_CMAP, vmin=0, vmax=1,
                              interpolation="nearest")
    (query_mark,) = ax_head.plot([VIEW], [VIEW], "+", color=OKABE_ITO["orange"], ms=12, mew=2)
    (target,) = ax_head.plot([], [], "s", mfc="none", mec=OKABE_ITO["vermillion"], ms=14, mew=1.5)
    ax_head.set(xticks=[], yticks=[], title="chosen head\n(+ query p, □ key p + d)")
    head_note = _note(ax_head)
    lim = float(exact.abs().max())
    out_img = ax_out.imshow(np.zeros((CONV_SIZE, CONV_SIZE)), cmap="PuOr", vmin=-lim, vmax=lim,
                            interpolation="nearest")
    ax_out.set(xticks=[], yticks=[], title="the heads mixed by a Laplacian;\nerror: max |this - conv2d|")
    out_note = _note(ax_out)
    fig.colorbar(ScalarMappable(Normalize(0, 1), WEIGHT_CMAP), ax=[ax_grid, ax_head], shrink=0.8,
                 label="attention weight")

    controls = {
        "alpha": W.FloatLogSlider(value=1.0, base=10, min=-1, max=2, step=0.1,
                                  description="sharpness α"),
        "head": W.Dropdown(options=[(name, i) for i, name in enumerate(HEAD_NAMES)], value=2,
                           description="head (dy, dx)"),
    }

    def update(alpha, head):
        with _one_thread():
            rows, cols, outputs = separable_heads(crop, alpha)
        # one query's map per head: the outer product of its row and column weights
        maps = torch.einsum("ky,kx->kyx", rows[:, QUERY[0]], cols[:, QUERY[1]])
        maps = maps[:, qy - VIEW : qy + VIEW + 1, qx - VIEW : qx + VIEW + 1].numpy()
        grid.set_data(head_mosaic(maps))
        i, j = divmod(head, 3)
        selected.set_xy((j * (tile + 1) - 0.5, i * (tile + 1) - 0.5))
        head_img.set_data(maps[head])
        dy, dx = kernel_offsets(3)[head]
        target.set_data([VIEW + dx], [VIEW + dy])
        head_note.set_text(tr("on p + d: {weight:.3f}").format(weight=maps[head][VIEW + dy, VIEW + dx]))
        out = torch.einsum("k,khw->hw", kernel, outputs)            # output projections
        out_img.set_data(out.numpy())
        out_note.set_text(tr("error {error:.0e}").format(error=float((out - exact).abs().max())))

    return Explorer(fig, controls, update,
                    "Each head scores the keys by position only, -α |p' - (p + d)|²: raise the "
                    "sharpness α and every head's weight gathers on one key, p + d, and the nine "
                    "heads, mixed by the kernel's entries (here a Laplacian), become the "
                    "convolution: the error falls. Lower α and each head blurs over its "
                    "neighbours: a convolution with a blurred kernel.",
                    animated=[grid, selected, head_img, target, head_note, out_img, out_note,
                              query_mark])
