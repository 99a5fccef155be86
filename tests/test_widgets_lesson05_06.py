"""Explorers of lesson 06 (lesson 05: test_widgets_lesson05.py), headless: moving a control changes the right artists."""
import numpy as np
import pytest
import torch

from course_lib import models as M
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
    assert "layer 2" in ax_att.get_title()
    e.controls["image"].value = 3
    assert "image 3" in ax_img.get_title()


def test_reach_explorer_uses_given_models():
    torch.manual_seed(1)
    vit = M.TinyViT(image_size=24, patch=4, depth=1)
    e = EXPLORERS["reach_cnn_vs_vit"](vit=vit, cnn=M.TinyCNN(depth=2))
    assert e.figure.axes[0].patches[0].get_width() == 5
    assert "trained ViT" in e.figure.axes[1].get_title()
    assert e.controls["layer"].max == 1
