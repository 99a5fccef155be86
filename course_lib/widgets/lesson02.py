"""Lesson 02's explorer: from scores to weights, with a temperature, a mask and a weighting rule.

``temperature_mask``  twelve positions attend to each other. Choose the temperature, a mask
                      (none, padding, causal, local window) and the rule (softmax, top-3,
                      sparsemax, argmax); see one query's scores and weights, its entropy, and
                      the whole weight matrix.
"""
from __future__ import annotations

import ipywidgets as W
import numpy as np

from course_lib.attention.core import softmax_weights
from course_lib.attention.masks import MASK_KINDS as MASKS
from course_lib.data.examples import N_POSITIONS as N, demo_mask, demo_scores
from course_lib.plotting import OKABE_ITO, WEIGHT_CMAP
from course_lib.attention.weight_rules import entropy, hard_weights, sparsemax, topk_weights
from course_lib.widgets.base import Explorer, new_figure, register

RULES = ("softmax", "top-3", "sparsemax", "argmax")


def weigh(scores: np.ndarray, rule: str, temperature: float, mask: np.ndarray) -> np.ndarray:
    """Weights from ``scores`` under ``rule`` (one of ``RULES``), temperature and mask: every
    rule takes ``(scores, temperature, mask)`` and owns the temperature."""
    if rule == "softmax":
        return softmax_weights(scores, temperature, mask)
    if rule == "top-3":
        return topk_weights(scores, temperature, mask, k=3)
    if rule == "sparsemax":
        return sparsemax(scores, temperature, mask)
    if rule == "argmax":
        return hard_weights(scores, temperature, mask)
    raise ValueError(f"rule={rule!r} is not one of {RULES}")


@register("temperature_mask")
def temperature_mask_explorer() -> Explorer:
    """Temperature, mask and weighting rule: how the weights (and their entropy) respond."""
    scores = demo_scores()
    positions = np.arange(N)
    fig = new_figure(10.5, 3.1)
    ax_scores, ax_weights, ax_matrix = fig.subplots(1, 3, width_ratios=[1, 1, 0.9])

    score_bars = ax_scores.bar(positions, scores[0], color=OKABE_ITO["sky"])
    ax_scores.axhline(0, color="gray", lw=0.8)
    lim = np.abs(scores).max() * 1.1
    ax_scores.set(ylim=(-lim, lim), xlabel="key position", ylabel="score", xticks=positions[::2],
                  title="scores of the chosen query\n(hatched = blocked by the mask)")
    weight_bars = ax_weights.bar(positions, np.zeros(N), color=OKABE_ITO["blue"])
    ax_weights.set(ylim=(0, 1), xlabel="key position", ylabel="weight", xticks=positions[::2],
                   title="its weights")
    # Static labels in the background, short values drawn per update (text is slow to draw).
    ax_weights.text(0.62, 0.96, "entropy (nats)\nkeys in use ≈\nnonzero", transform=ax_weights.transAxes,
                    ha="right", va="top", fontsize=9, color="0.3")
    info = ax_weights.text(0.65, 0.96, "", transform=ax_weights.transAxes, ha="left", va="top",
                           fontsize=9)
    matrix = ax_matrix.imshow(np.zeros((N, N)), cmap=WEIGHT_CMAP, vmin=0, vmax=1,
                              interpolation="nearest")
    fig.colorbar(matrix, ax=ax_matrix, fraction=0.046, pad=0.04, label="weight")
    (row_marker,) = ax_matrix.plot([-0.5, N - 0.5], [0, 0], color=OKABE_ITO["orange"], lw=1.5)
    ax_matrix.set(xlabel="key position", ylabel="query position", xticks=positions[::2],
                  yticks=positions[::2], title="all weights (orange: chosen query)")

    controls = {
        "temperature": W.FloatLogSlider(value=1.0, base=10, min=-1.3, max=1.3, step=0.05,
                                        description="temperature"),
        "mask": W.Dropdown(options=list(MASKS), value="none", description="mask"),
        "rule": W.Dropdown(options=list(RULES), value="softmax", description="rule"),
        "query": W.IntSlider(value=6, min=0, max=N - 1, description="query"),
    }

    def update(temperature, mask, rule, query):
        m = demo_mask(mask)
        weights = weigh(scores, rule, temperature, m)
        for bar, s, allowed in zip(score_bars, scores[query], m[query]):
            bar.set_height(s)
            bar.set_hatch("" if allowed else "////")
            bar.set_alpha(1.0 if allowed else 0.35)
        for bar, w in zip(weight_bars, weights[query]):
            bar.set_height(w)
        h = float(entropy(weights[query]))
        info.set_text(f"{h:.2f}\n{np.exp(h):.1f}\n{int(np.count_nonzero(weights[query] > 1e-12))}")
        matrix.set_data(weights)
        row_marker.set_ydata([query, query])

    return Explorer(fig, controls, update,
                    "Lower the temperature: the weights sharpen towards the best key and the "
                    "entropy falls; raise it: they spread out. A mask removes keys before the "
                    "softmax; top-3, sparsemax and argmax give exact zeros.",
                    animated=[*score_bars, *weight_bars, info, matrix, row_marker])
