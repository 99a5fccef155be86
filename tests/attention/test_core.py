"""The three steps of attention, against hand-worked cases and torch's own implementations."""
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import course_lib as cl


# ---------------------------------------------------------------- hand-worked small cases
def test_similarity_hand_worked():
    q = np.array([[1.0, 2.0, 2.0, 0.0]])  # |q| = 3, d = 4
    k = np.array([[1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 1.0, 0.0], [-1.0, -2.0, -2.0, 0.0]])
    assert np.allclose(cl.similarity(q, k, "dot"), [[1.0, 4.0, -9.0]])
    assert np.allclose(cl.similarity(q, k, "scaled_dot"), [[0.5, 2.0, -4.5]])  # / sqrt(4)
    assert np.allclose(cl.similarity(q, k, "cosine"),
                       [[1 / 3, 4 / (3 * math.sqrt(2)), -1.0]])
    # |q - k|^2: (0+4+4) = 8, (1+1+1) = 3, (4+16+16) = 36
    assert np.allclose(cl.similarity(q, k, "neg_sq_euclidean"), [[-8.0, -3.0, -36.0]])


def test_softmax_hand_worked():
    w = cl.softmax_weights(np.array([0.0, math.log(3.0)]))
    assert np.allclose(w, [0.25, 0.75])
    w = cl.softmax_weights(np.array([0.0, math.log(3.0)]), temperature=0.5)  # exp(2 log 3) = 9
    assert np.allclose(w, [0.1, 0.9])


def test_attend_hand_worked():
    q = np.array([[0.0, 0.0]])  # all scores 0 -> uniform weights -> plain mean of the values
    k = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [2.0, 2.0]])
    v = np.array([[1.0], [2.0], [3.0], [6.0]])
    out, w = cl.attend(q, k, v)
    assert np.allclose(w, 0.25) and np.allclose(out, [[3.0]])


def test_cosine_of_zero_vector_is_zero_not_nan():
    s = cl.similarity(np.zeros((1, 3)), np.ones((2, 3)), "cosine")
    assert np.array_equal(s, np.zeros((1, 2)))


def test_neg_sq_euclidean_equals_expanded_dot_product():
    rng = np.random.default_rng(0)
    q, k = rng.normal(size=(5, 7)), rng.normal(size=(6, 7))
    brute = -((q[:, None, :] - k[None, :, :]) ** 2).sum(-1)
    assert np.allclose(cl.similarity(q, k, "neg_sq_euclidean"), brute)
    # the identity the lesson teaches: -|q-k|^2 = 2 q.k - |q|^2 - |k|^2
    expanded = 2 * q @ k.T - (q**2).sum(-1)[:, None] - (k**2).sum(-1)[None, :]
    assert np.allclose(brute, expanded)


# ---------------------------------------------------------------- NumPy / torch / batches
def test_numpy_in_numpy_out_torch_in_torch_out():
    q = np.ones((2, 3))
    assert isinstance(cl.similarity(q, q), np.ndarray)
    assert isinstance(cl.softmax_weights(q), np.ndarray)
    out, w = cl.attend(q, q, q)
    assert isinstance(out, np.ndarray) and isinstance(w, np.ndarray)
    t = torch.ones(2, 3)
    out, w = cl.attend(t, t, t)
    assert isinstance(out, torch.Tensor) and isinstance(w, torch.Tensor)


def test_leading_batch_dimensions_broadcast():
    rng = np.random.default_rng(1)
    q = rng.normal(size=(2, 3, 4, 8))
    k = rng.normal(size=(3, 5, 8))       # broadcasts over the first batch dimension
    v = rng.normal(size=(1, 3, 5, 6))
    out, w = cl.attend(q, k, v)
    assert out.shape == (2, 3, 4, 6) and w.shape == (2, 3, 4, 5)
    for i in range(2):
        for j in range(3):
            o, ww = cl.attend(q[i, j], k[j], v[0, j])
            assert np.allclose(out[i, j], o) and np.allclose(w[i, j], ww)


def test_gradients_flow_through_attend():
    q, k, v = (torch.randn(2, 4, 8, requires_grad=True) for _ in range(3))
    mask = torch.tril(torch.ones(4, 4, dtype=torch.bool))
    out, _ = cl.attend(q, k, v, mask=mask)
    out.square().sum().backward()
    for t in (q, k, v):
        assert t.grad is not None and torch.isfinite(t.grad).all() and t.grad.abs().sum() > 0
    assert torch.autograd.gradcheck(
        lambda a, b, c: cl.attend(a, b, c, kind="cosine", temperature=0.7)[0],
        tuple(torch.randn(3, 4, dtype=torch.float64, requires_grad=True) for _ in range(3)))


