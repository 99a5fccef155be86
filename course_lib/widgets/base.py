"""The one pattern behind every explorer in the course (lessons 00-06).

An :class:`Explorer` owns a matplotlib ``Figure`` that is drawn once, a few ipywidgets controls,
and an ``update`` function that changes the figure's *existing* artists (``set_data``,
``set_height``, ...). Each time a control moves, ``update`` runs, the figure is re-rendered
off-screen (Agg) and the PNG is shown in an ``ipywidgets.Image``.

Why a PNG instead of an interactive canvas (ipympl)? It works the same in JupyterLab, on Binder,
in VS Code and in the static HTML site, where the last picture is embedded in the page.

Speed: redrawing a whole figure (axes, ticks, labels) takes ~50-150 ms. So an explorer lists the
artists its update changes (``animated=[...]``); everything else is drawn once into a cached
background, and each update only pastes the background and draws the moving artists on top
("blitting", a standard matplotlib technique): ~1 ms plus each changed text's few ms. The PNG
is encoded by :class:`PngEncoder`, which re-compresses only the bands of rows that changed since
the last picture (RGB: an opaque figure needs no alpha channel): ~5 ms instead of ~10 ms.
``benchmarks/bench_widgets.py`` times the whole path, from a control's change to the new bytes.
"""
from __future__ import annotations

import html
import struct
import time
import zlib
from typing import Callable

import ipywidgets as W
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.artist import Artist
from matplotlib.colors import to_rgba
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from matplotlib.text import Text
from matplotlib.transforms import Bbox

from course_lib.basics.language import tr, translate_figure, translate_texts

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


def figure_png(fig: Figure, encoder: "PngEncoder | None" = None) -> bytes:
    """Render ``fig`` completely and return PNG bytes."""
    fig.canvas.draw()
    return canvas_png(fig, encoder)


def canvas_png(fig: Figure, encoder: "PngEncoder | None" = None) -> bytes:
    """PNG bytes of what is currently on the figure's canvas (no redraw).

    Pass the same ``encoder`` for successive pictures of one figure: it re-compresses only the
    rows that changed since its last picture (see :class:`PngEncoder`).
    """
    pixels = np.asarray(fig.canvas.buffer_rgba())            # (height, width, 4), a view
    if _is_opaque(fig):
        pixels = pixels[:, :, :3]  # 3 bytes a pixel to compress instead of 4
    return (encoder or PngEncoder()).encode(pixels)


class PngEncoder:
    """A PNG writer that remembers its last picture and compresses only the rows that changed.

    Why: encoding is most of an explorer's move (~10 ms of ~15-35 ms for a 900 x 300 picture with
    PIL), yet a move changes a few artists; the axes, labels and most of the white stay the same.
    A PNG's pixels are one zlib stream, and a deflate stream may be cut into independent pieces:
    each band of ``BAND_ROWS`` rows is compressed on its own and ended on a byte boundary (a
    "sync flush"), so the pieces can be joined in any combination. A band whose bytes are the
    same as last time reuses its compressed piece; comparing bytes costs far less than deflating.

    Rows use PNG's filter "none" (type 0): PIL tries filters per row, which costs more than it
    saves on flat-coloured plots. Compression level 1: the pictures are re-sent on every move.
    """

    BAND_ROWS = 16

    def __init__(self):
        self._shape = None
        self._bands: list[tuple[bytes, bytes]] = []   # (raw rows, their compressed piece)

    def encode(self, pixels: np.ndarray) -> bytes:
        """PNG bytes of ``pixels``: uint8 of shape ``(height, width, 3)`` (RGB) or ``(..., 4)`` (RGBA)."""
        height, width, channels = pixels.shape
        if pixels.dtype != np.uint8 or channels not in (3, 4):
            raise ValueError(f"pixels must be uint8 of shape (height, width, 3 or 4), got "
                             f"{pixels.dtype} of shape {pixels.shape}")
        rows = np.zeros((height, 1 + width * channels), np.uint8)  # column 0: filter type 0
        rows[:, 1:] = pixels.reshape(height, width * channels)
        if self._shape != rows.shape:
            self._shape, self._bands = rows.shape, []
        pieces = []
        for index, start in enumerate(range(0, height, self.BAND_ROWS)):
            raw = rows[start:start + self.BAND_ROWS].tobytes()
            if index < len(self._bands) and self._bands[index][0] == raw:
                pieces.append(self._bands[index][1])
                continue
            deflate = zlib.compressobj(1, zlib.DEFLATED, -15)   # raw deflate, no header
            piece = deflate.compress(raw) + deflate.flush(zlib.Z_SYNC_FLUSH)
            if index < len(self._bands):
                self._bands[index] = (raw, piece)
            else:
                self._bands.append((raw, piece))
            pieces.append(piece)
        # zlib header (deflate, 32 KB window, fastest), the pieces, an empty final block (03 00),
        # then the Adler-32 checksum of all the uncompressed bytes.
        stream = b"".join([b"\x78\x01", *pieces, b"\x03\x00",
                           struct.pack(">I", zlib.adler32(rows))])
        colour_type = 2 if channels == 3 else 6                  # RGB or RGBA, 8 bits each
        header = struct.pack(">IIBBBBB", width, height, 8, colour_type, 0, 0, 0)
        return b"".join([b"\x89PNG\r\n\x1a\n", _png_chunk(b"IHDR", header),
                         _png_chunk(b"IDAT", stream), _png_chunk(b"IEND", b"")])


