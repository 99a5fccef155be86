"""Masks (course_lib.attention.masks): brute-force definitions, shapes, errors, and use with softmax_weights."""
import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st

import course_lib as cl
from course_lib.attention.masks import causal_mask, padding_mask, window_mask, window_mask_2d


@given(st.integers(1, 12))
def test_causal_mask_matches_definition(n):
    m = causal_mask(n)
    assert m.shape == (n, n) and m.dtype == bool
    for i in range(n):
        for j in range(n):
            assert m[i, j] == (j <= i)


@given(st.integers(1, 12), st.integers(0, 5))
def test_window_mask_matches_definition(n, radius):
    m = window_mask(n, radius)
    expected = np.array([[abs(i - j) <= radius for j in range(n)] for i in range(n)])
    np.testing.assert_array_equal(m, expected)


def test_window_mask_2d_matches_definition():
    rows, cols, radius = 4, 5, 1
    m = window_mask_2d(rows, cols, radius)
    for p in range(rows * cols):
        for q in range(rows * cols):
            (pr, pc), (qr, qc) = divmod(p, cols), divmod(q, cols)
            assert m[p, q] == (abs(pr - qr) <= radius and abs(pc - qc) <= radius)


def test_padding_mask_shape_and_values():
    m = padding_mask([3, 1, 0], 4)
    assert m.shape == (3, 1, 4)
    np.testing.assert_array_equal(m[:, 0], [[1, 1, 1, 0], [1, 0, 0, 0], [0, 0, 0, 0]])


def test_padding_gives_zero_weight_and_empty_rows_no_nan():
    scores = np.random.default_rng(0).normal(size=(3, 2, 4))
    w = cl.softmax_weights(scores, mask=padding_mask(np.array([3, 1, 0]), 4))
    assert np.all(w[0, :, 3] == 0) and np.allclose(w[0].sum(-1), 1)
    assert np.allclose(w[1, :, 0], 1)
    assert np.all(w[2] == 0) and np.all(np.isfinite(w))


def test_causal_mask_works_with_torch_scores():
    scores = torch.randn(2, 5, 5, dtype=torch.float64)
    w = cl.softmax_weights(scores, mask=causal_mask(5))
    assert torch.all(w.triu(1) == 0)
    torch.testing.assert_close(w.sum(-1), torch.ones(2, 5, dtype=torch.float64))


def test_every_count_is_checked_by_one_validator_with_one_wording():
    """Positions, heads, images, pixels: one require_count (basics/arrays.py) for every wing, so
    the same mistake reads the same everywhere: TypeError for a non-integer, ValueError below
    the minimum (issue 19: there were four validators with three wordings)."""
    from course_lib.data.marks import two_marks
    from course_lib.data.shapes import clutter_scenes, sequences

    too_small = {"n": [lambda: causal_mask(0), lambda: clutter_scenes(0), lambda: sequences(0),
                       lambda: two_marks(0)],
                 "num_heads": [lambda: cl.MultiHeadAttention(8, 0)]}
    for name, calls in too_small.items():
        for call in calls:
            with pytest.raises(ValueError) as info:
                call()
            assert str(info.value) == f"{name} must be >= 1, got 0"
    for call in (lambda: causal_mask(2.0), lambda: clutter_scenes(2.0), lambda: sequences(True),
                 lambda: two_marks(np.float64(3))):
        with pytest.raises(TypeError, match=r"^n must be an integer >= 1, got (float|bool|float64) "):
            call()
    assert causal_mask(np.int64(3)).shape == (3, 3)        # NumPy integers are integers


@pytest.mark.parametrize("call, match", [
    (lambda: causal_mask(0), "n must be >= 1"),
    (lambda: window_mask(4, -1), "radius must be >= 0"),
    (lambda: padding_mask([5], 4), r"lengths must lie in \[0, n_k=4\]"),
    (lambda: padding_mask([[1, 2]], 4), "lengths must be a 1-D array"),
])
def test_bad_arguments_raise_value_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_non_integer_size_raises_type_error():
    with pytest.raises(TypeError, match="n must be an integer"):
        causal_mask(2.5)


def test_make_mask_names_the_four_masks_of_lesson_02():
    from course_lib.attention.masks import MASK_KINDS, make_mask

    expected = {"none": np.ones((6, 6), dtype=bool),
                "padding": np.broadcast_to(padding_mask(np.array([4]), 6)[0], (6, 6)),
                "causal": causal_mask(6), "local window": window_mask(6, 1)}
    assert set(MASK_KINDS) == set(expected)
    for kind in MASK_KINDS:
        m = make_mask(kind, 6, length=4, radius=1)
        assert m.dtype == bool and m.shape == (6, 6)
        np.testing.assert_array_equal(m, expected[kind])
    with pytest.raises(ValueError, match="kind='diagonal' is not one of MASK_KINDS"):
        make_mask("diagonal", 6, length=4, radius=1)