# ---------------------------------------------------------------- independent reference: torch
@pytest.mark.parametrize("shape", [(5, 8), (2, 7, 16), (2, 3, 6, 4)])
def test_attend_matches_torch_sdpa(shape):
    torch.manual_seed(0)
    q = torch.randn(*shape, dtype=torch.float64)
    k = torch.randn(*shape[:-2], shape[-2] + 2, shape[-1], dtype=torch.float64)
    v = torch.randn(*shape[:-2], shape[-2] + 2, 5, dtype=torch.float64)
    out, _ = cl.attend(q, k, v)
    assert torch.allclose(out, F.scaled_dot_product_attention(q, k, v), atol=1e-12)


def test_attend_matches_torch_sdpa_with_masks():
    torch.manual_seed(1)
    q, k, v = (torch.randn(2, 3, 6, 8, dtype=torch.float64) for _ in range(3))
    causal = torch.tril(torch.ones(6, 6, dtype=torch.bool))
    out, w = cl.attend(q, k, v, mask=causal)
    ref = F.scaled_dot_product_attention(q, k, v, is_causal=True)
    assert torch.allclose(out, ref, atol=1e-12)
    assert (w[..., ~causal] == 0).all()
    padding = torch.ones(2, 1, 1, 6, dtype=torch.bool)
    padding[0, ..., 4:] = False  # the first sequence has two padding keys
    out, _ = cl.attend(q, k, v, mask=padding)
    ref = F.scaled_dot_product_attention(q, k, v, attn_mask=padding)
    assert torch.allclose(out, ref, atol=1e-12)


def test_multihead_matches_torch_multiheadattention():
    torch.manual_seed(2)
    embed, heads = 16, 4
    ours = cl.MultiHeadAttention(embed, heads).double()
    ref = torch.nn.MultiheadAttention(embed, heads, batch_first=True).double()
    with torch.no_grad():  # copy torch's packed in-projection into our three projections
        wq, wk, wv = ref.in_proj_weight.chunk(3)
        bq, bk, bv = ref.in_proj_bias.chunk(3)
        for proj, wgt, b in ((ours.q_proj, wq, bq), (ours.k_proj, wk, bk), (ours.v_proj, wv, bv)):
            proj.weight.copy_(wgt)
            proj.bias.copy_(b)
        ours.out_proj.weight.copy_(ref.out_proj.weight)
        ours.out_proj.bias.copy_(ref.out_proj.bias)
    x = torch.randn(3, 5, embed, dtype=torch.float64)
    y = torch.randn(3, 7, embed, dtype=torch.float64)
    out, w = ours(x, y, y)
    ref_out, ref_w = ref(x, y, y, average_attn_weights=False)
    assert torch.allclose(out, ref_out, atol=1e-12)
    assert torch.allclose(w, ref_w, atol=1e-12)
    causal = torch.tril(torch.ones(5, 5, dtype=torch.bool))
    out, _ = ours(x, mask=causal)
    ref_out, _ = ref(x, x, x, attn_mask=~causal)  # torch: True = blocked
    assert torch.allclose(out, ref_out, atol=1e-12)


def test_additive_score_is_a_learnable_similarity():
    torch.manual_seed(3)
    score = cl.AdditiveScore(d_q=4, d_k=6, d_hidden=8)
    q, k = torch.randn(2, 3, 4), torch.randn(2, 5, 6)
    s = score(q, k)
    assert s.shape == (2, 3, 5)
    brute = torch.stack([torch.stack([
        score.w(torch.tanh(score.proj_q(q[b, i]) + score.proj_k(k[b, j]))).squeeze()
        for j in range(5)]) for i in range(3) for b in [0]]).reshape(3, 5)
    assert torch.allclose(s[0], brute, atol=1e-6)
    out, w = cl.attend(q, torch.randn(2, 5, 4), torch.randn(2, 5, 2), kind=lambda a, b: score(a, k))
    assert out.shape == (2, 3, 2)
    s.sum().backward()
    assert score.w.weight.grad is not None


