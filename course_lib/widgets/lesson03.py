"""Lesson 03's explorers: attention as a weighted average.

``kernel_regression``  Nadaraya-Watson regression on noisy 1-D data: move the query, the kernel
                       width and the kernel; see the weights on the training points and the
                       prediction.
``patch_attention``    self-attention of a photo's patches: pick a patch and a temperature; see
                       where it attends, with or without positions added to the patch contents.
"""
from __future__ import annotations

import ipywidgets as W
import numpy as np
from matplotlib.patches import Rectangle

from course_lib.attention.core import softmax_weights
from course_lib.data.examples import SENTENCES, patch_tokens
from course_lib.attention.kernel_regression import KERNELS, kernel_shape, make_1d_data, nadaraya_watson, toy_function
from course_lib.plotting import OKABE_ITO, WEIGHT_CMAP, show_image, weight_log_norm
from course_lib.attention.positions import with_positions
from course_lib.attention.weight_rules import entropy
from course_lib.basics.language import tr
from course_lib.widgets.base import Explorer, new_figure, register
from course_lib.attention.words import HEADS, sentence_attention
from course_lib.experiments.trained_heads import (JOBS, TEST_SEED, evaluate, head_roles, make_task,
                                                  token_labels, trained_model, two_job_sequences)
from course_lib.widgets.heads import head_view

GRID = np.linspace(-0.5, 5.5, 121)


@register("kernel_regression")
def kernel_regression_explorer() -> Explorer:
    """Move the query x, the kernel width and the kernel; watch the weights and the fitted curve."""
    x, y = make_1d_data(40, noise=0.3, seed=0)
    fig = new_figure(10.0, 3.3)
    ax_fit, ax_w = fig.subplots(1, 2)
    ax_fit.plot(GRID, toy_function(GRID), ":", color="gray", label="true curve")
    ax_fit.scatter(x, y, s=14, color=OKABE_ITO["sky"], label="training points (keys, values)")
    (fit_line,) = ax_fit.plot(GRID, np.zeros_like(GRID), color=OKABE_ITO["blue"], lw=2,
                              label="prediction f(x)")
    query_line = ax_fit.axvline(2.5, color=OKABE_ITO["orange"], lw=1.5)
    (query_point,) = ax_fit.plot([2.5], [0.0], "*", ms=14, color=OKABE_ITO["orange"],
                                 label="prediction at the query")
    ax_fit.set(xlim=(GRID[0], GRID[-1]), ylim=(-2.2, 3.2), xlabel="x", ylabel="y",
               title="attention pooling = kernel regression")
    ax_fit.legend(loc="upper left", fontsize=7)

    # One collection of stems instead of 40 bars: one artist to draw per update.
    stems = ax_w.vlines(x, 0, np.zeros_like(x), color=OKABE_ITO["vermillion"], lw=3)
    (kernel_curve,) = ax_w.plot(GRID, np.zeros_like(GRID), color="gray", lw=1, ls="--")
    query_line_w = ax_w.axvline(2.5, color=OKABE_ITO["orange"], lw=1.5)
    ax_w.text(0.7, 0.95, "points weighted\nin use ≈", transform=ax_w.transAxes, ha="right",
              va="top", fontsize=9, color="0.3")
    info = ax_w.text(0.72, 0.95, "", transform=ax_w.transAxes, ha="left", va="top", fontsize=9)
    ax_w.set(xlim=(GRID[0], GRID[-1]), ylim=(0, 1), xlabel="training point x_i",
             ylabel="weight", title="the query's weight on each training point\n"
                                    "(dashed: the kernel's shape around the query)")

    controls = {
        "query_x": W.FloatSlider(value=2.5, min=0.0, max=5.0, step=0.05, description="query x"),
        "width": W.FloatLogSlider(value=0.3, base=10, min=-1.5, max=0.5, step=0.05,
                                  description="kernel width"),
        "kernel": W.Dropdown(options=list(KERNELS), value="gaussian", description="kernel"),
    }
    shown = {"curve": None}

    def update(query_x, width, kernel):
        if shown["curve"] != (width, kernel):  # the whole curve depends on these two only
            shown["curve"] = (width, kernel)
            fit_line.set_ydata(nadaraya_watson(GRID, x, y, width, kernel)[0])
        pred, w = nadaraya_watson(np.array([query_x]), x, y, width, kernel)
        query_line.set_xdata([query_x, query_x])
        query_line_w.set_xdata([query_x, query_x])
        query_point.set_data([query_x], [pred[0]])
        stems.set_segments([[(xi, 0.0), (xi, wi)] for xi, wi in zip(x, w[0])])
        kernel_curve.set_ydata(kernel_shape((GRID - query_x) / width, kernel) * w[0].max())
        if np.isnan(pred[0]):      # an empty window: nothing to average, no prediction
            info.set_text("none:\nno prediction")
        else:
            info.set_text(f"{np.count_nonzero(w[0])} of {len(x)}\n{np.exp(float(entropy(w[0]))):.1f}")

    return Explorer(fig, controls, update,
                    "Move the query: only nearby training points get weight. Shrink the width: "
                    "fewer points count and the curve follows the noise; widen it: the curve "
                    "flattens towards the mean of all y. Switch the kernel: the boxcar's curve "
                    "jumps whenever a point enters or leaves the window.",
                    animated=[fit_line, query_line, query_point, stems, kernel_curve,
                              query_line_w, info])


