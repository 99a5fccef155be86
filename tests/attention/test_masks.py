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
