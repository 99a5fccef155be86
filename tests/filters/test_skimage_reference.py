"""Our step-by-step rebuild of scikit-image's NL-means and bilateral filter equals scikit-image
(0.26) at the lesson's settings and others; with every switch off it is the course's filter."""
import numpy as np
import pytest
from skimage.restoration import denoise_bilateral, denoise_nl_means

import course_lib as cl
from course_lib.filters import skimage_reference as ref
from course_lib.data.examples import demo_image

TEXTBOOK_NLM = dict(block="centred", divide="mean", cutoff=False, fast_exp=False, border="inside")
TEXTBOOK_BILATERAL = dict(border="inside", colour_table=False, spatial_table_misread=False)


@pytest.fixture(scope="module")
def noisy():
    return demo_image()[1]                     # the lesson's 128 x 128 noisy cameraman


def test_nl_means_at_the_lessons_settings(noisy):
    ours = ref.nl_means(noisy, patch_size=3, patch_distance=5, h=0.12)
    theirs = denoise_nl_means(noisy, patch_size=3, patch_distance=5, h=0.12, fast_mode=True)
    diff = np.abs(ours - theirs)
    # Floating precision, except where scikit-image's integral-image rounding (~1e-12 in a
    # distance) tips the truncation inside its approximate exp: 2 of 16,384 pixels, by 3e-10.
    assert diff.max() < 1e-9
    assert np.mean(diff < 1e-14) > 0.999


@pytest.mark.parametrize("s,d,h", [(4, 5, 0.09), (5, 3, 0.1), (3, 2, 0.3), (7, 4, 0.05)])
def test_nl_means_at_other_settings(noisy, s, d, h):
    ours = ref.nl_means(noisy, s, d, h)
    theirs = denoise_nl_means(noisy, patch_size=s, patch_distance=d, h=h, fast_mode=True)
    assert np.abs(ours - theirs).max() < 1e-9


def test_nl_means_colour(noisy):
    colour = np.stack([noisy, noisy[::-1], noisy.T])[:, :40, :48]
    theirs = denoise_nl_means(np.moveaxis(colour, 0, -1), patch_size=3, patch_distance=4, h=0.1,
                              channel_axis=-1)
    assert np.abs(ref.nl_means(colour, 3, 4, 0.1) - np.moveaxis(theirs, -1, 0)).max() < 1e-9


@pytest.mark.parametrize("pr,sr", [(1, 5), (2, 3)])
def test_nl_means_with_every_switch_off_is_the_course_filter(noisy, pr, sr):
    ours = ref.nl_means(noisy, 2 * pr + 1, sr, 0.12, **TEXTBOOK_NLM)
    np.testing.assert_allclose(ours, cl.nl_means(noisy, 0.12, pr, sr), atol=1e-12)


def test_schraudolph_exp_is_a_few_percent_off():
    y = np.linspace(-5, 0, 201)
    fast = ref.schraudolph_exp(y)
    assert ref.schraudolph_exp(0.0) == pytest.approx(0.97100782, abs=1e-8)
    error = fast / np.exp(y) - 1
    assert -0.04 < error.min() < -0.03 and 0.015 < error.max() < 0.025     # -4 % to +2 %


@pytest.mark.parametrize("win,s_c,s_sp", [(13, 0.2, 2.0), (3, 10.0, 1.0), (5, 0.1, 1.5),
                                          (None, 0.3, 1.0)])
def test_bilateral_is_reproduced_exactly(noisy, win, s_c, s_sp):
    ours = ref.bilateral(noisy, win, s_c, s_sp)
    theirs = denoise_bilateral(noisy, win_size=win, sigma_color=s_c, sigma_spatial=s_sp)
    assert np.abs(ours - theirs).max() < 1e-14


def test_bilateral_with_every_switch_off_is_the_course_filter(noisy):
    ours = ref.bilateral(noisy, 13, 0.2, 2.0, **TEXTBOOK_BILATERAL)
    np.testing.assert_allclose(ours, cl.bilateral_filter(noisy, 2.0, 0.2), atol=1e-12)


def test_the_spatial_table_bug_shows_on_an_impulse():
    """The smallest reproduction: a single bright pixel. With a flat colour term the output
    around it is the spatial weights, mirrored. scikit-image 0.26 gives the pixel itself less
    weight than a diagonal neighbour, exactly as its table is misread."""
    impulse = np.zeros((5, 5))
    impulse[2, 2] = 1.0
    response = denoise_bilateral(impulse, win_size=3, sigma_color=100.0, sigma_spatial=1.0)
    used = response[1:4, 1:4][::-1, ::-1]
    used = used / used.sum()
    misread = ref.spatial_weights_used(3, 1.0)
    np.testing.assert_allclose(used, misread / misread.sum(), atol=1e-4)
    assert used[1, 1] < used.max() / 5                          # the centre is not the peak
    gauss = cl.bilateral_filter(impulse, 1.0, 100.0, radius=1)[1:4, 1:4][::-1, ::-1]
    assert gauss[1, 1] == gauss.max()                            # the course's filter: it is
    # the table has (w+1)^2 entries for a w x w window
    assert ref.spatial_table(13, 2.0).size == 14 * 14
