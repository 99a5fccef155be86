"""Lesson 05, section 4: the reversal task, its three models, its explorer, and every claim.

The notebook trains seed 0 with the course's thread count and prints thresholded facts
(``seq2seq.facts``); here each fact is asserted for seeds 0-2 at torch thread counts 1 and 4
(about a minute on 2 cores).
"""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from course_lib import seq2seq as S
from course_lib.widgets import EXPLORERS


# --------------------------------------------------------------------------------------------
# Data and model
# --------------------------------------------------------------------------------------------
def test_reversal_data():
    src, tgt = S.reversal_batch(50, 7, 8, torch.Generator().manual_seed(0))
    assert src.shape == tgt.shape == (50, 7)
    assert torch.equal(tgt, src.flip(1))
    assert int(src.min()) >= 1 and int(src.max()) <= 8   # 0 is BOS, never a symbol
    a, b = S.test_sets([4, 9], n=10), S.test_sets([4, 9], n=10)
    assert all(torch.equal(a[k][0], b[k][0]) for k in a)  # seeded
    assert a[9][0].shape == (10, 9)
    shifted = S.shift_right(tgt)
    assert torch.equal(shifted[:, 1:], tgt[:, :-1]) and bool((shifted[:, 0] == S.BOS).all())


@pytest.mark.parametrize("kind", S.ATTENTION_KINDS)
def test_shapes_and_weights(kind):
    torch.manual_seed(0)
    model = S.Reverser(n_symbols=8, hidden=16, attention=kind)
    src, tgt = S.test_sets([6], n=5)[6]
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
    src, tgt = S.test_sets([5], n=3)[5]
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
    src, _ = S.test_sets([7], n=20)[7]
    tokens, weights = model.generate(src)
    logits, forced_weights = model(src, S.shift_right(tokens))
    logits[..., S.BOS] = -torch.inf
    assert torch.equal(logits.argmax(-1), tokens)
    if kind != "none":
        torch.testing.assert_close(weights, forced_weights)


def test_parameter_counts_match_within_ten_percent():
    counts = {kind: S.count_parameters(S.Reverser(hidden=34 if kind == "none" else 32,
                                                  attention=kind)) for kind in S.ATTENTION_KINDS}
    assert counts["dot"] == counts["uniform"]
    assert max(counts.values()) <= 1.1 * min(counts.values()), counts


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
    title = ax_b.texts[-1].get_text()                                # the title, as a fast text
    assert "step 4: weight" in title and "on position 7" in title and "(right)" in title


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


# --------------------------------------------------------------------------------------------
# The claims, for three seeds and two thread counts
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("threads", [1, 4], indirect=True, ids=lambda t: f"{t}threads")
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_attention_is_needed_for_long_sequences(seed, threads):
    results, test = S.run_experiment(seed=seed, progress=False)
    mass = S.mass_on_source(results["dot"]["model"], test)
    facts = S.facts(results, mass)
    scores = {k: {n: tuple(round(x, 3) for x in v) for n, v in r["scores"].items()}
              for k, r in results.items()}
    assert all(facts.values()), (facts, scores, mass)
    # The attention model stays high at every length; the controls decay with length.
    for length in test:
        assert scores["dot"][length][1] >= 0.85, scores["dot"]
    for kind in ("uniform", "none"):
        exact = [scores[kind][n][1] for n in sorted(test)]
        assert exact[0] >= 0.8 and exact[-1] <= 0.02, (kind, exact)
    # What adapts in reversal: a hand-set alignment that ignores the symbols (step i reads input
    # L-1-i) does as well as the learned weights, so the lesson says the weights move with the
    # step, not with the content.
    fixed = S.evaluate(results["dot"]["model"], test, fixed_alignment=True)
    assert fixed[12][1] >= 0.9, fixed


def test_fixed_alignment_is_refused_without_a_context():
    model = S.Reverser(attention="none")
    with pytest.raises(ValueError, match="attention='none'"):
        model.generate(torch.zeros(2, 5, dtype=torch.long), fixed_alignment=True)


def test_fixed_alignment_puts_all_weight_on_the_place_to_copy():
    torch.manual_seed(0)
    model = S.Reverser(attention="dot").eval()
    _, weights = model.generate(torch.randint(1, 9, (3, 6)), fixed_alignment=True)
    torch.testing.assert_close(weights, torch.eye(6).flip(-1).expand(3, 6, 6))
