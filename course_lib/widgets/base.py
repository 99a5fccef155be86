"""The one pattern behind every explorer in the course.

An :class:`Explorer` owns a matplotlib ``Figure`` that is drawn once, a few ipywidgets controls,
and an ``update`` function that changes the figure's *existing* artists (``set_data``,
``set_height``, ...). Each time a control moves, ``update`` runs, the figure is re-rendered
off-screen (Agg) and the PNG is shown in an ``ipywidgets.Image``.

Why a PNG instead of an interactive canvas (ipympl)? It works the same in JupyterLab, on Binder,
in VS Code and in the static HTML site, where the last picture is embedded in the page.

Speed: redrawing a whole figure (axes, ticks, labels) takes ~50-150 ms. So an explorer lists the
artists its update changes (``animated=[...]``); everything else is drawn once into a cached
background, and each update only pastes the background and draws the moving artists on top
("blitting", a standard matplotlib technique): ~1 ms, plus ~5 ms to encode the PNG (RGB, fast
compression: an opaque figure needs no alpha channel, which saves a quarter of the work).
``benchmarks/bench_widgets.py`` times the whole path, from a control's change to the new bytes.
"""
from __future__ import annotations

import io
import time
from typing import Callable

import ipywidgets as W
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image

from ..language import tr, translate_figure

EXPLORERS: dict[str, Callable[[], "Explorer"]] = {}


def register(name: str):
    """Decorator: add a zero-argument explorer factory to ``EXPLORERS`` under ``name``."""

    def decorate(factory):
        if name in EXPLORERS:
            raise ValueError(f"an explorer named {name!r} is already registered")
        EXPLORERS[name] = factory
        return factory

    return decorate


def new_figure(width: float = 8.0, height: float = 3.2, dpi: int = 90, **subplot_kw):
    """A pyplot-free Figure (so notebooks do not show it twice) with an Agg canvas."""
    fig = Figure(figsize=(width, height), dpi=dpi, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def figure_png(fig: Figure) -> bytes:
    """Render ``fig`` completely and return PNG bytes."""
    fig.canvas.draw()
    return canvas_png(fig)


def canvas_png(fig: Figure) -> bytes:
    """PNG bytes of what is currently on the figure's canvas (no redraw)."""
    width, height = fig.canvas.get_width_height(physical=True)
    picture = Image.frombuffer("RGBA", (width, height), fig.canvas.buffer_rgba())
    if _is_opaque(fig):
        picture = picture.convert("RGB")  # 3 bytes a pixel to compress instead of 4
    buf = io.BytesIO()
    # Fast compression: the explorer's pictures are small and are re-sent on every move.
    picture.save(buf, format="png", compress_level=1)
    return buf.getvalue()


def _is_opaque(fig: Figure) -> bool:
    """True if the figure's background hides everything behind it (then alpha is always 255)."""
    from matplotlib.colors import to_rgba

    return fig.patch.get_visible() and to_rgba(fig.patch.get_facecolor(), fig.patch.get_alpha())[3] == 1.0


# Controls show their whole label: ipywidgets gives a description a fixed 80 px and cuts the rest
# ("temperat..."). The label gets its natural width, and the control grows to keep its track.
LABEL_PX_PER_CHAR = 8


def fit_label(control) -> None:
    """Give ``control`` room for its whole description (unless the lesson sized it itself)."""
    description = getattr(control, "description", "")
    style = getattr(control, "style", None)
    if not description or style is None or not hasattr(style, "description_width"):
        return
    if not style.description_width:
        style.description_width = "initial"
    # Buttons (ToggleButtons, RadioButtons, Checkbox) size themselves; a slider or a drop-down
    # has a fixed width that the label would eat into.
    track = {W.IntSlider: 240, W.FloatSlider: 240, W.FloatLogSlider: 240, W.SelectionSlider: 240,
             W.IntRangeSlider: 240, W.FloatRangeSlider: 240, W.Dropdown: 160}.get(type(control))
    if track and control.layout.width is None:
        control.layout.width = f"{track + LABEL_PX_PER_CHAR * len(description)}px"


class Explorer:
    """A figure, its controls and the function that redraws it.

    Args:
        figure: a matplotlib Figure whose artists ``update`` modifies in place.
        controls: ``{name: ipywidgets value widget}``; their values are passed to ``update``
            as keyword arguments.
        update: ``update(**values)``; changes artists, never creates a new figure.
        description: one sentence shown above the controls (what to try).
        animated: the artists ``update`` changes. Only these are redrawn on each update; the rest
            of the figure is a cached background. Leave it empty to redraw everything (slow).
            If ``update`` changes anything else (axis limits, a colour bar's range, a title not
            listed here), it returns ``True`` to ask for a full redraw.

    Attributes:
        widget: the ipywidgets box to display (``display(explorer)`` works too).
        controls, figure: as given. ``last_update_ms`` is the duration of the latest update.
    """

    def __init__(self, figure: Figure, controls: dict, update: Callable, description: str = "",
                 animated=()):
        self.figure = figure
        self.controls = dict(controls)
        self._update = update
        self.animated = list(animated)
        self._background = None
        self.last_update_ms = float("nan")
        self.image = W.Image(format="png", layout=W.Layout(max_width="100%", height="auto"))
        translate_figure(figure)  # titles, labels, legends in the learner's language
        description = tr(description)
        for control in self.controls.values():
            if getattr(control, "description", ""):
                control.description = tr(control.description)
            fit_label(control)
            control.observe(self._on_change, names="value")
        header = [W.HTML(f"<p>{description}</p>")] if description else []
        boxes = [c for c in self.controls.values()]
        self.widget = W.VBox(header + [W.HBox(boxes, layout=W.Layout(flex_flow="row wrap")),
                                       self.image])
        self.refresh()

    def values(self) -> dict:
        return {name: control.value for name, control in self.controls.items()}

    def refresh(self) -> None:
        """Run ``update`` with the current control values and re-render the picture."""
        start = time.perf_counter()
        wants_full_redraw = self._update(**self.values()) is True
        translate_figure(self.figure)  # the texts update just set, too (nothing to do in English)
        if not self.animated:
            self.image.value = figure_png(self.figure)
        else:
            if wants_full_redraw or self._background is None:
                self.redraw_background()
            canvas = self.figure.canvas
            canvas.restore_region(self._background)
            for artist in self.animated:
                self.figure.draw_artist(artist)
            self.image.value = canvas_png(self.figure)
        self.last_update_ms = (time.perf_counter() - start) * 1e3

    def redraw_background(self) -> None:
        """Draw everything but the animated artists once, and keep that picture."""
        for artist in self.animated:
            artist.set_animated(True)  # animated artists are skipped by a full draw
        self.figure.canvas.draw()
        # The layout is now computed; freezing it keeps later draws from moving the axes.
        self.figure.set_layout_engine("none")
        self._background = self.figure.canvas.copy_from_bbox(self.figure.bbox)

    def _on_change(self, change) -> None:
        self.refresh()

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)
