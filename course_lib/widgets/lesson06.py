"""Lesson 06 explorers: what one unit can see, in a CNN and in a vision transformer; every head.

``reach_cnn_vs_vit``  pick an image and a place in it: the box shows the window one unit of the
                      CNN's last layer sees (its receptive field), the heat map shows where the
                      transformer's tile at that place attends (anywhere in the image, from the
                      first layer on).

``vit_heads``         the ViT's attention, head by head, in the course's generic head view
                      (:func:`course_lib.widgets.heads.head_view`): pick an image, a layer, a
                      head and a query token; the tiles that hold a mark are starred.

Pass trained models from the lesson notebook; without them, a freshly initialised (seeded) TinyViT
shows that attention *can* reach the whole image before it has learned where to look.

Speed (issue 20): the attention of every image, layer and tile is computed once, when the explorer
is built; a move redraws the image, the boxes and the map over a cached background, and the
sentences with numbers are in the HTML readout above the picture (text is the slowest to draw).
"""
from __future__ import annotations

import ipywidgets as W
import numpy as np
import torch
from matplotlib.patches import Rectangle

from course_lib.experiments.capstone import TinyCNN, TinyViT, two_marks
from course_lib.plotting import OKABE_ITO, WEIGHT_CMAP, show_image
from course_lib.basics.language import tr
from course_lib.widgets.base import Explorer, new_figure, readout_html, register
from course_lib.widgets.heads import head_view


