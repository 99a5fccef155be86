"""The filters as query x key matrices equal the streaming filters of course_lib.filters."""
import numpy as np
import pytest

import course_lib as cl
from course_lib.filters import matrices as fm


@pytest.fixture(scope="module")
def image():
    return np.random.default_rng(3).random((9, 11))


@pytest.mark.parametrize("pr,sr", [(1, 2), (1, 5), (2, 3)])
def test_nl_means_matrix_equals_nl_means_and_its_weight_maps(image, pr, sr):
    out, weights = fm.nl_means_matrix(image, 0.2, pr, sr)
    np.testing.assert_allclose(out, cl.nl_means(image, 0.2, pr, sr), atol=1e-12)
    h, w = image.shape
    for row, col in [(0, 0), (4, 5), (8, 10), (2, 9)]:
        expected = cl.nl_means_weights(image, (row, col), 0.2, pr, sr).ravel()
        np.testing.assert_allclose(weights[row * w + col], expected, atol=1e-12)
    np.testing.assert_allclose(weights.sum(-1), 1.0)


def test_nl_means_at_one_pixel_is_one_row(image):
    out, _ = fm.nl_means_matrix(image, 0.2, 1, 3)
    for pixel in [(0, 0), (4, 5), (8, 10)]:
        assert float(fm.nl_means_at(image, pixel, 0.2, 1, 3)) == pytest.approx(out[pixel], abs=1e-12)
    assert float(fm.nl_means_at(image, (4, 5), 0.2)) == pytest.approx(fm.nl_means_matrix(image, 0.2)[0][4, 5])


def test_global_nl_means_is_the_widest_window(image):
    out, weights = fm.nl_means_matrix(image, 0.2)
    np.testing.assert_allclose(out, cl.nl_means(image, 0.2, 1, max(image.shape)), atol=1e-12)
    assert np.all(weights > 0)                                # every key, for every query


def test_gaussian_matrix_rows_are_the_gaussian_weight_maps(image):
    g = fm.gaussian_matrix(*image.shape, 1.0)
    for row, col in [(0, 0), (4, 5)]:
        np.testing.assert_allclose(g[row * image.shape[1] + col],
                                   cl.gaussian_weights(image, (row, col), 1.0).ravel(), atol=1e-15)


def test_moved_weight():
    uniform = np.full(4, 0.25)
    assert fm.moved_weight(uniform, uniform) == 0
    assert fm.moved_weight(np.array([1.0, 0, 0, 0]), uniform) == pytest.approx(0.75)
    assert fm.moved_weight(np.array([1.0, 0]), np.array([0, 1.0])) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="same shape"):
        fm.moved_weight(uniform, np.ones(3) / 3)


def test_errors_name_the_argument():
    with pytest.raises(ValueError, match=r"image must be a grayscale image of shape \(H, W\)"):
        fm.nl_means_matrix(np.zeros((3, 4, 4)), 0.1)
