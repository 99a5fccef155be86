"""Lesson 05, section 4: the reversal task's data, its four models and its explorer (fast).

What the lesson claims about the trained models is asserted over seeds 0-4 by
tests/claims/test_lesson05_reversal_claims.py (a claims test: make claims).
"""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from course_lib.experiments import seq2seq as S
from course_lib.widgets import EXPLORERS


# --------------------------------------------------------------------------------------------
# Data and model
# --------------------------------------------------------------------------------------------
def test_reversal_data():
    src, tgt = S.reversal_batch(50, 7, 8, torch.Generator().manual_seed(0))
    assert src.shape == tgt.shape == (50, 7)
    assert torch.equal(tgt, src.flip(1))
    assert int(src.min()) >= 1 and int(src.max()) <= 8   # 0 is BOS, never a symbol
    a, b = S.make_task([4, 9], n_test=10)[1], S.make_task([4, 9], n_test=10)[1]
    assert all(torch.equal(a[k][0], b[k][0]) for k in a)  # seeded
    assert a[9][0].shape == (10, 9)
    train, _ = S.make_task([4, 9], n_test=10)
    assert train == {"lengths": (4, 9), "n_symbols": 8}   # fit draws its batches from these
    shifted = S.shift_right(tgt)
    assert torch.equal(shifted[:, 1:], tgt[:, :-1]) and bool((shifted[:, 0] == S.BOS).all())


@pytest.mark.parametrize("kind", S.ATTENTION_KINDS)
def test_shapes_and_weights(kind):
    torch.manual_seed(0)
    model = S.Reverser(n_symbols=8, hidden=16, attention=kind)
    src, tgt = S.make_task([6], n_test=5)[1][6]
    logits, weights = model(src, S.shift_right(tgt))
    assert logits.shape == (5, 6, 9)
    if kind == "none":
        assert weights is None
    else:
        assert weights.shape == (5, 6, 6)
        torch.testing.assert_close(weights.sum(-1), torch.ones(5, 6))
    if kind == "uniform":
        torch.testing.assert_close(weights, torch.full((5, 6, 6), 1 / 6))


def test_dot_attention_matches_torch_sdpa():
    """The context is PyTorch's scaled dot-product attention of the decoder states over the memory."""
    torch.manual_seed(1)
    model = S.Reverser(hidden=16, attention="dot")
    src, tgt = S.make_task([5], n_test=3)[1][5]
    memory, start = model.encode(src)
    states, _ = model.decoder(model.embed(S.shift_right(tgt)) + model.out_position(torch.arange(5)),
                              start)
    context = F.scaled_dot_product_attention(states, memory, memory)
    expected = model.out(torch.tanh(model.combine(torch.cat([states, context], -1))))
    logits, _ = model(src, S.shift_right(tgt))
    torch.testing.assert_close(logits, expected)


@pytest.mark.parametrize("kind", S.ATTENTION_KINDS)
def test_greedy_generation_agrees_with_teacher_forcing(kind):
    """Feeding generate's own outputs back through the parallel forward gives the same outputs
    and weights: the step-by-step decoder and the teacher-forced one are the same model."""
    torch.manual_seed(2)
    model = S.Reverser(hidden=16, attention=kind).eval()
    src, _ = S.make_task([7], n_test=20)[1][7]
    tokens, weights = model.generate(src)
    logits, forced_weights = model(src, S.shift_right(tokens))
    logits[..., S.BOS] = -torch.inf
    assert torch.equal(logits.argmax(-1), tokens)
    if kind != "none":
        torch.testing.assert_close(weights, forced_weights)


def test_parameter_counts_match_within_ten_percent():
    """The 10% rule, on the models fit builds (hidden 34 without a context)."""
    counts = {kind: S.count_parameters(S.Reverser(hidden=S.BUDGET["hidden_none"] if kind == "none"
                                                  else S.BUDGET["hidden"], attention=kind))
              for kind in S.ATTENTION_KINDS}
    assert counts["dot"] == counts["uniform"] == counts["fixed"]
    assert all(abs(n - counts["dot"]) <= 0.1 * counts["dot"] for n in counts.values()), counts


def test_fixed_index_weights_are_the_anti_diagonal():
    weights = S.fixed_index_weights(3, 6, 6)
    torch.testing.assert_close(weights, torch.eye(6).flip(-1).expand(3, 6, 6))
    torch.testing.assert_close(S.fixed_index_weights(2, 1, 6, first_step=4),
                               torch.eye(6).flip(-1)[4:5].expand(2, 1, 6))
    with pytest.raises(ValueError, match="steps"):
        S.fixed_index_weights(1, 3, 6, first_step=4)


