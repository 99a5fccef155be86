"""Lesson 05 explorers, headless: moving a control changes the right artists, in place."""
import numpy as np
import pytest
import torch

from course_lib.experiments import clutter, video
from course_lib.widgets import EXPLORERS


def _data(artist):
    return np.array(artist.get_array(), dtype=float)


@pytest.fixture(scope="module")
def trained_ink_model():
    # the ink rule needs no training to put its weight somewhere definite
    torch.manual_seed(0)
    return clutter.ClutterClassifier(pooling="ink")


def test_cluttered_digit_image_moves_map_box_and_bars():
    e = EXPLORERS["cluttered_digit"]()
    ax_img, ax_w, ax_p = e.figure.axes[:3]
    artists = (ax_img.images[0], ax_w.images[0])
    before = [_data(a) for a in artists]
    box_before = ax_img.patches[0].get_xy()
    heights = [b.get_height() for b in ax_p.patches]
    np.testing.assert_allclose(sum(heights), 1.0, rtol=1e-5)
    e.controls["image"].value = 7
    assert artists[0] is ax_img.images[0] and artists[1] is ax_w.images[0]   # updated in place
    assert all(not np.array_equal(_data(a), b) for a, b in zip(artists, before))
    assert ax_img.patches[0].get_xy() != box_before
    assert [b.get_height() for b in ax_p.patches] != heights
    assert "UNTRAINED" in ax_w.get_title() and "true class" in ax_p.get_title()
    assert "Canvas 7: attention on the digit: " in e.readout.value     # this canvas's numbers
    assert f"True class {int(_true_class(e))} (dark bar)" in e.readout.value


def _true_class(e):
    """The true class of the canvas shown: the one dark bar."""
    colours = [tuple(b.get_facecolor()) for b in e.figure.axes[2].patches]
    return min(range(10), key=lambda k: colours.count(colours[k]))


def test_cluttered_digit_shows_the_given_model_and_its_box_mass(trained_ink_model):
    _, pool = clutter.digit_pools()
    test = clutter.cluttered_digits(pool, 10, n_fragments=4, fragment=4, seed=5)
    e = EXPLORERS["cluttered_digit"](trained_ink_model, test)
    e.controls["image"].value = 3
    ax_w = e.figure.axes[1]
    assert ax_w.get_title().startswith("attention of the trained model")
    # the title's mass is the map's sum over the digit's box: the ink rule puts all its weight
    # on one 8 x 8 window, so the mass is the overlap of that window with the box, over 64
    r, c = test[2][3, :2].tolist()
    weights = trained_ink_model(test[0][3:4])[1][0]
    wr, wc = divmod(int(weights.argmax()), weights.shape[-1])
    overlap = max(0, 8 - abs(wr - r)) * max(0, 8 - abs(wc - c)) / 64
    assert f"on the digit: {overlap:.2f} " in e.readout.value


def test_digit_video_step_and_clip():
    e = EXPLORERS["digit_video"]()
    ax_frame, ax_sp, ax_t = e.figure.axes[:3]
    heights = [b.get_height() for b in ax_t.patches]
    np.testing.assert_allclose(sum(heights), 1.0, rtol=1e-5)
    frame, weights = _data(ax_frame.images[0]), _data(ax_sp.images[0])
    e.controls["step"].value = e.controls["step"].max
    assert not np.array_equal(_data(ax_sp.images[0]), weights)
    colours = [tuple(b.get_facecolor()) for b in ax_t.patches]
    assert colours[-1] != colours[0]                     # the highlighted bar follows the step
    e.controls["clip"].value = 3
    assert not np.array_equal(_data(ax_frame.images[0]), frame)
    assert not np.allclose([b.get_height() for b in ax_t.patches], heights)
    assert "UNTRAINED" in ax_sp.get_title() and "Clip 3, frame " in e.readout.value
    motion = e.figure.axes[2].lines[0].get_ydata()                 # the marks: steps with motion
    on_motion = sum(b.get_height() for b, m in zip(ax_t.patches, motion) if np.isfinite(m))
    assert f"steps with motion: {on_motion:.2f}." in e.readout.value


def test_digit_video_accepts_a_model_and_data():
    _, pool = clutter.digit_pools()
    test = video.digit_videos(pool, 4, seed=2)
    torch.manual_seed(1)
    e = EXPLORERS["digit_video"](video.VideoAttention(), test)
    e.controls["clip"].value = 2
    e.controls["step"].value = 2
    assert e.figure.axes[1].get_title().startswith("spatial weights, trained")
    assert "Clip 2, frame 2:" in e.readout.value
    r, c = test[2][2, 2, :2].tolist()
    assert e.figure.axes[0].patches[0].get_xy() == (c - 0.5, r - 0.5)   # the moving digit's box
