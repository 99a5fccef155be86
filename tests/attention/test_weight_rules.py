"""course_lib.attention.weight_rules (lesson 02): entropy, hard, top-k and sparsemax weights against
brute force; every rule takes (scores, temperature, mask) with softmax_weights' meaning."""
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
    w = topk_weights(scores, k=k)
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
    np.testing.assert_allclose(topk_weights(s, k=5), cl.softmax_weights(s))


def test_topk_bad_k():
    with pytest.raises(ValueError, match=r"k must be an integer in \[1, n_k=3\]"):
        topk_weights(np.zeros((2, 3)), k=4)


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


# ---------------------------------------------------------------- (scores, temperature, mask)
E = np.e
RULES = {"softmax": cl.softmax_weights,
         "top-2": lambda s, t=1.0, m=None: topk_weights(s, t, m, k=min(2, s.shape[-1])),
         "sparsemax": sparsemax, "argmax": hard_weights}


def test_temperature_hand_worked_for_each_rule():
    s = np.array([2.0, 1.0, 0.0, -1.0])
    # top-2: the softmax of s / T over the two best keys
    np.testing.assert_allclose(topk_weights(s, k=2), [E / (E + 1), 1 / (E + 1), 0, 0])
    r = np.exp(0.5)                                      # T = 2: the gap of 1 becomes 1/2
    np.testing.assert_allclose(topk_weights(s, 2.0, k=2), [r / (r + 1), 1 / (r + 1), 0, 0])
    # sparsemax of s / T: T = 1 keeps one key; T = 4 gives z = (0.5, 0.25, 0, -0.25), support
    # of 3 keys with tau = (0.75 - 1) / 3, weights z - tau = (7, 4, 1, 0) / 12
    np.testing.assert_allclose(sparsemax(s), [1, 0, 0, 0])
    np.testing.assert_allclose(sparsemax(s, 4.0), np.array([7, 4, 1, 0]) / 12)
    np.testing.assert_allclose(sparsemax(s, temperature=4.0).sum(), 1.0)
    # argmax: dividing by any T > 0 keeps the order, so the temperature changes nothing
    for t in (1e-3, 1.0, 1e3):
        np.testing.assert_array_equal(hard_weights(s, t), [1, 0, 0, 0])


def test_mask_hand_worked_for_each_rule():
    s = np.array([[2.0, 1.0, 0.0, -1.0],
                  [2.0, 1.0, 0.0, -1.0],
                  [2.0, 1.0, 0.0, -1.0]])
    mask = np.array([[False, True, True, True],            # the best key is blocked
                     [False, False, False, True],          # one allowed key: fewer than k
                     [False, False, False, False]])        # nothing allowed: zeros, not NaN
    np.testing.assert_array_equal(hard_weights(s, mask=mask), [[0, 1, 0, 0], [0, 0, 0, 1], [0, 0, 0, 0]])
    np.testing.assert_allclose(topk_weights(s, mask=mask, k=2),
                               [[0, E / (E + 1), 1 / (E + 1), 0], [0, 0, 0, 1], [0, 0, 0, 0]])
    # sparsemax over the allowed keys (1, 0, -1): 1 - 0 > 1 ends the support at one key
    np.testing.assert_allclose(sparsemax(s, mask=mask), [[0, 1, 0, 0], [0, 0, 0, 1], [0, 0, 0, 0]])
    # with T = 4 the allowed keys become (0.25, 0, -0.25): weights (2/3 + ..) = (7, 4, 1) / 12
    np.testing.assert_allclose(sparsemax(s, 4.0, mask)[0], np.array([0, 7, 4, 1]) / 12)
    np.testing.assert_allclose(cl.softmax_weights(s, mask=mask)[2], 0)


