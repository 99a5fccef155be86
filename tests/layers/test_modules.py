"""Attention modules and tiny models of lessons 05-06, checked against independent references."""
import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from course_lib.basics.arrays import require_shape
from course_lib.layers import modules as Mo
from course_lib.layers import models as M


def _seeded(seed=0):
    torch.manual_seed(seed)


# ---------------------------------------------------------------------------------- gates
def test_squeeze_excitation_matches_hand_computation():
    _seeded()
    se = Mo.SqueezeExcitation(8, reduction=2)
    x = torch.randn(3, 8, 5, 6)
    out, gates = se(x)
    mean = x.mean(dim=(2, 3))
    expected_gates = torch.sigmoid(se.fc2(torch.relu(se.fc1(mean))))
    torch.testing.assert_close(gates, expected_gates)
    torch.testing.assert_close(out, x * expected_gates[:, :, None, None])
    assert gates.shape == (3, 8)
    assert bool(((gates > 0) & (gates < 1)).all())


def test_se_gates_depend_on_the_input_and_do_not_sum_to_one():
    _seeded()
    se = Mo.SqueezeExcitation(8)
    _, g = se(torch.randn(4, 8, 5, 5))
    assert (g[0] - g[1]).abs().max() > 1e-4        # adaptive: another image, other gates
    assert not torch.allclose(g.sum(1), torch.ones(4))  # independent gates, not a softmax


def test_spatial_attention_matches_conv_reference():
    _seeded()
    sa = Mo.SpatialAttention(kernel_size=5)
    x = torch.randn(2, 3, 7, 9)
    out, gates = sa(x)
    pooled = torch.stack([x.mean(1), x.max(1).values], dim=1)
    ref = torch.sigmoid(F.conv2d(pooled, sa.conv.weight, sa.conv.bias, padding=2))
    torch.testing.assert_close(gates, ref)
    torch.testing.assert_close(out, x * ref)
    with pytest.raises(ValueError, match="odd"):
        Mo.SpatialAttention(kernel_size=4)


# ---------------------------------------------------------------------------------- dynamic conv
def test_dynamic_conv_equals_per_image_conv_with_its_own_kernel():
    _seeded()
    dc = Mo.DynamicConv2d(3, 5, kernel_size=3, num_experts=4)
    x = torch.randn(4, 3, 8, 8)
    out, w = dc(x)
    kernels = dc.kernels(x)
    torch.testing.assert_close(w.sum(1), torch.ones(4))
    for i in range(4):
        ref = F.conv2d(x[i : i + 1], kernels[i], padding=1)
        torch.testing.assert_close(out[i : i + 1], ref, atol=1e-5, rtol=1e-5)
    # different images get different kernels
    assert (kernels[0] - kernels[1]).abs().max() > 1e-5


def test_dynamic_conv_with_one_expert_is_an_ordinary_conv():
    _seeded()
    dc = Mo.DynamicConv2d(2, 3, kernel_size=3, num_experts=1)
    x = torch.randn(5, 2, 6, 6)
    out, w = dc(x)
    torch.testing.assert_close(w, torch.ones(5, 1))
    torch.testing.assert_close(out, F.conv2d(x, dc.experts[0], padding=1), atol=1e-5, rtol=1e-5)


def test_dynamic_conv_rejects_wrong_channels():
    dc = Mo.DynamicConv2d(3, 4)
    with pytest.raises(ValueError, match=r"\(B, C, H, W\).*C=3.*\(2, 5, 8, 8\)"):
        dc(torch.randn(2, 5, 8, 8))


# ---------------------------------------------------------------------------------- pooling
def test_attention_pool_matches_torch_sdpa():
    _seeded()
    pool = Mo.AttentionPool(6, key_dim=4)
    tokens = torch.randn(3, 10, 6)
    pooled, w = pool(tokens)
    q = pool.query.expand(3, 1, 4)
    ref = F.scaled_dot_product_attention(q, pool.to_key(tokens), pool.to_value(tokens))
    torch.testing.assert_close(pooled, ref[:, 0], atol=1e-6, rtol=1e-5)
    torch.testing.assert_close(w.sum(1), torch.ones(3))


@settings(max_examples=25, deadline=None)
@given(st.integers(2, 12), st.integers(0, 10_000))
def test_attention_pool_ignores_token_order(n, seed):
    torch.manual_seed(seed)
    pool = Mo.AttentionPool(4)
    tokens = torch.randn(2, n, 4)
    perm = torch.randperm(n)
    a, wa = pool(tokens)
    b, wb = pool(tokens[:, perm])
    torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(wa[:, perm], wb)


