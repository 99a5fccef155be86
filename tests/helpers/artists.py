"""Snapshots of what a matplotlib artist shows, so explorer tests can assert what changed."""
import numpy as np
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection
from matplotlib.image import AxesImage
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle
from matplotlib.text import Text


def artist_state(artist):
    """A comparable snapshot of what an artist shows."""
    if isinstance(artist, Line2D):
        return np.concatenate([np.ravel(artist.get_xdata()), np.ravel(artist.get_ydata())]).astype(float)
    if isinstance(artist, Rectangle):
        return np.array([artist.get_x(), artist.get_y(), artist.get_width(), artist.get_height()])
    if isinstance(artist, AxesImage):
        return np.array(artist.get_array(), dtype=float).copy()
    if isinstance(artist, Text):
        return artist.get_text()
    if isinstance(artist, Axes):     # an animated axes: its limits and title
        return f"{artist.get_xlim()} {artist.get_ylim()} {artist.get_title()}"
    if isinstance(artist, LineCollection):
        segments = [np.ravel(s) for s in artist.get_segments()] or [np.zeros(0)]
        return np.concatenate([*segments, np.ravel(artist.get_linewidths()),
                               np.ravel(artist.get_colors())]).astype(float)
    raise TypeError(f"no snapshot for {type(artist).__name__}")


def changed(before, after) -> bool:
    """True if two snapshots differ by more than float round-off (relative, so that tiny weights
    count too: a bar going from 1e-16 to 1e-44 did change)."""
    if isinstance(before, str):
        return before != after
    return before.shape != after.shape or not np.allclose(before, after, rtol=1e-9, atol=0.0,
                                                          equal_nan=True)


def assert_control_updates(explorer, control, value, must, must_not):
    """Set one control and check that exactly the expected animated artists changed.

    ``must`` / ``must_not``: indices into ``explorer.animated``.
    """
    assert explorer.controls[control].value != value
    before = [artist_state(a) for a in explorer.animated]
    image_before = explorer.image.value
    explorer.controls[control].value = value
    after = [artist_state(a) for a in explorer.animated]
    assert explorer.image.value != image_before, "the picture did not change"
    for i in must:
        assert changed(before[i], after[i]), f"artist {i} ({explorer.animated[i]}) did not change"
    for i in must_not:
        assert not changed(before[i], after[i]), f"artist {i} changed but should not have"
    assert np.isfinite(explorer.last_update_ms)
