"""Lesson 01's explorers: the same query scored by different similarity measures.

``steer_query``      a 2-D query you steer against five fixed keys of different lengths;
                     pick the measure and watch which key wins.
``patch_similarity`` pick a patch of a real photo; see how similar every other patch is to it
                     under each measure, and where its five best matches are.
"""
from __future__ import annotations

import ipywidgets as W
import numpy as np
from matplotlib.patches import Rectangle

from course_lib.attention.core import SIMILARITY_KINDS, similarity, softmax_weights
from course_lib.data.examples import KEY_NAMES_01 as KEY_NAMES, KEYS_01 as KEYS, best_matches
from course_lib.data.images import load_photo, patches
from course_lib.plotting import COLORS, MEASURE_LABELS, OKABE_ITO, WEIGHT_CMAP, show_image
from course_lib.widgets.base import Explorer, new_figure, register
from course_lib.basics.language import tr

# KEYS (lesson 01's example): chosen so the measures disagree.
MAX_LENGTH = 3.0   # the longest query the explorer allows
# Score axes that hold every score the explorer can produce: |q.k| <= |q| |k| and
# |q - k| <= |q| + |k|, with the longest query and the longest key.
_LONGEST_KEY = float(np.linalg.norm(KEYS, axis=1).max())
_REACH = 1.05 * MAX_LENGTH * _LONGEST_KEY
SCORE_LIMITS = {"dot": (-_REACH, _REACH), "scaled_dot": (-_REACH / np.sqrt(2), _REACH / np.sqrt(2)),
                "cosine": (-1.1, 1.1),
                "neg_sq_euclidean": (-1.05 * (MAX_LENGTH + _LONGEST_KEY) ** 2, 1.0)}


def score_to_axis(scores, measure: str):
    """Scores -> heights on the explorer's score axis, which runs from -1 (the lowest score the
    measure can give here) to 1 (the highest). Each measure has its own range; drawing them all on
    one fixed axis with the tick labels rewritten is ~10x faster than changing the axis limits,
    which would redraw the whole figure."""
    low, high = SCORE_LIMITS[measure]
    return -1.0 + 2.0 * (np.asarray(scores, dtype=float) - low) / (high - low)


def query_vector(angle_deg: float, length: float) -> np.ndarray:
    """The 2-D query ``length * (cos a, sin a)`` as a ``(1, 2)`` array."""
    a = np.deg2rad(angle_deg)
    return length * np.array([[np.cos(a), np.sin(a)]])


@register("steer_query")
def steer_query_explorer() -> Explorer:
    """Steer a query; compare how dot, scaled dot, cosine and distance rank the same keys."""
    fig = new_figure(10.0, 3.0)
    ax_plane, ax_scores, ax_weights = fig.subplots(1, 3, width_ratios=[1.1, 1, 1])
    for i, key in enumerate(KEYS):
        ax_plane.annotate("", key, (0, 0), arrowprops=dict(arrowstyle="->", color=COLORS[i], lw=2))
        ax_plane.text(*(key * 1.12 + 0.05), KEY_NAMES[i], color=COLORS[i], ha="center")
    # the query dashed: pointed at a key (k2 at the start) it must not hide it
    (query_line,) = ax_plane.plot([0, 1], [0, 0], color="black", lw=1.5, ls=(0, (3, 2)),
                                  label="query")
    (query_tip,) = ax_plane.plot([1], [0], "o", color="black", ms=4)
    ax_plane.set(xlim=(-3, 3), ylim=(-3, 3), aspect="equal", xlabel="feature 1",
                 ylabel="feature 2", title="query (black, dashed) and keys")
    ax_plane.legend(loc="lower left", fontsize=8)

    score_bars = ax_scores.bar(KEY_NAMES, np.zeros(len(KEYS)), color=COLORS[:len(KEYS)])
    (zero_line,) = ax_scores.plot([-0.5, len(KEYS) - 0.5], [0, 0], color="gray", lw=0.8)
    ticks = np.linspace(-1, 1, 5)
    ax_scores.set(ylim=(-1.1, 1.1), xlim=(-0.5, len(KEYS) - 0.5), yticks=ticks,
                  yticklabels=[""] * len(ticks))
    ax_scores.set_ylabel("score", labelpad=22)
    tick_labels = [ax_scores.text(-0.03, t, "", transform=ax_scores.get_yaxis_transform(),
                                  ha="right", va="center", fontsize=9) for t in ticks]
    score_title = ax_scores.set_title(" ")
    weight_bars = ax_weights.bar(KEY_NAMES, np.zeros(len(KEYS)), color=COLORS[:len(KEYS)])
    ax_weights.set(ylim=(0, 1), ylabel="weight", title="softmax of the scores")
    ax_weights.text(0.86, 0.95, "best match:", transform=ax_weights.transAxes, ha="right",
                    va="top", fontsize=9, color="0.3")
    best_text = ax_weights.text(0.88, 0.95, "", transform=ax_weights.transAxes, ha="left",
                                va="top", fontsize=9)

    controls = {
        "angle_deg": W.FloatSlider(value=20.0, min=0.0, max=360.0, step=5.0,
                                   description="query angle"),
        "length": W.FloatSlider(value=1.5, min=0.2, max=MAX_LENGTH, step=0.1,
                                description="query length"),
        "measure": W.Dropdown(options=list(SIMILARITY_KINDS), value="dot", description="measure"),
    }
    shown = {"measure": None}

    def update(angle_deg, length, measure):
        q = query_vector(angle_deg, length)
        scores = similarity(q, KEYS, kind=measure)[0]
        weights = softmax_weights(scores)
        query_line.set_data([0, q[0, 0]], [0, q[0, 1]])
        query_tip.set_data([q[0, 0]], [q[0, 1]])
        zero = float(score_to_axis(0.0, measure))
        for bar, height in zip(score_bars, score_to_axis(scores, measure)):
            bar.set_y(zero)
            bar.set_height(height - zero)
        for bar, w in zip(weight_bars, weights):
            bar.set_height(w)
        best_text.set_text(KEY_NAMES[int(np.argmax(scores))])
        if shown["measure"] != measure:  # the measure's own range on the fixed score axis
            shown["measure"] = measure
            low, high = SCORE_LIMITS[measure]
            for text, t in zip(tick_labels, ticks):
                text.set_text(f"{low + (t + 1) / 2 * (high - low):.3g}")
            zero_line.set_ydata([zero, zero])
            score_title.set_text(tr("scores: {measure}").format(measure=MEASURE_LABELS[measure]))

    return Explorer(fig, controls, update,
                    "Point the query at k1 and k2 in turn, then switch the measure. The dot "
                    "product favours long keys; cosine looks only at the direction; the distance "
                    "favours keys whose tip is near the query's tip.",
                    animated=[query_line, query_tip, score_title, *score_bars, *weight_bars,
                              best_text, zero_line, *tick_labels])