# ------------------------------------------------------------------------------------------
PATCH = 8


@register("patch_attention")
def patch_attention_explorer() -> Explorer:
    """Self-attention between a photo's patches: where does one patch look?"""
    image, tokens, (rows, cols) = patch_tokens(patch=PATCH)
    placed = with_positions(tokens, (rows, cols))
    scores = {False: tokens @ tokens.T, True: placed @ placed.T}
    others = ~np.eye(rows * cols, dtype=bool)  # a patch trivially matches itself: leave it out

    fig = new_figure(8.0, 3.6)
    ax_photo, ax_map = fig.subplots(1, 2)
    show_image(ax_photo, image, title="query patch (orange box)")
    box = Rectangle((0, 0), PATCH, PATCH, fill=False, ec=OKABE_ITO["orange"], lw=2)
    ax_photo.add_patch(box)
    # One fixed log scale (not each map divided by its own maximum): a nearly uniform map
    # looks uniform and dim, a sharp one bright in few places.
    weight_map = ax_map.imshow(np.full((rows, cols), 1e-3), cmap=WEIGHT_CMAP,
                               norm=weight_log_norm(), interpolation="nearest")
    bar = fig.colorbar(weight_map, ax=ax_map, fraction=0.046, pad=0.04, label="weight (log scale)")
    uniform = 1.0 / (rows * cols - 1)
    bar.ax.axhline(uniform, color=OKABE_ITO["orange"], lw=2)
    bar.ax.text(-0.6, uniform, "uniform", color=OKABE_ITO["orange"], fontsize=8, ha="right",
                va="center", transform=bar.ax.get_yaxis_transform())
    (marker,) = ax_map.plot([0], [0], "s", ms=9, mfc="none", mec=OKABE_ITO["orange"], mew=2)
    info = ax_map.text(1.0, -0.04, "", transform=ax_map.transAxes, ha="right", va="top", fontsize=9)
    ax_map.text(0.0, -0.04, "largest weight, patches in use ≈", transform=ax_map.transAxes,
                va="top", fontsize=9, color="0.3")
    ax_map.set(xticks=[], yticks=[], title="its attention weights over the other patches")

    controls = {
        "row": W.IntSlider(value=5, min=0, max=rows - 1, description="patch row"),
        "col": W.IntSlider(value=5, min=0, max=cols - 1, description="patch column"),
        "temperature": W.FloatLogSlider(value=0.1, base=10, min=-2, max=0, step=0.05,
                                        description="temperature"),
        "positions": W.Checkbox(value=False, description="add positions"),
    }

    def update(row, col, temperature, positions):
        index = row * cols + col
        w = softmax_weights(scores[positions][index], temperature, mask=others[index])
        weight_map.set_data(w.reshape(rows, cols))
        box.set_xy((col * PATCH - 0.5, row * PATCH - 0.5))
        marker.set_data([col], [row])
        info.set_text(f"{w.max():.2f}, {np.exp(float(entropy(w))):.1f}")

    return Explorer(fig, controls, update,
                    "Pick a patch on an edge or the fur: it attends to patches with similar "
                    "texture anywhere in the image. Tick 'add positions': nearby patches gain "
                    "weight, because the scores now also compare locations.",
                    animated=[weight_map, box, marker, info])


# ------------------------------------------------------------------------------------------
@register("trained_heads")
def trained_heads_explorer() -> Explorer:
    """The head view of lesson 03's trained two-head model on five test sequences."""

    model = trained_model(0)                       # trained once per session, then remembered
    roles = head_roles(evaluate(model, make_task()[1]))   # measured on 2000 test sequences
    # a head is named after the job it was measured doing (in the notebook's language)
    names = [tr("head {k}").format(k=h) + (f" ({tr(JOBS[int(r.argmax())])})" if r.max() >= 0.5 else "")
             for h, r in enumerate(roles)]
    shown = evaluate(model, two_job_sequences(5, seed=TEST_SEED + 1))
    tokens = [token_labels(l, d) for l, d in zip(shown["letters"], shown["digits"])]
    return head_view(shown["weights"][:, None], tokens, head_names=names,
                     description="Each token is a letter carrying a digit. Pick a query: one "
                                 "head looks one place to the left, the other finds the next "
                                 "letter of the alphabet wherever it is. Change the example: "
                                 "only the second head's lines move.")


# ------------------------------------------------------------------------------------------
@register("word_heads")
def word_heads_explorer() -> Explorer:
    """The head view of the two hand-built heads of course_lib.attention.words on three sentences."""

    results = [sentence_attention(s) for s in SENTENCES]
    weights = np.stack([r["weights"] for r in results])[:, None]   # (sentences, 1 layer, 2, n, n)
    return head_view(weights, [r["words"] for r in results], head_names=[tr(name) for name in HEADS],
                     description="Pick the query 'it' (position 7): the content head finds the "
                                 "animate noun, wherever it is; the position head looks one word "
                                 "back. Change the sentence. In the third, 'it' means the mat, "
                                 "but one hand-built layer cannot know that.")