def test_every_rule_takes_the_same_three_arguments_and_torch():
    s = torch.tensor([[0.3, -1.0, 2.0], [1.0, 1.5, -0.5]], requires_grad=True)
    mask = torch.tensor([[True, True, False], [True, True, True]])
    for name, rule in RULES.items():
        w = rule(s, 0.5, mask)
        assert isinstance(w, torch.Tensor) and w.shape == s.shape, name
        assert torch.equal(w[0, 2], torch.tensor(0.0, dtype=w.dtype)), name
        torch.testing.assert_close(w.sum(-1), torch.ones(2, dtype=w.dtype), msg=name)


@pytest.mark.parametrize("call, kind, words", [
    (lambda: topk_weights(np.zeros(3), 2), TypeError, ["k"]),          # k is keyword-only
    (lambda: sparsemax(np.zeros(3), 0.0), ValueError, ["temperature", "> 0"]),
    (lambda: hard_weights(np.zeros(3), -1.0), ValueError, ["temperature"]),
    (lambda: topk_weights(np.zeros(3), "hot", k=1), TypeError, ["temperature", "str"]),
    (lambda: sparsemax(np.zeros((2, 3)), mask=np.ones((3, 2), bool)), ValueError, ["mask", "(3, 2)"]),
    (lambda: hard_weights(np.zeros(3), mask=np.ones(3)), TypeError, ["mask", "boolean"]),
])
def test_bad_temperature_mask_and_k_are_named(call, kind, words):
    with pytest.raises(kind) as info:
        call()
    for word in words:
        assert word in str(info.value), f"{word!r} missing from: {info.value}"


# Scores on a grid of 1/8 (and shifts too): s + c is exact, so the ranking cannot change by
# rounding and argmax / top-k must pick the same keys after a shift.
eighths = st.integers(-400, 400).map(lambda i: i / 8)
grid_rows = arrays(np.float64, st.tuples(st.integers(1, 3), st.integers(1, 6)), elements=eighths)
temperatures = st.sampled_from([0.05, 0.5, 1.0, 3.0, 100.0])


@settings(max_examples=80, deadline=None)
@given(grid_rows, temperatures, st.sampled_from(sorted(RULES)), st.data())
def test_every_rule_gives_weights_on_allowed_keys(scores, temperature, name, data):
    """Non-negative, 0 where blocked, summing to 1 on a row with an allowed key and to 0 on a
    row without one; for every rule, temperature and mask."""
    mask = data.draw(arrays(np.bool_, scores.shape))
    w = RULES[name](scores, temperature, mask)
    assert w.shape == scores.shape and np.all(w >= 0) and np.all(w[~mask] == 0)
    sums = w.sum(-1)
    np.testing.assert_allclose(sums[mask.any(-1)], 1.0, atol=1e-9)
    np.testing.assert_array_equal(sums[~mask.any(-1)], 0.0)


@settings(max_examples=80, deadline=None)
@given(grid_rows, temperatures, st.sampled_from(sorted(RULES)), eighths, st.data())
def test_every_rule_ignores_a_constant_shift_of_a_row(scores, temperature, name, shift, data):
    """Adding one number to a row changes no weight: only differences between scores count
    (true of softmax, top-k, sparsemax and argmax alike)."""
    mask = data.draw(st.one_of(st.none(), arrays(np.bool_, scores.shape)))
    before = RULES[name](scores, temperature, mask)
    after = RULES[name](scores + shift, temperature, mask)
    np.testing.assert_allclose(after, before, atol=1e-9)


@settings(max_examples=60, deadline=None)
@given(grid_rows, temperatures, st.sampled_from(sorted(RULES)), st.data())
def test_temperature_means_dividing_the_scores(scores, temperature, name, data):
    """rule(scores, T, mask) == rule(scores / T, 1, mask): the temperature has one meaning, and
    a caller (the lesson 02 explorer) passes it on instead of dividing by it itself."""
    mask = data.draw(st.one_of(st.none(), arrays(np.bool_, scores.shape)))
    np.testing.assert_allclose(RULES[name](scores, temperature, mask),
                               RULES[name](scores / temperature, 1.0, mask), atol=1e-9)