# ------------------------------------------------------------------------------------------
PATCH = 8


def photo_patch_scores(photo: str = "camera", size: int = 128, patch: int = PATCH):
    """A grayscale photo, its patches ``(n, patch*patch)``, the grid shape and, for every
    measure, the full ``(n, n)`` score matrix between patches (computed once)."""
    image = load_photo(photo, size=size, gray=True)
    vectors, grid = patches(image, patch)
    scores = {kind: similarity(vectors, vectors, kind=kind) for kind in SIMILARITY_KINDS}
    return image, vectors, grid, scores


@register("patch_similarity")
def patch_similarity_explorer() -> Explorer:
    """Pick a patch of the photo; see every patch's similarity to it under a chosen measure."""
    image, _, (rows, cols), all_scores = photo_patch_scores()
    fig = new_figure(8.0, 3.6)
    ax_photo, ax_map = fig.subplots(1, 2)
    show_image(ax_photo, image, title="query patch (box) and its 5 best matches")
    query_box = Rectangle((0, 0), PATCH, PATCH, fill=False, ec=OKABE_ITO["orange"], lw=2)
    ax_photo.add_patch(query_box)
    (match_marks,) = ax_photo.plot([], [], "s", ms=7, mfc="none", mec=OKABE_ITO["sky"], mew=2)
    score_map = ax_map.imshow(np.zeros((rows, cols)), cmap=WEIGHT_CMAP, vmin=0, vmax=1,
                              interpolation="nearest")
    fig.colorbar(score_map, ax=ax_map, fraction=0.046, pad=0.04,
                 label="score (0 = lowest, 1 = highest)")
    (map_query,) = ax_map.plot([0], [0], "s", ms=8, mfc="none", mec=OKABE_ITO["orange"], mew=2)
    ax_map.set(xticks=[], yticks=[])

    controls = {
        "row": W.IntSlider(value=4, min=0, max=rows - 1, description="patch row"),
        "col": W.IntSlider(value=11, min=0, max=cols - 1, description="patch column"),
        "measure": W.Dropdown(options=list(SIMILARITY_KINDS), value="cosine",
                              description="measure"),
    }
    def update(row, col, measure):
        index = row * cols + col
        s = all_scores[measure][index]
        span = s.max() - s.min()
        score_map.set_data(((s - s.min()) / (span if span > 0 else 1.0)).reshape(rows, cols))
        query_box.set_xy((col * PATCH - 0.5, row * PATCH - 0.5))
        map_query.set_data([col], [row])
        best = best_matches(s, index)
        r, c = np.divmod(best, cols)
        match_marks.set_data(c * PATCH + PATCH / 2 - 0.5, r * PATCH + PATCH / 2 - 0.5)
        ax_map.set_title(tr("similarity to the query: {measure}").format(measure=MEASURE_LABELS[measure]))

    return Explorer(fig, controls, update,
                    "Move the query patch over sky, coat and grass. The dot product prefers "
                    "the same bright patches for every query; cosine ignores brightness scale "
                    "and compares patterns; distance wants the same pattern and brightness.",
                    animated=[score_map, query_box, match_marks, map_query, ax_map.title])
