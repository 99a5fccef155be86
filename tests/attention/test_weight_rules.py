"""course_lib.attention.weight_rules: entropy, hard, top-k and sparsemax weights against brute force."""
import itertools

import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st
from hypothesis.extra.numpy import arrays

import course_lib as cl
from course_lib.attention.weight_rules import entropy, hard_weights, sparsemax, topk_weights

finite = st.floats(-50, 50, allow_nan=False)
score_rows = arrays(np.float64, st.tuples(st.integers(1, 4), st.integers(1, 7)), elements=finite)


def test_entropy_known_values():
    w = np.array([[1.0, 0, 0, 0], [0.25, 0.25, 0.25, 0.25], [0.5, 0.5, 0, 0]])
    np.testing.assert_allclose(entropy(w), [0.0, np.log(4), np.log(2)])


def test_entropy_torch_in_torch_out_and_gradient_finite():
    w = torch.tensor([[0.0, 0.3, 0.7]], requires_grad=True)
    h = entropy(w)
    assert isinstance(h, torch.Tensor) and h.shape == (1,)
    h.sum().backward()
    assert torch.all(torch.isfinite(w.grad))


@given(score_rows)
def test_entropy_between_zero_and_log_n(scores):
    h = entropy(cl.softmax_weights(scores))
    assert np.all(h >= -1e-12) and np.all(h <= np.log(scores.shape[-1]) + 1e-9)


@given(score_rows)
def test_hard_weights_one_hot_on_argmax(scores):
    w = hard_weights(scores)
    assert np.all(w.sum(-1) == 1)
    np.testing.assert_array_equal(w.argmax(-1), scores.argmax(-1))


@given(score_rows, st.data())
def test_topk_weights_against_brute_force(scores, data):
    k = data.draw(st.integers(1, scores.shape[-1]))
    w = topk_weights(scores, k)
    for row, w_row in zip(scores, w):
        top = np.argsort(-row, kind="stable")[:k]
        e = np.exp(row[top] - row[top].max())
        expected = np.zeros_like(row)
        expected[top] = e / e.sum()
        if len(np.unique(row)) == len(row):   # with ties the chosen top-k set may differ
            np.testing.assert_allclose(w_row, expected, atol=1e-12)
        assert np.count_nonzero(w_row) <= k and np.isclose(w_row.sum(), 1)


def test_topk_with_k_equal_n_is_softmax():
    s = np.random.default_rng(0).normal(size=(3, 5))
    np.testing.assert_allclose(topk_weights(s, 5), cl.softmax_weights(s))


def test_topk_bad_k():
    with pytest.raises(ValueError, match=r"k must be an integer in \[1, n_k=3\]"):
        topk_weights(np.zeros((2, 3)), 4)


def _sparsemax_brute_force(z):
    # Euclidean projection onto the simplex by trying every support set (tiny n only).
    best, best_dist = None, np.inf
    n = len(z)
    for size in range(1, n + 1):
        for support in itertools.combinations(range(n), size):
            idx = list(support)
            tau = (z[idx].sum() - 1) / size
            p = np.zeros(n)
            p[idx] = z[idx] - tau
            if np.all(p >= -1e-12):
                dist = ((p - z) ** 2).sum()
                if dist < best_dist:
                    best, best_dist = np.clip(p, 0, None), dist
    return best


@settings(max_examples=60)
@given(arrays(np.float64, st.integers(1, 5), elements=st.floats(-3, 3)))
def test_sparsemax_is_the_projection_onto_the_simplex(z):
    np.testing.assert_allclose(sparsemax(z), _sparsemax_brute_force(z), atol=1e-9)


def test_sparsemax_batched_and_has_exact_zeros():
    s = np.array([[[3.0, 0.0, -1.0], [0.1, 0.2, 0.3]]])
    w = sparsemax(s)
    assert w.shape == s.shape
    np.testing.assert_allclose(w.sum(-1), 1)
    assert w[0, 0, 1] == 0 and w[0, 0, 2] == 0
