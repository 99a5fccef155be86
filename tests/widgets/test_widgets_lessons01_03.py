"""Headless tests of the explorers of lessons 01-03.

For every control of every explorer we set ``.value`` (as a learner moving a slider would) and
check that (1) the rendered picture ``explorer.image.value`` changed, (2) the artists that depend on
that control changed their data, and (3) artists that do not depend on it stayed as they were.
Artists are named by their position in ``explorer.animated`` (the list each explorer declares).
"""
import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest

import course_lib as cl
from course_lib.widgets import EXPLORERS

from helpers.artists import assert_control_updates


# explorer -> control -> (new value, indices in `animated` that must change, that must not change)
N_KEYS = 5
STEER_QUERY = [0, 1]
STEER_AXES = [2] + list(range(3 + 2 * N_KEYS + 1, 3 + 2 * N_KEYS + 7))   # title, zero, ticks
STEER_SCORES = list(range(3, 3 + N_KEYS))
STEER_WEIGHTS = list(range(3 + N_KEYS, 3 + 2 * N_KEYS))
TM_SCORES, TM_WEIGHTS = list(range(12)), list(range(12, 24))
SPEC = {
    "steer_query": {
        "angle_deg": (140.0, STEER_QUERY + STEER_SCORES + STEER_WEIGHTS, STEER_AXES),
        "length": (2.7, STEER_QUERY + STEER_SCORES + STEER_WEIGHTS, STEER_AXES),
        "measure": ("neg_sq_euclidean", STEER_SCORES + STEER_AXES, STEER_QUERY),
    },
    "patch_similarity": {  # [score map, query box, match markers, query marker, map title]
        "row": (9, [0, 1, 2, 3], [4]),
        "col": (2, [0, 1, 2, 3], [4]),
        "measure": ("neg_sq_euclidean", [0, 2, 4], [1, 3]),
    },
    "temperature_mask": {  # [12 score bars, 12 weight bars, info text, weight matrix, row marker]
        "temperature": (0.2, TM_WEIGHTS + [24, 25], TM_SCORES + [26]),
        "mask": ("causal", TM_WEIGHTS + [24, 25], TM_SCORES + [26]),
        "rule": ("top-3", TM_WEIGHTS + [24, 25], TM_SCORES + [26]),
        "query": (9, TM_SCORES + TM_WEIGHTS + [24, 26], [25]),
    },
    "kernel_regression": {  # [fit curve, query line, query point, stems, kernel, query line 2, info]
        "query_x": (4.2, [1, 2, 3, 4, 5, 6], [0]),
        "width": (1.0, [0, 2, 3, 4, 6], [1, 5]),
        "kernel": ("epanechnikov", [0, 2, 3, 4, 6], [1, 5]),
    },
    "patch_attention": {  # [weight map, query box, query marker, info text]
        "row": (9, [0, 1, 2, 3], []),
        "col": (1, [0, 1, 2, 3], []),
        "temperature": (0.5, [0, 3], [1, 2]),
        "positions": (True, [0], [1, 2]),
    },
}


def _cases():
    for name, controls in SPEC.items():
        for control, (value, must, must_not) in controls.items():
            yield pytest.param(name, control, value, must, must_not, id=f"{name}-{control}")


def test_every_lesson_explorer_is_registered_and_every_control_is_tested():
    for name, controls in SPEC.items():
        assert name in EXPLORERS
        explorer = EXPLORERS[name]()
        assert set(explorer.controls) == set(controls), name


@pytest.mark.parametrize("name, control, value, must, must_not", list(_cases()))
def test_setting_a_control_updates_the_right_artists(name, control, value, must, must_not):
    assert_control_updates(EXPLORERS[name](), control, value, must, must_not)


def test_steer_query_score_axis_holds_every_score():
    import course_lib as cl
    from course_lib.data.examples import KEYS_01 as KEYS
    from course_lib.widgets.lesson01 import MAX_LENGTH, SCORE_LIMITS, query_vector

    for measure, (low, high) in SCORE_LIMITS.items():
        for angle in range(0, 360, 5):
            scores = cl.similarity(query_vector(angle, MAX_LENGTH), KEYS, measure)
            assert low <= scores.min() and scores.max() <= high, (measure, angle)