class Stamp(Artist):
    """Artists whose picture depends only on a key (the example shown), drawn once per key and
    pasted afterwards: an explorer lists the Stamp among its animated artists in their place.

    Why: a sequence's symbols above its bars, or its alignment matrix, change only when the
    sequence changes, yet a blit redraws every animated artist on every move; twelve small texts
    cost ~10 ms, pasting their pixels ~0.1 ms. The first draw for a key draws the artists and
    copies the pixels of each one's box; later draws for that key paste those pixels back.

    Exact when nothing else animated is drawn inside those boxes before the Stamp (list it first
    among the animated artists): what is under the artists is then the cached background, the
    same every time. The pasted pixels hold that background, so the explorer forgets them when it
    draws a new background (:meth:`forget`).

    Args:
        artists: the artists to stamp; they are drawn only through the Stamp (made ``animated``).
        key: ``key() -> hashable``: which picture the artists show now.
    """

    PAD_PX = 2  # antialiased edges reach a pixel or so beyond an artist's extent

    def __init__(self, artists, key: Callable[[], object]):
        super().__init__()
        self.artists = list(artists)
        self._key = key
        self._pictures: dict = {}
        for artist in self.artists:
            artist.set_animated(True)   # a full draw (the background) leaves them out

    def forget(self) -> None:
        """Drop every stamped picture (their background has changed)."""
        self._pictures.clear()

    def draw(self, renderer) -> None:
        key = self._key()
        if key in self._pictures:
            for region in self._pictures[key]:
                renderer.restore_region(region)
            return
        regions = []
        for artist in self.artists:
            artist.draw(renderer)
            box = artist.get_window_extent(renderer).padded(self.PAD_PX)
            box = Bbox.intersection(box, Bbox.from_bounds(0, 0, renderer.width, renderer.height))
            if box is not None and box.width > 0 and box.height > 0:
                regions.append(renderer.copy_from_bbox(box))
        self._pictures[key] = regions


class RectangleGroup(Artist):
    """Many rectangles (a bar chart's bars) drawn as one collection: an explorer lists the group
    among its animated artists instead of each bar, and keeps changing the bars themselves
    (``set_width``, ``set_height``, ``set_color``).

    Why: each patch drawn on its own costs ~0.3 ms of Python (its transform, its graphics
    context); 37 bars were half of a head-view move. The group reads each bar's corner, size and
    colours and draws them all in one call, in the bars' coordinates and clipping.
    """

    def __init__(self, rectangles):
        super().__init__()
        self.rectangles = list(rectangles)
        for bar in self.rectangles:
            if not isinstance(bar, Rectangle) or bar.get_angle() != 0:
                raise TypeError(f"RectangleGroup takes upright Rectangles, got {bar!r}")
            bar.set_animated(True)      # drawn only through the group

    def draw(self, renderer) -> None:
        shown = [bar for bar in self.rectangles if bar.get_visible()]
        if not shown:
            return
        corners = np.array([(bar.get_x(), bar.get_y(), bar.get_width(), bar.get_height())
                            for bar in shown])                        # (n, 4): x, y, w, h
        x0, y0 = corners[:, 0], corners[:, 1]
        x1, y1 = x0 + corners[:, 2], y0 + corners[:, 3]
        verts = np.stack([np.stack([x0, y0], 1), np.stack([x1, y0], 1),
                          np.stack([x1, y1], 1), np.stack([x0, y1], 1)], 1)   # (n, 4, 2)
        first = shown[0]
        group = PolyCollection(verts, closed=True, transform=first.get_data_transform(),
                               facecolors=[bar.get_facecolor() for bar in shown],
                               edgecolors=[bar.get_edgecolor() for bar in shown],
                               linewidths=[bar.get_linewidth() for bar in shown],
                               antialiaseds=first.get_antialiased(), zorder=first.get_zorder())
        group.set_figure(first.get_figure())
        group.set_snap(first.get_snap())
        group.set_clip_box(first.get_clip_box())
        group.set_clip_path(first.get_clip_path())
        group.draw(renderer)


