"""Explorers of lesson 06, headless: moving a control changes the right artists."""
import numpy as np
import torch

from course_lib.experiments import capstone as C
from course_lib.widgets import EXPLORERS


def _image_data(artist):
    return np.array(artist.get_array(), dtype=float)


def test_reach_explorer_moves_boxes_and_map():
    e = EXPLORERS["reach_cnn_vs_vit"]()
    ax_img, ax_att = e.figure.axes[:2]
    rf_box, tile_box = ax_img.patches[0], ax_img.patches[1]
    assert rf_box.get_width() == 9  # TinyCNN(depth=3) sees 9 x 9
    before_map = _image_data(ax_att.images[0])
    before_xy = tile_box.get_xy()
    e.controls["col"].value = 4
    assert tile_box.get_xy() != before_xy
    assert rf_box.get_xy()[0] > before_xy[0]
    after_map = _image_data(ax_att.images[0])
    assert not np.array_equal(after_map, before_map)
    assert 0 < after_map.sum() <= 1 + 1e-6  # a row of weights, minus the class token's share
    e.controls["layer"].value = 2
    assert "Layer 2, tile (row 3, col 4): largest weight " in e.readout.value
    e.controls["image"].value = 3
    assert "Image 3: " in e.readout.value


def test_reach_explorer_uses_given_models():
    torch.manual_seed(1)
    vit = C.TinyViT(image_size=24, patch=4, depth=1)
    e = EXPLORERS["reach_cnn_vs_vit"](vit=vit, cnn=C.TinyCNN(depth=2))
    assert e.figure.axes[0].patches[0].get_width() == 5
    assert e.figure.axes[1].get_title().startswith("trained ViT")
    assert e.controls["layer"].max == 1


def test_vit_heads_explorer_shows_every_head_and_stars_the_marks():
    torch.manual_seed(2)
    vit = C.TinyViT(image_size=24, patch=4, depth=2, heads=2)
    e = EXPLORERS["vit_heads"](vit=vit, n_images=3)
    assert set(e.controls) == {"example", "layer", "head", "query"}
    assert e.controls["layer"].max == 1 and e.controls["head"].max == 1
    assert e.controls["query"].max == 36                     # CLS + 36 tiles
    texts = [t.get_text() for t in e.figure.axes[0].texts]
    assert "CLS" in texts and sum(t.endswith("*") for t in texts) >= 2
    thumbs = [ax.images[0] for ax in e.figure.axes[1:3]]
    before = _image_data(thumbs[0])
    e.controls["layer"].value = 1
    assert not np.array_equal(_image_data(thumbs[0]), before)
    np.testing.assert_allclose(_image_data(thumbs[0]).sum(1), 1, atol=1e-5)