def test_steer_query_scores_follow_the_library():
    import course_lib as cl
    from course_lib.data.examples import KEYS_01 as KEYS
    from course_lib.widgets.lesson01 import query_vector, score_to_axis

    explorer = EXPLORERS["steer_query"]()
    explorer.controls["measure"].value = "neg_sq_euclidean"
    explorer.controls["angle_deg"].value = 200.0
    tops = [bar.get_y() + bar.get_height() for bar in explorer.animated[3:3 + N_KEYS]]
    q = query_vector(200.0, explorer.controls["length"].value)
    expected = cl.similarity(q, KEYS, "neg_sq_euclidean")[0]
    np.testing.assert_allclose(tops, score_to_axis(expected, "neg_sq_euclidean"))
    # read back through the axis: the tick labels are the measure's values at the ticks
    ticks = explorer.animated[3 + 2 * N_KEYS + 2:]
    values = [float(t.get_text()) for t in ticks]
    low, high = values[0], values[-1]
    np.testing.assert_allclose(low + (np.array(tops) + 1) / 2 * (high - low), expected, rtol=0.01)
    assert "|q−k|²" in explorer.animated[2].get_text()
    weights = [bar.get_height() for bar in explorer.animated[3 + N_KEYS:3 + 2 * N_KEYS]]
    np.testing.assert_allclose(sum(weights), 1.0)


def test_temperature_mask_weights_follow_the_library():
    import course_lib as cl
    from course_lib.data.examples import demo_mask, demo_scores

    explorer = EXPLORERS["temperature_mask"]()
    explorer.controls["mask"].value = "local window"
    explorer.controls["temperature"].value = 0.5
    explorer.controls["query"].value = 3
    expected = cl.softmax_weights(demo_scores(), 0.5, demo_mask("local window"))
    heights = [bar.get_height() for bar in explorer.animated[12:24]]
    np.testing.assert_allclose(heights, expected[3])
    np.testing.assert_allclose(explorer.animated[25].get_array(), expected)
    explorer.controls["rule"].value = "argmax"
    heights = np.array([bar.get_height() for bar in explorer.animated[12:24]])
    assert heights.sum() == 1 and np.count_nonzero(heights) == 1
    assert demo_mask("local window")[3, heights.argmax()]   # argmax stays inside the window


def test_kernel_regression_stems_are_the_library_weights():
    from course_lib.attention.kernel_regression import make_1d_data, nadaraya_watson

    explorer = EXPLORERS["kernel_regression"]()
    x, y = make_1d_data(40, noise=0.3, seed=0)
    for kernel in ("gaussian", "boxcar", "epanechnikov"):
        explorer.controls["kernel"].value = kernel
        explorer.controls["query_x"].value = 1.3
        explorer.controls["width"].value = 0.4
        pred, w = nadaraya_watson(np.array([1.3]), x, y, 0.4, kernel)
        tops = [segment[1, 1] for segment in explorer.animated[3].get_segments()]
        np.testing.assert_allclose(tops, w[0])
        np.testing.assert_allclose(explorer.animated[2].get_ydata(), pred)


def test_kernel_regression_says_when_the_window_is_empty():
    explorer = EXPLORERS["kernel_regression"]()
    explorer.controls["kernel"].value = "boxcar"
    explorer.controls["width"].value = 10 ** -1.5        # the narrowest window
    texts = []
    for query_x in np.arange(0.0, 5.0, 0.05):
        explorer.controls["query_x"].value = float(query_x)
        texts.append(explorer.animated[6].get_text())
    assert any("no prediction" in t for t in texts)
    assert any(t.startswith(tuple(f"{k} of 40" for k in range(1, 41))) for t in texts)


def test_patch_attention_uses_one_fixed_scale():
    from course_lib.plotting import weight_log_norm

    explorer = EXPLORERS["patch_attention"]()
    image = explorer.animated[0]
    norm = image.norm
    assert (norm.vmin, norm.vmax) == (weight_log_norm().vmin, 1.0)
    explorer.controls["temperature"].value = 1.0          # nearly uniform weights
    assert image.norm is norm and np.asarray(image.get_array()).max() < 0.1
    assert explorer.animated[3].get_text().startswith("0.0")      # the largest weight


def test_three_steps_score_axis_holds_every_score():
    from course_lib.data.examples import three_steps
    from course_lib.widgets.lesson00 import MAX_LENGTH, SCORE_REACH

    for angle in range(0, 360, 5):
        _, scores, _, _ = three_steps(angle, MAX_LENGTH, 1.0)
        assert np.abs(scores).max() <= SCORE_REACH


def test_the_lesson_02_explorer_hands_the_temperature_to_the_rule():
    from course_lib.attention.masks import causal_mask, window_mask
    from course_lib.attention.weight_rules import hard_weights, sparsemax, topk_weights
    from course_lib.widgets.lesson02 import weigh

    scores = np.random.default_rng(0).normal(size=(6, 6))
    rules = {"softmax": cl.softmax_weights, "top-3": lambda s, t, m: topk_weights(s, t, m, k=3),
             "sparsemax": sparsemax, "argmax": hard_weights}
    for mask in (np.ones((6, 6), bool), causal_mask(6), window_mask(6, 1)):
        for name, rule in rules.items():
            for t in (0.1, 1.0, 7.0):
                np.testing.assert_array_equal(weigh(scores, name, t, mask), rule(scores, t, mask))