def readout_html(*sentences: str) -> str:
    """The HTML of an explorer's readout: one line per sentence (each already in the learner's
    language, e.g. ``tr("step {step}: ...").format(...)``), escaped so that ``<`` or ``&`` in a
    label show as written."""
    lines = "<br>".join(html.escape(sentence) for sentence in sentences)
    return f'<p style="margin: 0.2em 0; line-height: 1.4">{lines}</p>'


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    """One PNG chunk: length, type, data, CRC-32 of type and data."""
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _is_opaque(fig: Figure) -> bool:
    """True if the figure's background hides everything behind it (then alpha is always 255)."""
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
        background_of: optional ``background_of(**values) -> hashable``, naming the background
            those control values need when a control changes what the background shows (the
            head view's token labels change with the example). One background is kept per name,
            so returning to an example is a blit, not a full redraw; see :meth:`draw_backgrounds`.
        readout: optional ``ipywidgets.HTML`` shown between the controls and the picture, for
            the sentences with numbers that change on every move (``update`` sets its ``value``,
            e.g. with :func:`readout_html`). Why not a title in the figure: drawing text is the
            slowest part of a blit (~0.1 ms a character, ~5 ms a line), the browser sets the same
            words for free. The figure keeps its fixed titles, which say what each panel is.

    Attributes:
        widget: the ipywidgets box to display (``display(explorer)`` works too).
        controls, figure, readout: as given. ``last_update_ms`` is the duration of the latest update.
    """

    def __init__(self, figure: Figure, controls: dict, update: Callable, description: str = "",
                 animated=(), background_of: Callable | None = None, readout: W.HTML | None = None):
        self.figure = figure
        self.controls = dict(controls)
        self._update = update
        self.animated = list(animated)
        self._animated_texts = [t for artist in self.animated
                                for t in (artist.artists if isinstance(artist, Stamp) else [artist])
                                if isinstance(t, Text)]
        self._background_of = background_of
        self._backgrounds: dict = {}    # background name -> the canvas region without the animated
        self._png = PngEncoder()
        self.readout = readout
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
        self.widget = W.VBox(header + [W.HBox(boxes, layout=W.Layout(flex_flow="row wrap"))]
                             + ([readout] if readout is not None else []) + [self.image])
        self.refresh()

    def values(self) -> dict:
        return {name: control.value for name, control in self.controls.items()}

    def refresh(self) -> None:
        """Run ``update`` with the current control values and re-render the picture."""
        start = time.perf_counter()
        values = self.values()
        wants_full_redraw = self._update(**values) is True
        if not self.animated:
            translate_figure(self.figure)  # the texts update just set (nothing to do in English)
            self.image.value = figure_png(self.figure, self._png)
        else:
            name = self._background_name(values)
            if wants_full_redraw:
                self._backgrounds.clear()    # something every background shows has changed
            if name not in self._backgrounds:
                translate_figure(self.figure)   # a new background: any text may have changed
                self.redraw_background(name)
            else:
                # a blit shows only the animated artists anew: translate only their texts
                # (walking the whole figure cost ~3 ms a move in Chinese)
                translate_texts(self._animated_texts)
            canvas = self.figure.canvas
            canvas.restore_region(self._backgrounds[name])
            for artist in self.animated:
                self.figure.draw_artist(artist)
            self.image.value = canvas_png(self.figure, self._png)
        self.last_update_ms = (time.perf_counter() - start) * 1e3

    def _background_name(self, values: dict):
        return None if self._background_of is None else self._background_of(**values)

    def redraw_background(self, name=None) -> None:
        """Draw everything but the animated artists once, and keep that picture as ``name``."""
        for artist in self.animated:
            artist.set_animated(True)  # animated artists are skipped by a full draw
            if isinstance(artist, Stamp):
                artist.forget()        # its pictures hold the old background
        self.figure.canvas.draw()
        # The layout is now computed; freezing it keeps later draws from moving the axes.
        self.figure.set_layout_engine("none")
        self._backgrounds[name] = self.figure.canvas.copy_from_bbox(self.figure.bbox)

    def draw_backgrounds(self, settings) -> None:
        """Draw ahead the backgrounds that ``settings`` (dicts of control values) need, so that
        no later move waits for a full redraw; then show the controls' current values again.
        Costs one full draw per new background, at build time instead of on a move."""
        for setting in settings:
            values = {**self.values(), **setting}
            name = self._background_name(values)
            if name not in self._backgrounds:
                self._update(**values)
                self.redraw_background(name)
        self.refresh()

    def _on_change(self, change) -> None:
        self.refresh()

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)