def test_fixed_index_reads_the_copied_position_only():
    """Changing any input symbol but the one step i copies leaves step i's context unchanged."""
    torch.manual_seed(0)
    model = S.Reverser(hidden=16, attention="fixed").eval()
    src = torch.randint(1, 9, (1, 6))
    memory, _ = model.encode(src)
    states = torch.randn(1, 6, 16)
    logits, weights = model.read_out(states, memory)
    assert torch.equal(weights.argmax(-1)[0], torch.arange(5, -1, -1))
    expected = model.out(torch.tanh(model.combine(torch.cat([states, memory.flip(1)], -1))))
    torch.testing.assert_close(logits, expected)


def test_run_seed_reports_every_variant_with_the_same_metrics():
    """run_seed's shape, on a budget of 2 steps (the claims test trains the real budget)."""
    runs = S.metrics(S.fit_every_model(0, steps=2), S.make_task([4, 5], n_test=4)[1])
    assert list(runs) == [S.NAMES[k] for k in S.ATTENTION_KINDS]
    for metrics in runs.values():
        assert set(metrics) == {"parameters", "exact@4", "symbols@4", "exact@5", "symbols@5"}
        assert all(0 <= metrics[m] <= 1 for m in metrics if m != "parameters")


def test_weight_on_source_is_the_anti_diagonal():
    perfect = torch.eye(5).flip(-1)[None].repeat(2, 1, 1)   # step i on position 4 - i
    torch.testing.assert_close(S.weight_on_source(perfect), torch.ones(2, 5))
    torch.testing.assert_close(S.weight_on_source(torch.full((1, 4, 4), 0.25)), torch.full((1, 4), 0.25))
    with pytest.raises(ValueError, match="weights"):
        S.weight_on_source(torch.ones(2, 3, 4))


def test_errors_name_the_argument():
    with pytest.raises(ValueError, match="attention"):
        S.Reverser(attention="additive")
    with pytest.raises(ValueError, match="hidden"):
        S.Reverser(hidden=15)
    with pytest.raises(ValueError, match="src"):
        S.Reverser().generate(torch.ones(5, dtype=torch.long))
    with pytest.raises(ValueError, match="model_name"):
        S.fit("additive", S.make_task()[0])


# --------------------------------------------------------------------------------------------
# Explorer
# --------------------------------------------------------------------------------------------
def _bars(explorer):
    return explorer.figure.axes[1].patches


def test_decoder_steps_explorer_moves_with_the_step():
    e = EXPLORERS["decoder_steps"]()
    ax_m, ax_b = e.figure.axes[:2]
    row = [p for p in ax_m.patches][0]
    colours = lambda: [tuple(b.get_facecolor()) for b in _bars(e)]  # noqa: E731
    heights = [b.get_height() for b in _bars(e)]
    np.testing.assert_allclose(sum(heights), 1.0, rtol=1e-5)
    assert colours().count(colours()[-1]) == 1                       # step 0: the last position
    e.controls["step"].value = 4
    assert row.get_y() == pytest.approx(3.5)                         # the highlighted row moved
    assert colours().count(colours()[7]) == 1                        # step 4 copies position 7
    assert np.argmax([b.get_height() for b in _bars(e)]) == 7        # hand-made: peak there
    said = e.readout.value                                           # the sentence, in HTML
    assert "output step 4: weight" in said and "on position 7" in said and "(right)" in said


def test_decoder_steps_explorer_sequence_changes_symbols_not_layout():
    e = EXPLORERS["decoder_steps"]()
    symbols = [t.get_text() for t in e.figure.axes[1].texts]
    ticks = e.figure.axes[1].get_xticks().copy()
    e.controls["sequence"].value = 3
    assert [t.get_text() for t in e.figure.axes[1].texts] != symbols
    np.testing.assert_array_equal(e.figure.axes[1].get_xticks(), ticks)


def test_decoder_steps_explorer_accepts_a_model_and_rejects_a_control():
    torch.manual_seed(0)
    e = EXPLORERS["decoder_steps"](S.Reverser(hidden=16), n_sequences=3, length=6)
    assert len(_bars(e)) == 6 and "trained attention" in e.figure.axes[0].get_title()
    with pytest.raises(ValueError, match="attention='dot'"):
        EXPLORERS["decoder_steps"](S.Reverser(hidden=16, attention="uniform"))
