"""Lesson 04 cost helpers: the four mixing layers, their exact counts, and the stopwatch."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

import course_lib as cl
from course_lib.locality import costs


def test_naive_attention_is_the_course_attend_and_torch_sdpa():
    gen = torch.Generator().manual_seed(0)
    q, k, v = (torch.randn(2, 7, 5, generator=gen, dtype=torch.float64) for _ in range(3))
    out = costs.naive_attention(q, k, v)
    torch.testing.assert_close(out, cl.attend(q, k, v)[0])
    torch.testing.assert_close(out, F.scaled_dot_product_attention(q, k, v))


@pytest.mark.parametrize("fused", [False, True])
def test_global_attention_matches_sdpa_on_pixels(fused):
    x = torch.randn(2, 4, 6, 5, dtype=torch.float64)
    tokens = x.flatten(2).transpose(1, 2)
    ref = F.scaled_dot_product_attention(tokens, tokens, tokens).transpose(1, 2).reshape(x.shape)
    torch.testing.assert_close(costs.global_attention(x, fused=fused), ref)


def test_windowed_attention_is_global_attention_inside_each_window():
    x = torch.randn(1, 3, 8, 12, dtype=torch.float64)
    out = costs.windowed_attention(x, 4)
    for i in range(0, 8, 4):
        for j in range(0, 12, 4):
            block = x[..., i : i + 4, j : j + 4].contiguous()
            torch.testing.assert_close(out[..., i : i + 4, j : j + 4], costs.global_attention(block))
    with pytest.raises(ValueError, match="multiples of window=5"):
        costs.windowed_attention(x, 5)


def test_windows_round_trip():
    x = torch.arange(2 * 3 * 4 * 6, dtype=torch.float64).view(2, 3, 4, 6)
    tokens = costs.to_windows(x, 2)
    assert tokens.shape == (2 * 2 * 3, 4, 3)
    torch.testing.assert_close(costs.from_windows(tokens, x.shape, 2), x)
    torch.testing.assert_close(tokens[0, :, 0], torch.tensor([0.0, 1.0, 6.0, 7.0],
                                                             dtype=torch.float64))


def test_make_layer_runs_every_method_and_names_bad_ones():
    x = torch.randn(1, 16, 16, 16)
    for method in costs.METHODS:
        assert costs.make_layer(method)(x).shape == x.shape
    with pytest.raises(ValueError, match="method='dense'"):
        costs.make_layer("dense")
    with pytest.raises(ValueError, match=r"shape \(B, C, H, W\)"):
        costs.conv_layer(torch.randn(3, 4, 4), torch.randn(3, 3, 3, 3))


def test_flops_counts_and_the_break_even_size():
    assert costs.flops(2000, "global") / costs.flops(1000, "global") == 4
    assert costs.flops(2000, "windowed") / costs.flops(1000, "windowed") == 2
    assert costs.flops(100, "conv", channels=8) == 100 * 64 * 9
    assert costs.flops(100, "global", channels=8, projections=True) == 2 * 100 * 100 * 8 + 4 * 100 * 64
    for c in (16, 64, 256):
        n = costs.break_even_pixels(c)
        assert n == 5 * c / 2                                        # 3x3, with projections
        assert costs.flops(int(n), "conv", channels=c) == costs.flops(int(n), "global", channels=c,
                                                                       projections=True)
        assert costs.break_even_pixels(c, projections=False) == 9 * c / 2
    with pytest.raises(ValueError, match="method="):
        costs.flops(1, "dense")


def test_weight_bytes():
    assert costs.weight_bytes(100, "global") == 100 * 100 * 4
    assert costs.weight_bytes(100, "windowed", window=8) == 100 * 64 * 4
    assert costs.weight_bytes(10**6, "conv", channels=16, kernel_size=3) == 16 * 16 * 9 * 4
    with pytest.raises(ValueError, match="method="):
        costs.weight_bytes(1, "dense")


def test_loglog_slope_recovers_known_exponents():
    n = np.array([100, 400, 1600, 6400.0])
    assert costs.loglog_slope(n, 3 * n) == pytest.approx(1.0)
    assert costs.loglog_slope(n, 0.1 * n**2) == pytest.approx(2.0)
    assert costs.loglog_slope(np.append(n, 9e4), np.append(n**2, np.nan)) == pytest.approx(2.0)
    times = np.stack([n**2, 2 * n**2, n**1.5], axis=1)
    np.testing.assert_allclose(costs.slope_per_repeat(n, times), [2.0, 2.0, 1.5])


def test_time_sweep_shapes_repeats_and_restores_threads():
    before = torch.get_num_threads()
    r = costs.time_sweep(sides=(8, 16), repeats=2, max_side={"global": 8, "global_fused": 8},
                         channels=4, window=4)
    assert torch.get_num_threads() == before
    assert r["sides"].tolist() == [8, 16]
    for method in costs.METHODS:
        assert r[method].shape == (2, 2)
    assert np.all(np.isfinite(r["global"][0])) and np.all(np.isnan(r["global"][1]))
    assert np.all(r["conv"] > 0) and np.all(r["windowed"] > 0)
    assert costs.time_call(lambda: None, repeats=2) >= 0