# ---------------------------------------------------------------- properties (hypothesis)
finite = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False, width=64)
score_arrays = arrays(np.float64, st.tuples(st.integers(1, 4), st.integers(1, 7)), elements=finite)


@settings(max_examples=150, deadline=None)
@given(scores=score_arrays, data=st.data())
def test_weights_nonnegative_rows_sum_to_one_or_zero(scores, data):
    mask = data.draw(arrays(np.bool_, scores.shape))
    t = data.draw(st.floats(1e-3, 1e3))
    w = cl.softmax_weights(scores, temperature=t, mask=mask)
    assert np.all(np.isfinite(w)) and np.all(w >= 0)
    sums = w.sum(-1)
    has_allowed = mask.any(-1)
    assert np.allclose(sums[has_allowed], 1.0)
    assert np.all(sums[~has_allowed] == 0.0)
    assert np.all(w[~mask] == 0.0)


@settings(max_examples=100, deadline=None)
@given(scores=score_arrays, shift=st.floats(-1e3, 1e3))
def test_softmax_ignores_a_constant_shift(scores, shift):
    scores = scores / 1e3  # keep scores + shift exactly representable enough for 1e-9
    assert np.allclose(cl.softmax_weights(scores), cl.softmax_weights(scores + shift), atol=1e-9)


@settings(max_examples=50, deadline=None)
@given(n=st.integers(2, 8), d=st.integers(1, 6), seed=st.integers(0, 10_000),
       kind=st.sampled_from(cl.SIMILARITY_KINDS))
def test_self_attention_is_permutation_equivariant(n, d, seed, kind):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d))
    perm = rng.permutation(n)
    out, w = cl.attend(x, x, x, kind=kind)
    out_p, w_p = cl.attend(x[perm], x[perm], x[perm], kind=kind)
    assert np.allclose(out_p, out[perm], atol=1e-10)
    assert np.allclose(w_p, w[perm][:, perm], atol=1e-10)


@settings(max_examples=50, deadline=None)
@given(scores=arrays(np.float64, st.integers(2, 8), elements=st.floats(-10, 10)))
def test_temperature_limits_argmax_and_uniform(scores):
    n = scores.size
    top = scores.max()
    winners = scores == top
    cold = cl.softmax_weights(scores, temperature=1e-9)
    runner_up = scores[~winners].max() if (~winners).any() else None
    if runner_up is None or top - runner_up > 1e-6:
        # all weight on the maximum (shared equally by ties)
        assert np.allclose(cold, winners / winners.sum(), atol=1e-6)
    hot = cl.softmax_weights(scores, temperature=1e9)
    assert np.allclose(hot, 1.0 / n, atol=1e-6)


def test_finite_for_huge_scores_any_temperature():
    s = np.array([[1e308, -1e308, 0.0], [1e300, 1e300, -1e300]])
    for t in (1e-3, 1.0, 1e3):
        w = cl.softmax_weights(s, temperature=t)
        assert np.all(np.isfinite(w)) and np.allclose(w.sum(-1), 1.0)
    f32 = torch.tensor([3e38, -3e38, 1.0], dtype=torch.float32)
    assert torch.isfinite(cl.softmax_weights(f32, temperature=0.01)).all()


def test_fully_masked_row_gives_zeros_and_no_nan_gradient():
    s = torch.randn(2, 3, requires_grad=True)
    mask = torch.tensor([[True, False, True], [False, False, False]])
    w = cl.softmax_weights(s, mask=mask)
    assert torch.equal(w[1], torch.zeros(3))
    (w * torch.arange(3.0)).sum().backward()
    assert torch.isfinite(s.grad).all() and torch.equal(s.grad[1], torch.zeros(3))


