"""Lesson 00's explorer: the three steps of attention on four 2-D keys, driven by a query you
steer. The keys, values and the computation are lesson 00's example in course_lib.data.examples.
"""
from __future__ import annotations

import numpy as np
import ipywidgets as W

from course_lib.data.examples import KEYS_00 as KEYS, NAMES_00 as NAMES, VALUES_00 as VALUES, three_steps
from course_lib.plotting import COLORS
from course_lib.widgets.base import Explorer, new_figure, register

MAX_LENGTH = 4.0   # the longest query the explorer allows
# |q . k| <= |q| |k|: a score axis this tall holds every score the explorer can produce.
SCORE_REACH = 1.05 * MAX_LENGTH * float(np.linalg.norm(KEYS, axis=1).max())


@register("three_steps")
def three_steps_explorer() -> Explorer:
    """Steer a query; watch scores (step 1), weights (step 2) and the output (step 3) follow."""
    fig = new_figure(10.5, 2.9)
    ax_keys, ax_scores, ax_weights, ax_out = fig.subplots(1, 4)
    q, s, w, out = three_steps(30.0, 1.5, 1.0)

    for i, key in enumerate(KEYS):
        ax_keys.annotate("", key, (0, 0), arrowprops=dict(arrowstyle="->", color=COLORS[i], lw=2))
        ax_keys.text(*(key * 1.15), NAMES[i], color=COLORS[i], ha="center", va="center")
    (query_line,) = ax_keys.plot([0, q[0]], [0, q[1]], color="black", lw=2.5, label="query")
    ax_keys.set(xlim=(-2.2, 2.2), ylim=(-2.2, 2.2), aspect="equal",
                title="query and keys", xlabel="feature 1", ylabel="feature 2")
    ax_keys.legend(loc="lower left", fontsize=8)

    score_bars = ax_scores.bar(NAMES, s, color=COLORS[:4])
    ax_scores.axhline(0, color="gray", lw=0.8)
    ax_scores.set(ylim=(-SCORE_REACH, SCORE_REACH), title="1. similarity q·k", ylabel="score")

    weight_bars = ax_weights.bar(NAMES, w, color=COLORS[:4])
    ax_weights.set(ylim=(0, 1), title="2. weights (softmax)", ylabel="weight")

    ax_out.scatter(*VALUES.T, c=COLORS[:4], s=80)
    for i, v in enumerate(VALUES):
        ax_out.text(v[0], v[1] + 0.45, f"v{i + 1}", ha="center", color=COLORS[i])
    (out_point,) = ax_out.plot(*out, marker="*", ms=16, color="black", ls="none",
                               label="output = Σ w·v")
    ax_out.set(xlim=(-4, 4), ylim=(-4, 4), aspect="equal", title="3. weighted average",
               xlabel="value 1", ylabel="value 2")
    ax_out.legend(loc="lower left", fontsize=8)

    controls = {
        "angle_deg": W.FloatSlider(value=30.0, min=0.0, max=360.0, step=5.0,
                                   description="query angle"),
        "length": W.FloatSlider(value=1.5, min=0.1, max=MAX_LENGTH, step=0.1,
                                description="query length"),
        "temperature": W.FloatLogSlider(value=1.0, base=10, min=-1, max=1, step=0.05,
                                        description="temperature"),
    }

    def update(angle_deg, length, temperature):
        q, s, w, out = three_steps(angle_deg, length, temperature)
        query_line.set_data([0, q[0]], [0, q[1]])
        for bar, value in zip(score_bars, s):
            bar.set_height(value)
        for bar, value in zip(weight_bars, w):
            bar.set_height(value)
        out_point.set_data([out[0]], [out[1]])

    return Explorer(fig, controls, update,
                    "Turn the query towards a key: its score rises, its weight grows, and the "
                    "output moves towards that key's value. A longer query (or a lower "
                    "temperature) makes the choice sharper.",
                    animated=[query_line, *score_bars, *weight_bars, out_point])
