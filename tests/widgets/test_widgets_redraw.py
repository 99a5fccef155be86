"""Explorers answer a move by redrawing only what moves (issue 20): no whole-figure draw on a
slider step, and the PNG encoder re-compresses only the rows that changed. Counts, never times."""
import io
import zlib

import numpy as np
import pytest
from matplotlib.text import Text
from PIL import Image

from course_lib.widgets import EXPLORERS
from course_lib.widgets.base import PngEncoder
from helpers.controls import another_value

# Every lesson's explorers (lesson 03's head view is also lesson 06's vit_heads; lesson 05's
# decoder_steps lives in sequences.py).
FAST_LESSONS = ("lesson00", "lesson01", "lesson02", "lesson03", "lesson04", "lesson05", "lesson06",
                "sequences")
FAST = sorted(name for name, factory in EXPLORERS.items()
              if factory.__module__.rsplit(".", 1)[-1] in FAST_LESSONS)
# Lessons 05 and 06: every sentence with numbers is in the HTML readout, so that a move, once
# each example has been shown, draws no text at all (text is the slowest artist to draw).
TEXT_FREE = ("cluttered_digit", "digit_video", "decoder_steps", "reach_cnn_vs_vit", "vit_heads")


def _decoded(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)))


@pytest.mark.parametrize("channels", [3, 4])
def test_png_encoder_round_trips_every_picture_of_a_sequence(channels):
    rng = np.random.default_rng(0)
    encoder = PngEncoder()
    picture = np.full((3 * PngEncoder.BAND_ROWS + 5, 41, channels), 255, np.uint8)
    for step in range(6):
        row = int(rng.integers(0, picture.shape[0]))
        picture[row] = rng.integers(0, 256, picture.shape[1:])   # one band changes
        assert np.array_equal(_decoded(encoder.encode(picture)), picture), step
    smaller = picture[:7, :9]                                      # a new size starts afresh
    assert np.array_equal(_decoded(encoder.encode(np.ascontiguousarray(smaller))), smaller)


def test_png_encoder_compresses_only_the_bands_that_changed(monkeypatch):
    encoder = PngEncoder()
    picture = np.full((4 * PngEncoder.BAND_ROWS, 30, 3), 255, np.uint8)
    encoder.encode(picture)
    made = []
    real = zlib.compressobj
    monkeypatch.setattr(zlib, "compressobj", lambda *a, **k: made.append(1) or real(*a, **k))
    picture[PngEncoder.BAND_ROWS + 3, 4] = (0, 0, 0)                # a pixel in band 1
    assert np.array_equal(_decoded(encoder.encode(picture)), picture)
    assert len(made) == 1, f"{len(made)} bands compressed again, expected only the changed one"


def test_png_encoder_names_bad_pixels():
    with pytest.raises(ValueError, match="pixels must be uint8"):
        PngEncoder().encode(np.zeros((4, 4, 3)))


@pytest.mark.parametrize("name", FAST)
def test_a_move_draws_only_the_moving_artists(name):
    """After one move of each control, no further move redraws the whole figure (canvas.draw),
    and each move draws only the artists the explorer lists as changing."""
    explorer = EXPLORERS[name]()
    for control in explorer.controls.values():          # visit each control once
        control.value = another_value(control)
    full_draws, drawn = [], []
    canvas, figure = explorer.figure.canvas, explorer.figure
    real_draw, real_draw_artist = canvas.draw, figure.draw_artist
    canvas.draw = lambda *a, **k: full_draws.append(1) or real_draw(*a, **k)
    figure.draw_artist = lambda artist: drawn.append(artist) or real_draw_artist(artist)
    try:
        for key, control in explorer.controls.items():
            for _ in range(2):
                full_draws.clear(), drawn.clear()
                control.value = another_value(control)
                assert not full_draws, f"{name}: moving {key!r} redrew the whole figure"
                assert 0 < len(drawn) <= len(explorer.animated), (name, key, len(drawn))
    finally:
        canvas.draw, figure.draw_artist = real_draw, real_draw_artist


def _moves(explorer):
    """Each control to another value and back, twice: (control name, value) in order."""
    for _ in range(2):
        for key, control in explorer.controls.items():
            start, other = control.value, another_value(control)
            yield key, other
            yield key, start


@pytest.mark.parametrize("name", TEXT_FREE)
def test_lessons_05_06_moves_draw_no_text(name, monkeypatch):
    """Once the values of a move have been shown (a Stamp draws a sequence's symbols once), a
    move draws no Text: titles are fixed (background), the numbers are in the readout."""
    explorer = EXPLORERS[name]()
    assert explorer.readout is not None and explorer.readout in explorer.widget.children
    moves = list(_moves(explorer))
    for key, value in moves:                           # show every value once
        explorer.controls[key].value = value
    drawn = []
    real = Text.draw
    monkeypatch.setattr(Text, "draw", lambda self, renderer: drawn.append(self.get_text())
                        or real(self, renderer))
    for key, value in moves:
        explorer.controls[key].value = value
        assert not drawn, f"{name}: moving {key!r} drew the texts {drawn}"


@pytest.mark.parametrize("name", TEXT_FREE)
def test_lessons_05_06_same_values_same_picture(name):
    """Coming back to the same control values gives the same picture, pixel for pixel: what a
    Stamp pastes is what drawing gives, and no move leaves a trace of the one before."""
    explorer = EXPLORERS[name]()
    start = {key: control.value for key, control in explorer.controls.items()}
    first = _decoded(explorer.image.value)
    for key, value in _moves(explorer):
        explorer.controls[key].value = value
    for key, control in explorer.controls.items():     # ends where it began; set it anyway
        control.value = another_value(control)
        control.value = start[key]
    assert np.array_equal(_decoded(explorer.image.value), first)
