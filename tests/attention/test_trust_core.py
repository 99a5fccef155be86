"""Issue 11: every input of the core functions gets the right answer or a clear error.

Each test names the kind of fault it guards against; each failed on the code before the fix.
"""
import math

import numpy as np
import pytest
import torch

import course_lib as cl


# ---------------------------------------------------------------- numerics: cancellation
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_neg_sq_euclidean_far_from_the_origin_does_not_cancel(dtype):
    q = torch.tensor([[1000.0, 1000.0]], dtype=dtype)
    k = torch.tensor([[1000.01, 1000.0], [1000.3, 1000.0]], dtype=dtype)
    scores = cl.similarity(q, k, kind="neg_sq_euclidean")
    direct = -((q[:, None, :].double() - k[None].double()) ** 2).sum(-1)
    assert torch.allclose(scores.double(), direct, rtol=1e-3, atol=0)
    assert scores[0, 0] == pytest.approx(-1e-4, rel=0.01) and scores[0, 1] == pytest.approx(-0.09, rel=1e-3)
    weights = cl.softmax_weights(scores * 100)
    assert weights[0, 0] > weights[0, 1]           # the nearer key wins, not a uniform tie


def test_neg_sq_euclidean_keys_spread_widely_and_self_attention():
    # keys far apart (centring alone does not help): a query right next to one key
    q = torch.tensor([[2000.01, 0.0], [0.0, 0.0]])
    k = torch.tensor([[0.0, 0.0], [2000.0, 0.0]])
    scores = cl.similarity(q, k, kind="neg_sq_euclidean")
    assert scores[0, 1].item() == pytest.approx(-(2000.01 - 2000.0) ** 2, rel=0.05)
    x = torch.randn(5, 3, dtype=torch.float64) + 1e6
    assert torch.equal(torch.diagonal(cl.similarity(x, x, kind="neg_sq_euclidean")), torch.zeros(5,
                                                                                                 dtype=torch.float64))


def test_neg_sq_euclidean_keeps_gradients():
    q = torch.randn(3, 4, dtype=torch.float64, requires_grad=True)
    k = torch.randn(2, 5, 4, dtype=torch.float64, requires_grad=True)
    ref = -((q[:, None] - k[:, None, :, :].squeeze(1)[:, None]) ** 2).sum(-1)
    assert torch.autograd.gradcheck(lambda a, b: cl.similarity(a, b, "neg_sq_euclidean"), (q, k))
    assert torch.allclose(cl.similarity(q, k, "neg_sq_euclidean"), ref)


# ---------------------------------------------------------------- numerics: scale
@pytest.mark.parametrize("magnitude", [1e170, 1e-170, 1e-300])
def test_cosine_at_any_magnitude(magnitude):
    q = np.array([[3.0, 4.0]]) * magnitude
    k = np.array([[3.0, 4.0], [4.0, -3.0], [-6.0, -8.0]]) * magnitude
    assert np.allclose(cl.similarity(q, k, kind="cosine"), [[1.0, 0.0, -1.0]], atol=1e-12)


@pytest.mark.parametrize("kind", ["dot", "scaled_dot", "neg_sq_euclidean", "cosine"])
@pytest.mark.parametrize("dtype, big", [(torch.float64, 1e160), (torch.float32, 1e20),
                                        (torch.float16, 100.0)])
def test_huge_finite_inputs_give_finite_weights(kind, dtype, big):
    g = torch.Generator().manual_seed(0)
    q = (torch.rand(3, 64, generator=g, dtype=torch.float64) * big).to(dtype)
    k = torch.cat([q[:2], -q[2:]]).to(dtype)
    v = torch.randn(3, 2, generator=g).to(dtype)
    out, weights = cl.attend(q, k, v, kind=kind)
    assert out.dtype == dtype and weights.dtype == dtype
    assert torch.isfinite(weights).all() and torch.isfinite(out).all()
    assert torch.allclose(weights.float().sum(-1), torch.ones(3), atol=1e-2)


def test_dot_products_that_cancel_stay_exact_when_rescaled():
    q = np.array([[1e160, 1e160]])
    k = np.array([[1e160, -1e160], [1e160, 1e160]])
    scores = cl.similarity(q, k, kind="dot")
    assert scores[0, 0] == 0.0 and scores[0, 1] == math.inf


# ---------------------------------------------------------------- softmax limits
def test_softmax_inf_entries_take_the_limit_and_nan_propagates():
    assert np.array_equal(cl.softmax_weights([1.0, math.inf, 0.0]), [0.0, 1.0, 0.0])
    assert np.array_equal(cl.softmax_weights([math.inf, 3.0, math.inf]), [0.5, 0.0, 0.5])
    assert np.array_equal(cl.softmax_weights([-math.inf, 0.0]), [0.0, 1.0])
    assert np.array_equal(cl.softmax_weights([[-math.inf, -math.inf]]), [[0.0, 0.0]])
    w = cl.softmax_weights([[1.0, math.nan], [1.0, 1.0]])
    assert np.isnan(w[0]).all() and np.array_equal(w[1], [0.5, 0.5])
    assert "NaN" in cl.softmax_weights.__doc__ and "+inf" in cl.softmax_weights.__doc__


def test_no_keys_and_no_features():
    assert cl.softmax_weights(np.zeros((3, 0))).shape == (3, 0)
    out, w = cl.attend(np.ones((3, 4)), np.ones((0, 4)), np.ones((0, 2)))
    assert w.shape == (3, 0) and np.array_equal(out, np.zeros((3, 2)))
    for kind in cl.SIMILARITY_KINDS:
        assert np.array_equal(cl.similarity(np.ones((2, 0)), np.ones((3, 0)), kind), np.zeros((2, 3)))
    out, w = cl.attend(np.ones((2, 0)), np.ones((3, 0)), np.arange(6.0).reshape(3, 2))
    assert np.allclose(w, 1 / 3) and np.allclose(out, [[2.0, 3.0]] * 2)