def test_temporal_attention_weights_over_frames():
    _seeded()
    ta = Mo.TemporalAttention(8, max_frames=10)
    pooled, w = ta(torch.randn(2, 7, 8))
    assert pooled.shape == (2, 8) and w.shape == (2, 7)
    torch.testing.assert_close(w.sum(1), torch.ones(2))
    with pytest.raises(ValueError, match="frames"):
        ta(torch.randn(2, 7))


def test_transformer_block_shapes_and_rows_sum_to_one():
    _seeded()
    block = Mo.TransformerBlock(8, heads=2)
    x, w = block(torch.randn(2, 5, 8))
    assert x.shape == (2, 5, 8) and w.shape == (2, 2, 5, 5)
    torch.testing.assert_close(w.sum(-1), torch.ones(2, 2, 5))


# ---------------------------------------------------------------------------------- models
def test_decoder_shapes_and_generate():
    _seeded()
    model = M.AdditiveAttentionDecoder(n_symbols=5, hidden=8)
    src = torch.randint(1, 6, (3, 4))
    tgt_in = torch.randint(0, 6, (3, 4))
    logits, w = model(src, tgt_in)
    assert logits.shape == (3, 4, 6) and w.shape == (3, 4, 4)
    torch.testing.assert_close(w.sum(-1), torch.ones(3, 4))
    tokens, wg = model.generate(src)
    assert tokens.shape == (3, 4) and wg.shape == (3, 4, 4)
    assert bool((tokens >= 1).all())  # BOS is never produced


def test_decoder_attention_is_additive_score_softmax():
    _seeded()
    model = M.AdditiveAttentionDecoder(n_symbols=5, hidden=8)
    src = torch.randint(1, 6, (2, 5))
    memory = model.encode(src)
    state, context = model.start(memory)
    token = torch.zeros(2, dtype=torch.long)
    _, new_state, _, w = model.step(token, state, context, memory)
    scores = model.score(new_state[:, None], memory)[:, 0]  # (2, 5)
    torch.testing.assert_close(w, torch.softmax(scores, -1))


def test_count_macs_linear_and_conv():
    lin = torch.nn.Linear(3, 4)
    assert M.count_macs(lin, torch.rand(2, 3)) == 2 * 3 * 4
    conv = torch.nn.Conv2d(2, 5, 3, padding=1)
    assert M.count_macs(conv, torch.rand(1, 2, 6, 6)) == 6 * 6 * 5 * 2 * 9
    assert M.count_parameters(lin) == 16


def test_count_parameters_counts_frozen_numbers_only_when_asked():
    """One count_parameters for every lesson: trainable numbers (the rivals' budget, lessons
    05-06), or all of them with include_frozen=True (lesson 03's uniform control freezes its
    query projection). The experiments import it instead of keeping copies."""
    from course_lib.experiments import recall, seq2seq

    lin = torch.nn.Linear(3, 4)
    lin.bias.requires_grad_(False)
    assert M.count_parameters(lin) == 12 and M.count_parameters(lin, include_frozen=True) == 16
    assert recall.count_parameters is M.count_parameters is seq2seq.count_parameters


def test_mass_on_mask_hand_case():
    w = torch.zeros(1, 2, 2)
    w[0, 0, 0], w[0, 1, 1] = 0.75, 0.25
    mask = torch.zeros(1, 4, 4, dtype=torch.bool)
    mask[0, 1, 1] = True  # inside cell (0, 0)
    mass, chance = M.mass_on_mask(w, mask)
    assert math.isclose(mass, 0.75) and math.isclose(chance, 0.25)


def test_mass_on_mask_rim_grows_the_region():
    w = torch.zeros(1, 4, 4)
    w[0, 0, 0] = 1.0                        # all weight on the top-left cell (pixels 0-1)
    mask = torch.zeros(1, 8, 8, dtype=torch.bool)
    mask[0, 2, 2] = True                    # the target pixel is in cell (1, 1)
    assert M.mass_on_mask(w, mask)[0] == 0.0
    mass, chance = M.mass_on_mask(w, mask, rim=1)  # the rim reaches pixel (1, 1): cell (0, 0)
    assert mass == 1.0 and math.isclose(chance, 4 / 16)


def test_require_shape_names_the_argument_the_layout_and_what_it_saw():
    require_shape(torch.zeros(2, 1, 4, 4), "images", 4, "(B, C, H, W)", C=1)   # fits: no error
    with pytest.raises(ValueError, match=r"^images must have shape \(B, C, H, W\) with C=1, "
                                         r"got \(2, 3, 4, 4\)$"):
        require_shape(torch.zeros(2, 3, 4, 4), "images", 4, "(B, C, H, W)", C=1)
    with pytest.raises(ValueError, match=r"^tokens must have shape \(B, n, dim\), got \(5, 7\)$"):
        require_shape(torch.zeros(5, 7), "tokens", 3, "(B, n, dim)")
    with pytest.raises(ValueError, match=r"got list$"):
        require_shape([[1.0]], "x", 2, "(B, n)")