# ---------------------------------------------------------------- errors that teach
@pytest.mark.parametrize("call, kind, words", [
    (lambda: cl.similarity(np.ones(3), np.ones((2, 3))), ValueError, ["q", "(..., n_q, d)", "(3,)"]),
    (lambda: cl.similarity(np.ones((2, 3)), np.ones((2, 4))), ValueError,
     ["q and k", "d=3", "d=4", "(2, 3)", "(2, 4)"]),
    (lambda: cl.similarity(np.ones((2, 3)), np.ones((2, 3)), kind="l2"), ValueError,
     ["kind='l2'", "scaled_dot", "neg_sq_euclidean"]),
    (lambda: cl.attend(np.ones((2, 3)), np.ones((4, 3)), np.ones((5, 2))), ValueError,
     ["k and v", "n_k=4", "n_k=5", "(4, 3)", "(5, 2)"]),
    (lambda: cl.attend(np.ones((2, 3)), np.ones((4, 3)), np.ones(4)), ValueError,
     ["v", "(..., n_k, d_v)", "(4,)"]),
    (lambda: cl.softmax_weights(np.ones((2, 3)), mask=np.ones((3, 2), bool)), ValueError,
     ["mask", "(3, 2)", "(2, 3)", "broadcast"]),
    (lambda: cl.softmax_weights(np.ones((2, 3)), mask=np.ones((2, 3))), TypeError,
     ["mask", "boolean", "float64"]),
    (lambda: cl.softmax_weights(np.ones(3), temperature=0), ValueError, ["temperature", "> 0", "0.0"]),
    (lambda: cl.softmax_weights(np.ones(3), temperature=-2.0), ValueError, ["temperature", "-2.0"]),
    (lambda: cl.softmax_weights(np.ones(3), temperature="hot"), TypeError, ["temperature", "str"]),
    (lambda: cl.similarity("q", np.ones((2, 3))), TypeError, ["q", "torch.Tensor or a NumPy array", "str"]),
    (lambda: cl.MultiHeadAttention(10, 3), ValueError, ["embed_dim=10", "num_heads=3"]),
    (lambda: cl.MultiHeadAttention(8, 2)(torch.ones(2, 3, 6)), ValueError,
     ["query", "(B, n, embed_dim=8)", "(2, 3, 6)"]),
    # batch dimensions that do not broadcast: named at the door, not deep inside torch
    (lambda: cl.similarity(np.ones((2, 2, 3)), np.ones((3, 4, 3))), ValueError,
     ["q and k", "broadcast", "(2, 2, 3)", "(3, 4, 3)"]),
    (lambda: cl.attend(np.ones((2, 2, 3)), np.ones((3, 4, 3)), np.ones((3, 4, 1))), ValueError,
     ["q and k", "broadcast", "(2, 2, 3)", "(3, 4, 3)"]),
    (lambda: cl.attend(np.ones((2, 3)), np.ones((4, 3)), np.ones((4, 1)), mask=np.ones((4, 2), bool)),
     ValueError, ["mask", "(4, 2)", "(2, 4)"]),
])
def test_bad_input_errors_name_argument_shapes_and_expectation(call, kind, words):
    with pytest.raises(kind) as info:
        call()
    for word in words:
        assert word in str(info.value), f"{word!r} missing from: {info.value}"


def test_a_learned_score_takes_numpy_float64_inputs():
    """NumPy in, NumPy out holds for a learned score too (its parameters are float32): lesson 01
    compares 3-d queries with 5-d keys this way."""
    torch.manual_seed(0)
    score = cl.AdditiveScore(3, 5)
    q, k = np.random.default_rng(0).normal(size=(2, 4, 3)), np.random.default_rng(1).normal(size=(2, 6, 5))
    got = cl.similarity(q, k, kind=score)
    assert isinstance(got, np.ndarray) and got.shape == (2, 4, 6) and got.dtype == np.float64
    expected = score(torch.tensor(q, dtype=torch.float32), torch.tensor(k, dtype=torch.float32))
    np.testing.assert_allclose(got, expected.detach().numpy(), rtol=1e-6, atol=1e-6)
    out, weights = cl.attend(q, k, np.ones((2, 6, 2)), kind=score)
    assert out.shape == (2, 4, 2) and np.allclose(weights.sum(-1), 1)


def test_softmax_weights_overwrite_gives_the_same_numbers_in_the_scores_memory():
    """overwrite=True (attend's own score buffer): the same weights, bit for bit, written into
    the scores' memory; masks, temperatures and +inf rows follow the same rules; where a gradient
    is needed the scores are left alone and the gradient is right."""
    torch.manual_seed(0)
    scores = torch.randn(3, 5, 7)
    with_inf = scores.clone()
    with_inf[0, 1, 2] = float("inf")                          # that row: a new buffer, same rule
    mask = torch.rand(3, 5, 7) > 0.3
    mask[1, 0] = False                                       # a fully blocked row
    for s, temperature, m in ((scores, 1.0, None), (scores, 0.25, mask), (with_inf, 0.5, mask)):
        expected = cl.softmax_weights(s, temperature, m)
        buffer = s.clone()
        got = cl.softmax_weights(buffer, temperature, m, overwrite=True)
        assert torch.equal(got, expected)
        if s is scores:
            assert got.data_ptr() == buffer.data_ptr()       # written in the scores' memory
    leaf = torch.randn(4, 6, requires_grad=True)
    kept = leaf.detach().clone()
    w = cl.softmax_weights(leaf, overwrite=True)
    assert torch.equal(leaf.detach(), kept)
    (w[:, 0]).sum().backward()
    ref = torch.softmax(kept, -1)
    expected_grad = ref[:, :1] * ((torch.arange(6) == 0).float() - ref)   # dw_0/ds_j
    torch.testing.assert_close(leaf.grad, expected_grad)