# ---------------------------------------------------------------- input rules
def test_complex_is_refused_everywhere():
    calls = {
        "scores": lambda: cl.softmax_weights([5j, 0]),
        "q": lambda: cl.similarity(np.ones((2, 2)) * 1j, np.ones((2, 2))),
        "k": lambda: cl.attend(torch.ones(2, 2), torch.ones(2, 2, dtype=torch.complex64),
                               torch.ones(2, 2)),
        "image": lambda: cl.gaussian_blur(np.ones((5, 5), complex), 1.0),
        "x": lambda: cl.conv2d_as_attention(np.ones((1, 4, 4), complex), np.ones((1, 1, 3, 3))),
        "temperature": lambda: cl.softmax_weights([1.0, 0.0], temperature=1 + 0j),
    }
    for name, call in calls.items():
        with pytest.raises(TypeError) as info:
            call()
        assert name in str(info.value) and "complex" in str(info.value), str(info.value)


def test_bool_and_int_inputs_are_read_as_floats():
    w = cl.softmax_weights(np.array([True, False]))
    assert w.dtype == np.float64 and np.allclose(w, [math.e / (1 + math.e), 1 / (1 + math.e)])
    scores = cl.similarity(np.array([[1, 2]]), np.array([[3, 4]]), kind="dot")
    assert scores.dtype == np.float64 and scores[0, 0] == 11.0
    assert cl.softmax_weights(torch.tensor([1, 1])).dtype == torch.get_default_dtype()


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_half_types_come_back_in_their_dtype(dtype):
    q = torch.randn(4, 8).to(dtype)
    out, w = cl.attend(q, q, q)
    ref_out, ref_w = cl.attend(q.float(), q.float(), q.float())
    assert out.dtype == dtype and w.dtype == dtype
    assert torch.allclose(w.float(), ref_w, atol=1e-2) and torch.allclose(out.float(), ref_out, atol=3e-2)
    assert cl.similarity(q, q).dtype == dtype and cl.softmax_weights(q).dtype == dtype
    half_np = np.ones((2, 3), np.float16)
    assert cl.softmax_weights(half_np).dtype == np.float16


def test_int_mask_is_reported_with_its_own_dtype():
    with pytest.raises(TypeError) as info:
        cl.softmax_weights(np.ones((2, 2)), mask=np.ones((2, 2), dtype=np.int64))
    assert "mask" in str(info.value) and "int64" in str(info.value)


def test_additive_score_compares_different_sizes_through_similarity():
    score = cl.AdditiveScore(d_q=3, d_k=5)
    s = cl.similarity(torch.randn(2, 4, 3), torch.randn(2, 6, 5), kind=score)
    assert s.shape == (2, 4, 6)
    out, w = cl.attend(torch.randn(4, 3), torch.randn(6, 5), torch.randn(6, 2), kind=score)
    assert out.shape == (4, 2) and torch.allclose(w.sum(-1), torch.ones(4))


# ---------------------------------------------------------------- MultiHeadAttention
def test_multi_head_attention_numpy_float64_and_no_keys():
    mha = cl.MultiHeadAttention(8, 2)
    x = np.random.default_rng(0).normal(size=(2, 3, 8))
    out, w = mha(x)
    assert isinstance(out, np.ndarray) and out.shape == (2, 3, 8) and w.shape == (2, 2, 3, 3)
    out64, _ = mha(torch.from_numpy(x))
    out32, _ = mha(torch.from_numpy(x).float())
    assert out64.dtype == torch.float64 and torch.allclose(out64.float(), out32, atol=1e-5)
    out, w = mha(torch.ones(1, 3, 8), torch.ones(1, 0, 8))
    assert w.shape == (1, 2, 3, 0) and torch.allclose(out, mha.out_proj.bias.expand(1, 3, 8))


@pytest.mark.parametrize("args, kind, words", [
    ((8, 0), ValueError, ["num_heads", ">= 1", "0"]),
    ((8, 3), ValueError, ["embed_dim=8", "num_heads=3"]),
    ((8, 2.0), TypeError, ["num_heads", "float"]),
    ((0, 1), ValueError, ["embed_dim", "0"]),
])
def test_multi_head_attention_bad_sizes_name_the_argument(args, kind, words):
    with pytest.raises(kind) as info:
        cl.MultiHeadAttention(*args)
    for word in words:
        assert word in str(info.value)


def test_multi_head_attention_bad_input_names_query():
    with pytest.raises(TypeError) as info:
        cl.MultiHeadAttention(8, 2)("not an array")
    assert "query" in str(info.value) and "str" in str(info.value)


def test_conv2d_as_attention_half_and_int_inputs():
    x = torch.rand(2, 5, 6)
    kernel = torch.randn(3, 2, 3, 3)
    ref = torch.nn.functional.conv2d(x, kernel, padding=1)
    out = cl.conv2d_as_attention(x.half(), kernel.half())
    assert out.dtype == torch.float16 and torch.allclose(out.float(), ref, atol=2e-2)
    ints = cl.conv2d_as_attention(np.ones((1, 3, 3), np.int64), np.ones((1, 1, 1, 1), np.int64))
    assert ints.dtype == np.float64 and np.array_equal(ints, np.ones((1, 3, 3)))
    with pytest.raises(ValueError, match="x must have at least one channel"):
        cl.conv2d_as_attention(np.ones((0, 3, 3)), np.ones((1, 0, 1, 1)))
