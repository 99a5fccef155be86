"""The generic head-view explorer (course_lib.widgets.heads) and lesson 03's instance of it."""
import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
import torch

from course_lib.widgets import EXPLORERS
from course_lib.widgets.heads import BAR_LENGTH, head_view


def random_weights(*shape, seed=0):
    scores = np.random.default_rng(seed).normal(size=shape) * 3
    e = np.exp(scores - scores.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def parts(explorer):
    """The moving parts by role (see head_view): the query's highlight, its lines, the bars, the
    readout's sentence, the small maps."""
    ax = explorer.figure.axes[0]
    return {"highlight": ax.patches[0], "lines": ax.collections[0], "bars": ax.patches[1:],
            "caption": explorer.readout.value,
            "thumbs": [a.images[0] for a in explorer.figure.axes[1:] if a.images]}


def test_one_layer_from_numpy_shows_the_chosen_heads_weights():
    w = random_weights(3, 5, 5)                          # (heads, n, n)
    tokens = ["the", "cat", "sat", "on", "mats"]
    explorer = head_view(w, tokens)
    assert set(explorer.controls) == {"head", "query"}
    explorer.controls["head"].value = 2
    explorer.controls["query"].value = 4
    p = parts(explorer)
    np.testing.assert_allclose([b.get_width() for b in p["bars"]], BAR_LENGTH * w[2, 4])
    np.testing.assert_allclose(p["lines"].get_linewidths(), 0.5 + 4.5 * w[2, 4])
    np.testing.assert_allclose(p["lines"].get_colors()[:, 3], w[2, 4])   # opacity = weight
    best = tokens[int(w[2, 4].argmax())]
    assert f"head 2: query → key with the largest weight: mats → {best} {w[2, 4].max():.2f};" \
        in p["caption"]
    assert p["highlight"].get_y() == pytest.approx(-4 - 0.45)


def test_layers_from_torch_and_every_heads_map():
    w = torch.as_tensor(random_weights(2, 4, 6, 6, seed=1))   # (layers, heads, n, n)
    explorer = head_view(w, [f"p{i}" for i in range(6)], layer_names=["low", "high"])
    assert set(explorer.controls) == {"layer", "head", "query"}
    before = explorer.image.value
    explorer.controls["layer"].value = 1
    assert explorer.image.value != before
    thumbs = parts(explorer)["thumbs"]
    assert len(thumbs) == 4
    for h, image in enumerate(thumbs):
        np.testing.assert_allclose(image.get_array(), w[1, h].numpy())
    assert "high, head 0: query → key with the largest weight: p0 → " in parts(explorer)["caption"]


def test_several_examples_change_the_labels_and_the_maps():
    w = random_weights(3, 1, 2, 4, 4, seed=2)             # (examples, layers, heads, n, n)
    tokens = [["a", "b", "c", "d"], ["e", "f", "g", "h"], ["i", "j", "k", "l"]]
    explorer = head_view(w, tokens)
    assert set(explorer.controls) == {"example", "head", "query"}
    explorer.controls["example"].value = 2
    texts = [t.get_text() for t in explorer.figure.axes[0].texts]   # drawn in the background
    assert {"i", "j", "k", "l"} <= set(texts) and "a" not in texts
    thumbs = parts(explorer)["thumbs"]
    np.testing.assert_allclose(thumbs[1].get_array(), w[2, 0, 1])


def test_cross_attention_with_query_labels():
    w = random_weights(2, 3, 7, seed=3)                   # 3 queries, 7 keys
    explorer = head_view(w, [f"k{i}" for i in range(7)], query_tokens=["q0", "q1", "q2"])
    assert explorer.controls["query"].max == 2
    explorer.controls["query"].value = 2
    assert "largest weight: q2 → k" in parts(explorer)["caption"]


@pytest.mark.parametrize("weights, tokens, match", [
    (np.full((5, 5), 0.2), ["a"] * 5, r"weights must have shape \(layers, heads, n_q, n_k\)"),
    (random_weights(2, 4, 4), ["a", "b", "c"], "tokens must hold 4 labels"),
    (random_weights(2, 4, 4) * 3, ["a"] * 4, r"attention weights in \[0, 1\]"),
    (random_weights(2, 1, 2, 4, 4), [["a"] * 4], "tokens must hold 4 labels for each of 2 examples"),
])
def test_bad_input_is_named(weights, tokens, match):
    with pytest.raises(ValueError, match=match):
        head_view(weights, tokens)
    with pytest.raises(ValueError, match="query_tokens must hold 3 labels"):
        head_view(random_weights(2, 3, 4), ["a"] * 4, query_tokens=["x", "y"])


def test_lesson_03_instance_names_the_heads_by_their_measured_job():
    explorer = EXPLORERS["trained_heads"]()
    titles = sorted(ax.get_title() for ax in explorer.figure.axes[1:3])
    assert any("previous position" in t for t in titles) and any("next letter" in t for t in titles)
    assert set(explorer.controls) == {"example", "head", "query"}
