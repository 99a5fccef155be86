"""Nadaraya-Watson regression (course_lib.attention.kernel_regression) against the textbook formula."""
import numpy as np
import pytest
from hypothesis import given, strategies as st

from course_lib.attention.kernel_regression import make_1d_data, nadaraya_watson, toy_function


def _brute_force(xq, x, y, width):
    k = np.exp(-((xq[:, None] - x[None, :]) ** 2) / (2 * width**2))
    w = k / k.sum(1, keepdims=True)
    return w @ y, w


@given(st.floats(0.2, 3.0), st.integers(0, 1000))
def test_matches_the_formula(width, seed):
    # Queries inside the data's range and widths >= 0.2, where the textbook formula cannot underflow.
    x, y = make_1d_data(20, seed=seed)
    xq = np.linspace(0, 5, 9)
    pred, w = nadaraya_watson(xq, x, y, width)
    expected_pred, expected_w = _brute_force(xq, x, y, width)
    np.testing.assert_allclose(w, expected_w, atol=1e-10)
    np.testing.assert_allclose(pred, expected_pred, atol=1e-10)


def test_wide_kernel_predicts_the_mean_narrow_kernel_the_nearest_point():
    x, y = make_1d_data(30, seed=1)
    pred_wide, _ = nadaraya_watson(x[:5], x, y, width=1e4)
    np.testing.assert_allclose(pred_wide, y.mean(), atol=1e-6)
    pred_narrow, _ = nadaraya_watson(x[:5], x, y, width=1e-3)
    np.testing.assert_allclose(pred_narrow, y[:5], atol=1e-6)


def test_far_queries_stay_finite():
    x, y = make_1d_data(10)
    pred, w = nadaraya_watson(np.array([1e3]), x, y, width=0.01)
    assert np.all(np.isfinite(pred)) and np.isclose(w.sum(), 1)


def test_data_is_seeded_and_follows_the_curve():
    x1, y1 = make_1d_data(200, noise=0.1, seed=3)
    x2, y2 = make_1d_data(200, noise=0.1, seed=3)
    np.testing.assert_array_equal(y1, y2)
    assert np.all(np.diff(x1) >= 0)
    assert abs(np.std(y1 - toy_function(x1)) - 0.1) < 0.02


@pytest.mark.parametrize("args, error, match", [
    ((np.zeros(3), np.zeros(4), np.zeros(4), 0.0), ValueError, "width must be a finite number > 0"),
    ((np.zeros(3), np.zeros(4), np.zeros(5), 1.0), ValueError, "x_train and y_train must have the same shape"),
    ((np.zeros((3, 1)), np.zeros(4), np.zeros(4), 1.0), ValueError, "x_query must be 1-D"),
])
def test_bad_input(args, error, match):
    with pytest.raises(error, match=match):
        nadaraya_watson(*args)


# ---------------------------------------------------------------- boxcar and Epanechnikov kernels
from course_lib.attention.kernel_regression import KERNELS, kernel_shape  # noqa: E402


@given(st.sampled_from(["boxcar", "epanechnikov"]), st.floats(0.2, 3.0), st.integers(0, 1000))
def test_compact_kernels_match_the_formula(kernel, width, seed):
    x, y = make_1d_data(20, seed=seed)
    xq = np.linspace(0, 5, 9)
    pred, w = nadaraya_watson(xq, x, y, width, kernel=kernel)
    k = kernel_shape((xq[:, None] - x[None, :]) / width, kernel)
    has_data = k.sum(1) > 0
    with np.errstate(invalid="ignore"):           # 0 / 0 in rows without data (not compared)
        expected = k / k.sum(1, keepdims=True)
    np.testing.assert_allclose(w[has_data], expected[has_data], atol=1e-12)
    np.testing.assert_allclose(pred[has_data], (w @ y)[has_data], atol=1e-12)
    assert np.all(w[~has_data] == 0) and np.all(np.isnan(pred[~has_data]))
    assert np.all(w[k == 0] == 0), "outside the window: exactly zero weight"


def test_boxcar_is_the_plain_average_of_the_window():
    x = np.array([0.0, 1.0, 2.0, 3.0, 10.0])
    y = np.array([1.0, 2.0, 4.0, 8.0, 100.0])
    pred, w = nadaraya_watson(np.array([1.5, 6.5]), x, y, width=1.5, kernel="boxcar")
    assert pred[0] == pytest.approx((1 + 2 + 4 + 8) / 4)   # x in [0, 3]
    assert np.isnan(pred[1]) and np.all(w[1] == 0)          # [5, 8] holds no training point


def test_kernel_shapes_peak_at_zero_and_vanish_outside():
    u = np.linspace(-3, 3, 601)
    for kernel in KERNELS:
        k = kernel_shape(u, kernel)
        assert k.max() == 1.0 and k[300] == 1.0 and np.all(k >= 0)
        if kernel != "gaussian":
            assert np.all(k[np.abs(u) > 1] == 0)


def test_unknown_kernel_is_named():
    with pytest.raises(ValueError, match="kernel='tricube' is not one of"):
        nadaraya_watson(np.zeros(2), np.zeros(3), np.zeros(3), 1.0, kernel="tricube")
