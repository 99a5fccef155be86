"""Every explorer: builds headless, has the public surface, and every control changes the picture."""
import ipywidgets as W
import numpy as np
import pytest
from matplotlib.figure import Figure

from course_lib.widgets import EXPLORERS
from helpers.controls import another_value


@pytest.mark.parametrize("name", sorted(EXPLORERS))
def test_explorer_surface_and_every_control_redraws(name):
    explorer = EXPLORERS[name]()
    assert isinstance(explorer.figure, Figure)
    assert isinstance(explorer.widget, W.Widget)
    assert explorer.controls, "an explorer needs at least one control"
    for key, control in explorer.controls.items():
        assert isinstance(control, W.ValueWidget), key
        before = explorer.image.value
        control.value = another_value(control)
        assert explorer.image.value != before, f"{name}: moving {key!r} did not change the picture"
        assert np.isfinite(explorer.last_update_ms)


def test_three_steps_explorer_moves_the_right_artists():
    from course_lib.data.examples import KEYS_00 as KEYS, three_steps

    explorer = EXPLORERS["three_steps"]()
    fig = explorer.figure
    ax_keys, ax_scores, ax_weights, ax_out = fig.axes[:4]
    # Point the query straight at key 2: its weight must become the largest bar.
    angle = np.degrees(np.arctan2(KEYS[1, 1], KEYS[1, 0]))
    explorer.controls["angle_deg"].value = float(angle)
    explorer.controls["length"].value = 4.0
    heights = [bar.get_height() for bar in ax_weights.patches]
    assert int(np.argmax(heights)) == 1 and heights[1] > 0.9
    q, s, w, out = three_steps(angle, 4.0, 1.0)
    assert np.allclose(heights, w)
    assert np.allclose([b.get_height() for b in ax_scores.patches], s)
    query_line = ax_keys.lines[0]
    assert np.allclose(query_line.get_xydata()[1], q)
    assert np.allclose(ax_out.lines[0].get_xydata()[0], out)
    # A high temperature flattens the weights towards uniform.
    explorer.controls["temperature"].value = 10.0
    heights = [bar.get_height() for bar in ax_weights.patches]
    assert max(heights) < 0.6 and np.isclose(sum(heights), 1.0)


@pytest.mark.parametrize("name", sorted(EXPLORERS))
def test_labels_are_never_cut_and_the_picture_is_the_canvas(name):
    """ipywidgets gives a label 80 px and cuts the rest ("temperat..."): every labelled control
    gets its label's natural width, and sliders and drop-downs a width that leaves a track."""
    import io

    from PIL import Image

    from course_lib.widgets.base import LABEL_PX_PER_CHAR

    explorer = EXPLORERS[name]()
    for key, control in explorer.controls.items():
        if not getattr(control, "description", "") or not hasattr(control.style, "description_width"):
            continue
        assert control.style.description_width, f"{key}: the label would be cut at 80 px"
        if isinstance(control, (W.FloatSlider, W.IntSlider, W.FloatLogSlider, W.Dropdown)):
            width = control.layout.width
            assert width and width.endswith("px"), (key, width)
            assert int(width[:-2]) >= 150 + LABEL_PX_PER_CHAR * len(control.description), (key, width)
    # The picture shown is exactly what the canvas holds (RGB when the figure is opaque).
    picture = Image.open(io.BytesIO(explorer.image.value))
    canvas = np.asarray(explorer.figure.canvas.buffer_rgba())
    shown = np.asarray(picture.convert("RGBA"))
    assert shown.shape == canvas.shape and np.array_equal(shown, canvas)


def test_notebooks_take_only_explorers_from_the_view_layer():
    """The widgets are views: a notebook, solution or exercise (either edition) takes its lesson's
    data and computations from the library (course_lib.data.examples, attention, plotting, ...),
    and from course_lib.widgets only EXPLORERS, so the lesson still runs without ipywidgets."""
    import ast
    import json
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    notebooks = [p for folder in ("notebooks", "solutions", "exercises", "zh")
                 for p in sorted((root / folder).rglob("*.ipynb")) if ".ipynb_checkpoints" not in p.parts]
    assert len(notebooks) >= 20, notebooks
    found = []
    for path in notebooks:
        for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
            if cell["cell_type"] != "code":
                continue
            # IPython's magics (%matplotlib inline) are not Python: blank them before parsing
            source = re.sub(r"(?m)^\s*[%!].*$", "", "".join(cell["source"]))
            for node in ast.walk(ast.parse(source)):
                if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("course_lib.widgets"):
                    names = [alias.name for alias in node.names]
                    if node.module != "course_lib.widgets" or names != ["EXPLORERS"]:
                        found.append(f"{path.relative_to(root)}: from {node.module} import {', '.join(names)}")
                elif isinstance(node, ast.Import) and any(a.name.startswith("course_lib.widgets")
                                                          for a in node.names):
                    found.append(f"{path.relative_to(root)}: import {node.names[0].name}")
    assert not found, "\n".join(found)
