"""Explorers of lessons 05-06, headless: moving a control changes the right artists."""
import numpy as np
import pytest
import torch

from course_lib import models as M
from course_lib.widgets import EXPLORERS


def _image_data(artist):
    return np.array(artist.get_array(), dtype=float)


def test_attention_vs_kernel_scene_changes_map_but_not_kernel():
    e = EXPLORERS["attention_vs_kernel"]()
    ax_img, ax_w, ax_k = e.figure.axes[:3]
    before_img, before_w = _image_data(ax_img.images[0]), _image_data(ax_w.images[0])
    before_k = _image_data(ax_k.images[0])
    e.controls["scene"].value = 5
    assert not np.array_equal(_image_data(ax_img.images[0]), before_img)
    assert not np.array_equal(_image_data(ax_w.images[0]), before_w)
    np.testing.assert_array_equal(_image_data(ax_k.images[0]), before_k)  # the kernel is fixed
    w = _image_data(ax_w.images[0])
    assert np.isclose(w.sum(), 1.0)


def test_attention_vs_kernel_temperature_flattens():
    e = EXPLORERS["attention_vs_kernel"]()
    ax_w = e.figure.axes[1]
    e.controls["temperature"].value = 5.0   # a FloatLogSlider: .value is the temperature
    hot = _image_data(ax_w.images[0]).max()
    e.controls["temperature"].value = 0.2
    cold = _image_data(ax_w.images[0]).max()
    assert hot < cold


def test_attention_vs_kernel_accepts_a_model():
    torch.manual_seed(0)
    e = EXPLORERS["attention_vs_kernel"](M.AttentionPoolClassifier())
    assert _image_data(e.figure.axes[1].images[0]).shape == (12, 12)
    assert "trained" in e.figure.axes[1].get_title()


def test_video_attention_step_and_clip():
    e = EXPLORERS["video_attention"]()
    ax_frame, ax_sp, ax_t = e.figure.axes[:3]
    heights = [b.get_height() for b in ax_t.patches]
    np.testing.assert_allclose(sum(heights), 1.0, rtol=1e-5)
    frame = _image_data(ax_frame.images[0])
    e.controls["step"].value = e.controls["step"].max  # after the burst: the object has moved
    assert not np.array_equal(_image_data(ax_frame.images[0]), frame)
    # the highlighted bar follows the step
    colours = [tuple(b.get_facecolor()) for b in ax_t.patches]
    assert colours[-1] != colours[0]
    e.controls["clip"].value = 3
    new_heights = [b.get_height() for b in ax_t.patches]
    assert not np.allclose(new_heights, heights)
    assert "steps with motion" in ax_t.get_title()


def test_video_attention_accepts_a_model():
    torch.manual_seed(0)
    e = EXPLORERS["video_attention"](M.VideoAttentionClassifier(dim=8))
    e.controls["step"].value = 2
    assert "trained" in e.figure.axes[1].get_title()
