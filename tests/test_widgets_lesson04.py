"""Headless tests of the lesson 04 explorer: set each control's .value, check the right artists."""
import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest

from course_lib.filters import bilateral_weights, gaussian_weights, nl_means_weights
from course_lib.widgets import EXPLORERS

from _artists import assert_control_updates
from course_lib.widgets.lesson04 import CROP, crop_around, demo_image


# animated = [pixel marker, crop box, Gaussian map, bilateral map, NL-means map, 3 titles]
MARKERS, GAUSS, BILAT, NLM = [0, 1], [2, 5], [3, 6], [4, 7]
SPEC = {
    # moving an interior pixel leaves the Gaussian map as it is: fixed weights, the lesson
    "row": (20, MARKERS + BILAT + NLM, GAUSS),
    "col": (100, MARKERS + BILAT + NLM, GAUSS),
    "sigma": (3.0, GAUSS + BILAT, MARKERS + NLM),
    "sigma_color": (0.05, BILAT, MARKERS + GAUSS + NLM),
    "h": (0.05, NLM, MARKERS + GAUSS + BILAT),
    "search_radius": (4, NLM, MARKERS + GAUSS + BILAT),
}


def test_every_control_is_tested():
    explorer = EXPLORERS["filter_weights"]()
    assert set(explorer.controls) == set(SPEC)
    assert len(explorer.animated) == 8


@pytest.mark.parametrize("control", list(SPEC))
def test_setting_a_control_updates_the_right_artists(control):
    value, must, must_not = SPEC[control]
    assert_control_updates(EXPLORERS["filter_weights"](), control, value, must, must_not)


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
        shown = np.asarray(artist.get_array())
        assert shown.shape == (2 * CROP + 1, 2 * CROP + 1)
        np.testing.assert_allclose(shown, np.nan_to_num(crop_around(wmap, 3, 120)))
        assert shown.sum() == pytest.approx(1.0)      # the whole window fits in the crop
    np.testing.assert_allclose(explorer.animated[0].get_xydata(), [[120, 3]])
    # at the corner the Gaussian map is cut and renormalised, so it differs from the interior one
    assert np.asarray(explorer.animated[2].get_array()).max() > gaussian_weights(
        noisy, (64, 64), 1.5).max()
