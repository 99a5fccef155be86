"""Lesson 04 cost helpers: receptive fields, the three mixing layers, and the measuring tools."""
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from course_lib import costs


@pytest.mark.parametrize("layers,k", [(1, 3), (2, 3), (4, 3), (3, 5)])
def test_receptive_field_formula_matches_the_measured_map(layers, k):
    field = costs.receptive_field_map(layers, size=31, kernel_size=k)
    rows = np.nonzero(field.any(axis=1))[0]
    assert rows.max() - rows.min() + 1 == costs.receptive_field_size(layers, k)
    assert field.sum() == costs.receptive_field_size(layers, k) ** 2


def test_layers_to_connect():
    assert costs.layers_to_connect(1) == 1
    assert costs.layers_to_connect(10) == 10
    assert costs.layers_to_connect(10, kernel_size=5) == 5
    # and it is the first depth whose measured field reaches that far
    d = 6
    n = costs.layers_to_connect(d)
    assert costs.receptive_field_map(n, 21)[10, 10 + d]
    assert not costs.receptive_field_map(n - 1, 21)[10, 10 + d]


def test_global_attention_matches_sdpa():
    x = torch.randn(2, 4, 6, 5, dtype=torch.float64)
    out, weights = costs.global_attention(x, return_weights=True)
    tokens = x.flatten(2).transpose(1, 2)
    ref = F.scaled_dot_product_attention(tokens, tokens, tokens).transpose(1, 2).reshape(x.shape)
    torch.testing.assert_close(out, ref)
    assert weights.shape == (2, 30, 30)


def test_windowed_attention_is_global_attention_inside_each_window():
    x = torch.randn(1, 3, 8, 12, dtype=torch.float64)
    out = costs.windowed_attention(x, 4)
    for i in range(0, 8, 4):
        for j in range(0, 12, 4):
            block = x[..., i : i + 4, j : j + 4].contiguous()
            torch.testing.assert_close(out[..., i : i + 4, j : j + 4], costs.global_attention(block))
    # windows of the whole image = global attention
    torch.testing.assert_close(costs.windowed_attention(x, 4)[..., :4, :4],
                               costs.global_attention(x[..., :4, :4].contiguous()))
    with pytest.raises(ValueError, match="multiples of window=5"):
        costs.windowed_attention(x, 5)


def test_windows_round_trip():
    x = torch.arange(2 * 3 * 4 * 6, dtype=torch.float64).view(2, 3, 4, 6)
    tokens = costs.to_windows(x, 2)
    assert tokens.shape == (2 * 2 * 3, 4, 3)
    torch.testing.assert_close(costs.from_windows(tokens, x.shape, 2), x)
    torch.testing.assert_close(tokens[0, :, 0], torch.tensor([0.0, 1.0, 6.0, 7.0],
                                                             dtype=torch.float64))


def test_weight_bytes_and_flops():
    assert costs.weight_bytes(100, "global") == 100 * 100 * 4
    assert costs.weight_bytes(100, "windowed", window=8) == 100 * 64 * 4
    assert costs.weight_bytes(10**6, "conv", channels=16, kernel_size=3) == 16 * 16 * 9 * 4
    assert costs.flops(2000, "global") / costs.flops(1000, "global") == 4
    assert costs.flops(2000, "windowed") / costs.flops(1000, "windowed") == 2
    with pytest.raises(ValueError, match="method="):
        costs.weight_bytes(1, "dense")


def test_loglog_slope_recovers_known_exponents():
    n = np.array([100, 400, 1600, 6400.0])
    assert costs.loglog_slope(n, 3 * n) == pytest.approx(1.0)
    assert costs.loglog_slope(n, 0.1 * n**2) == pytest.approx(2.0)
    assert costs.loglog_slope(np.append(n, 9e4), np.append(n**2, np.nan)) == pytest.approx(2.0)


def test_cost_sweep_shapes_and_restores_threads():
    before = torch.get_num_threads()
    r = costs.cost_sweep(sides=(8, 16), repeats=1, max_global_side=8, channels=4, window=4)
    assert torch.get_num_threads() == before
    assert r["n_pixels"].tolist() == [64, 256]
    assert np.isfinite(r["global"][0]) and np.isnan(r["global"][1])
    assert np.all(r["conv"] > 0) and np.all(r["windowed"] > 0)
    assert r["global_bytes"].tolist() == [64 * 64 * 4, 256 * 256 * 4]