@register("reach_cnn_vs_vit")
def reach_explorer(vit=None, cnn=None, n_images: int = 12, seed: int = 1,
                   relation: str = "left_of") -> Explorer:
    """An image, a CNN receptive field and a ViT attention map from the same place.

    Args:
        vit: a :class:`~course_lib.experiments.capstone.TinyViT` for 24 x 24 images (trained or not); None
            builds an untrained one with ``torch.manual_seed(0)``.
        cnn: a :class:`~course_lib.experiments.capstone.TinyCNN`; only its receptive field is used (None: depth 3).
        relation: the long-range task of :func:`course_lib.experiments.capstone.two_marks` to show images of.
    """
    images, labels, masks = two_marks(n_images, seed=seed, min_gap=12, relation=relation)
    masks = masks.any(1)  # both marks
    if vit is None:
        state = torch.random.get_rng_state()
        torch.manual_seed(0)
        vit = TinyViT(image_size=images.shape[-1], patch=4)
        torch.random.set_rng_state(state)
        attention_title = "untrained ViT: where the blue tile looks\n(in the layer chosen)"
    else:
        attention_title = "trained ViT: where the blue tile looks\n(in the layer chosen)"
    rf = (cnn or TinyCNN()).receptive_field
    vit.eval()
    device = next(vit.parameters()).device  # a model trained on a GPU stays there
    with torch.no_grad():
        _, weights = vit(images.to(device))
    # (n, layers, 1 + n_tiles, 1 + n_tiles), averaged over heads; computed once, not per move
    weights = torch.stack(weights, 1).mean(2).cpu().numpy()
    grid, size = vit.grid, images.shape[-1]
    patch = size // grid
    tile_masks = np.stack([_tile_mask(m, grid) for m in masks])   # (n, grid, grid), once

    fig = new_figure(8.0, 3.4)
    ax_img, ax_att = fig.subplots(1, 2)
    img_artist = show_image(ax_img, images[0, 0].numpy())
    rf_box = Rectangle((0, 0), rf, rf, fill=False, ec=OKABE_ITO["orange"], lw=2,
                       label=tr("CNN receptive field ({rf}x{rf})").format(rf=rf))
    tile_box = Rectangle((0, 0), patch, patch, fill=False, ec=OKABE_ITO["sky"], lw=2,
                         label="the ViT tile asking")
    ax_img.add_patch(rf_box)
    ax_img.add_patch(tile_box)
    ax_img.legend(loc="upper center", bbox_to_anchor=(0.5, -0.02), fontsize=8, ncols=1)
    # One colour scale for every tile, layer and image: the largest weight any of them shows.
    # It keeps the colour bar true without redrawing it, and an untrained ViT's nearly uniform
    # weights (about 1 / number of tiles) still show up.
    vmax = float(weights[:, :, 1:, 1:].max())
    att_artist = ax_att.imshow(np.zeros((grid, grid)), cmap=WEIGHT_CMAP, vmin=0, vmax=vmax,
                               interpolation="nearest",
                               extent=(-0.5, size - 0.5, size - 0.5, -0.5))
    att_box = Rectangle((0, 0), patch, patch, fill=False, ec=OKABE_ITO["sky"], lw=2)
    ax_att.add_patch(att_box)
    ax_att.set_xticks([])
    ax_att.set_yticks([])
    fig.colorbar(att_artist, ax=ax_att, fraction=0.046, pad=0.04, label="attention weight")
    ax_img.set_title("the image, the blue tile asking\nand what a CNN unit there sees")
    ax_att.set_title(attention_title)
    readout = W.HTML()

    controls = {
        "image": W.IntSlider(value=0, min=0, max=n_images - 1, description="image"),
        "row": W.IntSlider(value=grid // 2, min=0, max=grid - 1, description="tile row"),
        "col": W.IntSlider(value=0, min=0, max=grid - 1, description="tile col"),
        "layer": W.IntSlider(value=1, min=1, max=weights.shape[1], description="layer"),
    }

    def update(image, row, col, layer):
        img_artist.set_data(images[image, 0].numpy())
        top, left = row * patch, col * patch
        tile_box.set_xy((left - 0.5, top - 0.5))
        att_box.set_xy((left - 0.5, top - 0.5))
        centre_r, centre_c = top + patch // 2, left + patch // 2
        rf_box.set_xy((centre_c - rf // 2 - 0.5, centre_r - rf // 2 - 0.5))
        query = 1 + row * grid + col                      # token 0 is the class token
        w = weights[image, layer - 1, query, 1:].reshape(grid, grid)
        att_artist.set_data(w)
        on_marks = (w * tile_masks[image]).sum()
        readout.value = readout_html(
            tr("Image {image}: {answer}.").format(image=image,
                                                  answer=_label_text(relation, labels[image])),
            tr("Layer {layer}, tile (row {row}, col {col}): largest weight {largest:.2f}; on the two "
               "marks {on_marks:.2f}.").format(layer=layer, row=row, col=col, largest=w.max(),
                                              on_marks=on_marks))

    explorer = Explorer(fig, controls, update,
                        "Move the tile (blue) over one mark: the orange box is all a CNN unit there "
                        "can see; the heat map shows where the transformer's tile looks, anywhere in "
                        "the image. A trained model's mark tile can learn to look at the other mark.",
                        animated=[img_artist, rf_box, tile_box, att_artist, att_box],
                        readout=readout)
    return explorer


def _label_text(relation: str, label) -> str:
    if relation == "left_of":
        return tr("+ left of x") if label else tr("x left of +")
    if relation == "same_row":
        return tr("marks in the same row") if label else tr("marks in different rows")
    return f"{relation}: {bool(label)}"


def _tile_mask(mask: torch.Tensor, grid: int) -> np.ndarray:
    """(H, W) boolean -> (grid, grid): which tiles overlap the mask."""
    h = mask.shape[-1] // grid
    return mask.reshape(grid, h, grid, h).any(3).any(1).numpy()


@register("vit_heads")
def vit_heads_explorer(vit=None, n_images: int = 6, seed: int = 1) -> Explorer:
    """Every head of a TinyViT on ``n_images`` "same row?" images, in the generic head view.

    Args:
        vit: a :class:`~course_lib.experiments.capstone.TinyViT` for 24 x 24 images (None: an untrained one,
            ``torch.manual_seed(0)``, whose weights are still nearly uniform).
    """

    images, labels, masks = two_marks(n_images, seed=seed, min_gap=12, relation="same_row")
    if vit is None:
        state = torch.random.get_rng_state()
        torch.manual_seed(0)
        vit = TinyViT(image_size=images.shape[-1], patch=4)
        torch.random.set_rng_state(state)
    vit.eval()
    device = next(vit.parameters()).device
    with torch.no_grad():
        _, weights = vit(images.to(device))
    weights = torch.stack(weights, 1).cpu()              # (images, layers, heads, 1 + n, 1 + n)
    names = vit.token_names()
    tokens = []
    for i in range(n_images):                            # star the tiles that hold a mark
        marked = _tile_mask(masks[i].any(0), vit.grid).reshape(-1)
        tokens.append([names[0]] + [name + ("*" if m else "") for name, m in zip(names[1:], marked)])
    return head_view(weights, tokens,
                     layer_names=[tr("layer {k}").format(k=k + 1) for k in range(weights.shape[1])],
                     description=tr("Tokens: CLS, then the {grid} x {grid} tiles by row and column "
                                    "(rNcM); a star marks a tile that holds a mark. Pick query 0 "
                                    "(CLS): how much of each head's weight lands on the starred "
                                    "tiles? Change the image, the layer and the head.")
                     .format(grid=vit.grid),
                     title="TinyViT: where each head looks")
