"""Convolution recovered as multi-head attention with positional scores (Cordonnier et al., 2020)."""
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from course_lib.locality.conv_attention import (
    conv2d_as_attention,
    effective_kernel,
    head_maps,
    head_weights,
    kernel_offsets,
)


@settings(max_examples=30, deadline=None)
@given(b=st.integers(1, 2), c_in=st.integers(1, 3), c_out=st.integers(1, 3),
       h=st.integers(1, 9), w=st.integers(1, 9), k=st.sampled_from([1, 3, 5]),
       seed=st.integers(0, 10_000))
def test_equals_torch_conv2d(b, c_in, c_out, h, w, k, seed):
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(b, c_in, h, w, generator=gen, dtype=torch.float64)
    kernel = torch.randn(c_out, c_in, k, k, generator=gen, dtype=torch.float64)
    expected = F.conv2d(x, kernel, padding=k // 2)
    torch.testing.assert_close(conv2d_as_attention(x, kernel), expected, atol=1e-12, rtol=0)
    torch.testing.assert_close(conv2d_as_attention(x[0], kernel), expected[0], atol=1e-12, rtol=0)


def test_numpy_in_numpy_out_and_float32():
    rng = np.random.default_rng(0)
    x, kernel = rng.standard_normal((2, 6, 7)), rng.standard_normal((3, 2, 3, 3))
    out = conv2d_as_attention(x, kernel)
    assert isinstance(out, np.ndarray) and out.shape == (3, 6, 7)
    ref = F.conv2d(torch.from_numpy(x), torch.from_numpy(kernel), padding=1).numpy()
    np.testing.assert_allclose(out, ref, atol=1e-12)
    out32 = conv2d_as_attention(torch.from_numpy(x).float(), torch.from_numpy(kernel).float())
    assert out32.dtype == torch.float32
    np.testing.assert_allclose(out32.numpy(), ref, atol=1e-5)


def test_each_head_attends_to_exactly_one_offset():
    h, w, k = 5, 6, 3
    weights = head_weights(h, w, k)                    # (9, 30, (5+2)*(6+2))
    assert weights.shape == (9, h * w, (h + 2) * (w + 2))
    assert torch.all(weights.sum(-1) == 1) and torch.all((weights == 0) | (weights == 1))
    for head, (dy, dx) in enumerate(kernel_offsets(k)):
        for p, (row, col) in enumerate([(i, j) for i in range(h) for j in range(w)]):
            key = weights[head, p].argmax().item()
            assert divmod(key, w + 2) == (row + 1 + dy, col + 1 + dx)


def test_scores_are_purely_positional():
    """The heads' weights are the same for any image: they are returned, not computed from x."""
    kernel = torch.randn(1, 1, 3, 3, dtype=torch.float64)
    _, w1 = conv2d_as_attention(torch.randn(1, 4, 4, dtype=torch.float64), kernel, sharpness=2.0,
                                return_weights=True)
    _, w2 = conv2d_as_attention(torch.randn(1, 4, 4, dtype=torch.float64), kernel, sharpness=2.0,
                                return_weights=True)
    torch.testing.assert_close(w1, w2)


def test_soft_heads_give_a_blurred_kernel_and_converge_to_the_exact_one():
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(1, 2, 20, 20, generator=gen, dtype=torch.float64)
    kernel = torch.randn(2, 2, 3, 3, generator=gen, dtype=torch.float64)
    exact = F.conv2d(x, kernel, padding=1)
    errors = []
    for sharpness in (1.0, 3.0, 10.0, 30.0):
        soft = conv2d_as_attention(x, kernel, sharpness=sharpness)
        errors.append((soft - exact).abs().max().item())
        blurred = effective_kernel(kernel, sharpness)
        m = blurred.shape[-1] // 2 + 1           # away from the border the blurred kernel is exact
        ref = F.conv2d(x, blurred, padding=blurred.shape[-1] // 2)
        torch.testing.assert_close(soft[..., m:-m, m:-m], ref[..., m:-m, m:-m], atol=1e-7, rtol=0)
    assert errors[0] > 0.1                                     # soft = visibly different
    assert all(a > b for a, b in zip(errors, errors[1:]))      # and converging
    assert errors[-1] < 1e-10


def test_effective_kernel_sums_like_the_kernel():
    kernel = torch.randn(2, 3, 3, 3, dtype=torch.float64)
    blurred = effective_kernel(kernel, 2.0)
    torch.testing.assert_close(blurred.sum((-2, -1)), kernel.sum((-2, -1)))


def test_errors_name_the_problem():
    x = torch.randn(2, 5, 5)
    with pytest.raises(ValueError, match=r"C_in=3 input channels.*C_in=2"):
        conv2d_as_attention(x, torch.randn(1, 3, 3, 3))
    with pytest.raises(ValueError, match="odd size"):
        conv2d_as_attention(x, torch.randn(1, 2, 2, 2))
    with pytest.raises(ValueError, match=r"x must have shape \(C_in, H, W\)"):
        conv2d_as_attention(torch.randn(5, 5), torch.randn(1, 1, 3, 3))
    with pytest.raises(ValueError, match="too much memory"):
        conv2d_as_attention(torch.randn(1, 128, 128), torch.randn(1, 1, 3, 3))
    with pytest.raises(ValueError, match="sharpness"):
        conv2d_as_attention(x, torch.randn(1, 2, 3, 3), sharpness=0)


def test_head_maps_are_cordonniers_picture():
    """For one query pixel, head d puts its weight on the key p + d (exact), and a finite
    sharpness spreads it around that key, summing to 1."""
    maps = head_maps(7, 8, 3, (3, 4))                           # (9, 9, 10): padded key grid
    assert maps.shape == (9, 9, 10)
    for head, (dy, dx) in enumerate(kernel_offsets(3)):
        assert maps[head, 3 + 1 + dy, 4 + 1 + dx] == 1 and maps[head].sum() == 1
    soft = head_maps(7, 8, 3, (3, 4), sharpness=1.0)
    torch.testing.assert_close(soft.sum((1, 2)), torch.ones(9, dtype=torch.float64))
    assert torch.all(soft.flatten(1).argmax(1) == maps.flatten(1).argmax(1))
    with pytest.raises(ValueError, match="outside"):
        head_maps(7, 8, 3, (7, 0))


def test_exact_limit_is_a_lookup_and_the_softmax_path_converges_to_it():
    exact = head_weights(4, 5, 3)
    assert set(exact.unique().tolist()) == {0.0, 1.0}             # hard one-hot: no softmax
    soft = head_weights(4, 5, 3, sharpness=30.0)
    assert 0 < (soft - exact).abs().max() < 1e-12