def test_attend_leaves_a_learned_scores_output_alone():
    """attend overwrites only the scores of a built-in similarity, which nobody else holds: a
    callable's output might be kept by its owner (here: it is)."""
    torch.manual_seed(1)
    q, k, v = torch.randn(2, 3, 4), torch.randn(2, 5, 4), torch.randn(2, 5, 2)
    kept = torch.randn(2, 3, 5)
    before = kept.clone()
    with torch.no_grad():
        out, weights = cl.attend(q, k, v, kind=lambda q_, k_: kept)
    assert torch.equal(kept, before)
    torch.testing.assert_close(weights, torch.softmax(before, -1))


# ---------------------------------------------------------------- the door, crossed once
def test_attend_converts_each_input_once_and_back_once(monkeypatch):
    """attend checks and converts q, k, v once (NumPy -> torch) and its two results once
    (torch -> NumPy); below that door the three steps work on tensors (issue 19)."""
    from course_lib.attention import core
    from course_lib.basics import arrays

    seen = {"to_tensor": [], "like_input": 0}
    to_tensor, like_input = arrays.to_tensor, arrays.like_input

    def counting_to_tensor(x, name, *args, **kwargs):
        seen["to_tensor"].append(name)
        return to_tensor(x, name, *args, **kwargs)

    def counting_like_input(*args, **kwargs):
        seen["like_input"] += 1
        return like_input(*args, **kwargs)

    for module in (core, arrays):
        monkeypatch.setattr(module, "to_tensor", counting_to_tensor, raising=False)
        monkeypatch.setattr(module, "like_input", counting_like_input, raising=False)
    rng = np.random.default_rng(0)
    q, k, v = rng.normal(size=(3, 4)), rng.normal(size=(5, 4)), rng.normal(size=(5, 2))
    out, weights = cl.attend(q, k, v, mask=np.ones((3, 5), bool), temperature=0.5)
    assert isinstance(out, np.ndarray) and isinstance(weights, np.ndarray)
    assert seen == {"to_tensor": ["q", "k", "v"], "like_input": 2}


def test_attend_is_the_three_steps_below_the_door():
    """The tensor-level steps, chained by hand, give attend's numbers bit for bit."""
    from course_lib.attention.core import aggregate, allocate_weights, compute_similarity

    torch.manual_seed(0)
    q, k, v = torch.randn(2, 3, 4), torch.randn(2, 5, 4), torch.randn(2, 5, 6)
    mask = torch.rand(2, 3, 5) > 0.3
    for kind in cl.SIMILARITY_KINDS:
        weights = allocate_weights(compute_similarity(q, k, kind), 0.7, mask)
        out, w = cl.attend(q, k, v, mask=mask, kind=kind, temperature=0.7)
        assert torch.equal(w, weights) and torch.equal(out, aggregate(weights, v))
        assert torch.equal(cl.similarity(q, k, kind), compute_similarity(q, k, kind))
        assert torch.equal(cl.softmax_weights(compute_similarity(q, k, kind), 0.7, mask), weights)


def test_multi_head_attention_checks_its_mask_at_its_door():
    mha = cl.MultiHeadAttention(8, 2)
    x = torch.randn(2, 3, 8)
    with pytest.raises(ValueError) as info:
        mha(x, mask=torch.ones(3, 4, dtype=torch.bool))
    assert "mask" in str(info.value) and "(3, 4)" in str(info.value) and "(2, 2, 3, 3)" in str(info.value)
    causal = torch.ones(3, 3, dtype=torch.bool).tril()
    _, weights = mha(x, mask=causal)
    assert torch.equal(weights[..., causal.logical_not()], torch.zeros_like(weights[..., causal.logical_not()]))
