"""Headless tests of the lesson 04 explorers: set each control's .value, check the right artists
changed, and that what they draw is the library's numbers."""
import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from course_lib.locality.conv_attention import conv2d_as_attention, head_maps
from course_lib.filters import bilateral_weights, gaussian_weights, nl_means_weights
from course_lib.widgets import EXPLORERS

from helpers.artists import assert_control_updates
from course_lib.data.examples import demo_image
from course_lib.plotting import CROP, crop_around
from course_lib.widgets.lesson04 import LAPLACIAN, QUERY, VIEW, separable_heads

# filter_weights: animated = [marker, box, 3 maps (G, B, N), 2 notes (B, N), 3 centre squares]
MARKERS, GAUSS, BILAT, NLM, CENTRES = [0, 1], [2], [3, 5], [4, 6], [7, 8, 9]
SPEC = {
    # moving an interior pixel leaves the Gaussian map as it is: fixed weights, the lesson
    "row": (20, MARKERS + BILAT + NLM, GAUSS + CENTRES),
    "col": (100, MARKERS + BILAT + NLM, GAUSS + CENTRES),
    "sigma": (3.0, GAUSS + BILAT, MARKERS + NLM + CENTRES),
    "sigma_color": (0.05, BILAT, MARKERS + GAUSS + NLM + CENTRES),
    "h": (0.05, NLM, MARKERS + GAUSS + BILAT + CENTRES),
    "search_radius": (3, NLM, MARKERS + GAUSS + BILAT + CENTRES),
}
# conv_as_attention: [grid, selected box, head map, target key, head note, output, output note,
# query marker]
CONV_SPEC = {
    "alpha": (10.0, [0, 2, 4, 5, 6], [1, 3, 7]),
    "head": (4, [1, 2, 3], [0, 5, 6, 7]),      # every head gives p + d the same weight: 4 stays
}


def test_every_control_is_tested():
    explorer = EXPLORERS["filter_weights"]()
    assert set(explorer.controls) == set(SPEC)
    assert len(explorer.animated) == 10
    explorer = EXPLORERS["conv_as_attention"]()
    assert set(explorer.controls) == set(CONV_SPEC)
    assert len(explorer.animated) == 8


@pytest.mark.parametrize("control", list(SPEC))
def test_filter_weights_updates_the_right_artists(control):
    value, must, must_not = SPEC[control]
    assert_control_updates(EXPLORERS["filter_weights"](), control, value, must, must_not)


@pytest.mark.parametrize("control", list(CONV_SPEC))
def test_conv_as_attention_updates_the_right_artists(control):
    value, must, must_not = CONV_SPEC[control]
    assert_control_updates(EXPLORERS["conv_as_attention"](), control, value, must, must_not)


def test_maps_are_the_library_weights_around_the_pixel():
    _, noisy = demo_image()
    explorer = EXPLORERS["filter_weights"]()
    c = explorer.controls
    c["row"].value, c["col"].value = 3, 120          # near a corner: the crop sticks out
    c["sigma"].value, c["sigma_color"].value = 1.5, 0.2
    c["h"].value, c["search_radius"].value = 0.1, 6
    expected = [
        gaussian_weights(noisy, (3, 120), 1.5),
        bilateral_weights(noisy, (3, 120), 1.5, 0.2),
        nl_means_weights(noisy, (3, 120), 0.1, 1, 6),
    ]
    for artist, wmap in zip(explorer.animated[2:5], expected):
        shown = np.asarray(artist.get_array().filled(np.nan), dtype=float)
        assert shown.shape == (2 * CROP + 1, 2 * CROP + 1)
        np.testing.assert_allclose(np.nan_to_num(shown), np.nan_to_num(crop_around(wmap, 3, 120)))
        assert np.all(np.isnan(shown) == (np.nan_to_num(crop_around(wmap, 3, 120)) == 0))
        assert np.nansum(shown) == pytest.approx(1.0)      # the whole window fits in the crop
    np.testing.assert_allclose(explorer.animated[0].get_xydata(), [[120, 3]])
    # the 'moved' share of the bilateral map is measured against the Gaussian of the same sigma
    assert "moved" in explorer.animated[5].get_text()


@pytest.mark.parametrize("alpha", [0.3, 2.0])
def test_separable_heads_are_the_heads_of_conv2d_as_attention(alpha):
    rng = np.random.default_rng(0)
    image = rng.random((6, 7))
    rows, cols, outputs = separable_heads(image, alpha)
    maps = head_maps(6, 7, 3, (2, 5), sharpness=alpha)                 # (9, 8, 9)
    torch.testing.assert_close(torch.einsum("ky,kx->kyx", rows[:, 2], cols[:, 5]), maps)
    out = torch.einsum("k,khw->hw", torch.from_numpy(LAPLACIAN.ravel()), outputs)
    ref = conv2d_as_attention(image[None], LAPLACIAN[None, None], sharpness=alpha)[0]
    np.testing.assert_allclose(out.numpy(), ref, atol=1e-12)


def test_conv_explorer_draws_the_heads_and_converges_to_the_convolution():
    explorer = EXPLORERS["conv_as_attention"]()
    explorer.controls["alpha"].value = 100.0
    head = np.asarray(explorer.animated[2].get_array())
    dy, dx = -1, 1                                           # the default head, index 2
    assert explorer.controls["head"].value == 2
    assert head[VIEW + dy, VIEW + dx] == pytest.approx(1.0)
    note = explorer.animated[6].get_text()
    assert float(note.split()[-1]) < 1e-12
    explorer.controls["alpha"].value = 0.1
    assert float(explorer.animated[6].get_text().split()[-1]) > 0.1
    assert QUERY == (8, 8)
