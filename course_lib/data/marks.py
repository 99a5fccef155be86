"""Lesson 06's images: two marks far apart whose relation is the label, and controlled pairs.

    images, labels, marks = two_marks(1500, min_gap=12, relation="same_row")
    pairs, pair_labels = controlled_pairs(50)     # image pairs that differ only in the relation

The shapes and the noise come from ``shapes.py`` (shared with lesson 05's cluttered scenes).
"""
from __future__ import annotations

import numpy as np
import torch

from course_lib.basics.arrays import require_count
from course_lib.data.shapes import SHAPES, TARGETS, noise_background


# --------------------------------------------------------------------------------------------
def two_marks(n=512, size=24, min_gap=10, relation="left_of", row_step=8, seed=0):
    """Two marks far apart; the label is a relation between them.

    ``relation="same_row"``: two marks (each a "+" or an "x" at random) whose columns are at least
    ``min_gap`` apart both directly and around the border (so that no window narrower than
    ``min_gap + 3`` pixels holds both, even with wrap-around padding);
    their rows are multiples of ``row_step`` (0, 8, 16 for 24 x 24 images: crisp rows, aligned
    with 4 x 4 tiles). The label is 1 when the two marks are in the same row. The first mark's
    row is uniform; the second copies it with probability 1/2, else it is uniform over the other
    rows. So each mark's row alone is uniform whatever the label, and ``P(label = 1 | row of one
    mark) = 1/2`` for every row: no single mark settles the label, only the pair does.

    ``relation="left_of"``: one "+" and one "x", their columns at least ``min_gap`` apart (and any
    rows); the label is 1 when the "+" is left of the "x". Beware: when ``min_gap`` is large
    compared with ``size``, the column of the "+" alone nearly settles this label (a "+" near the
    left border always has the "x" on its right): a model that knows absolute position can solve it
    from one mark.

    ``relation="same"``: two marks, each a "+" or an "x" at random (columns as for ``left_of``);
    the label is 1 when they are the same shape (an XOR-like relation: see the lesson 06 exercises).

    Returns:
        images ``(n, 1, size, size)`` float32, labels ``(n,)`` int64,
        mark_masks ``(n, 2, size, size)`` bool: the 3x3 box of the first mark (``left_of``: the "+")
        and of the second (``left_of``: the "x"). ``mark_masks.any(1)`` covers both.
    """
    n, size = require_count(n, "n"), require_count(size, "size", 8)
    min_gap = require_count(min_gap, "min_gap", 3)
    if min_gap > size - 3:
        raise ValueError(f"min_gap={min_gap} does not fit in size={size}; expected <= {size - 3}")
    if relation not in ("left_of", "same", "same_row"):
        raise ValueError(f"relation={relation!r} is not known; expected 'left_of', 'same' or 'same_row'")
    rows = np.arange(0, size - 2, require_count(row_step, "row_step"))
    if relation == "same_row":
        if 2 * min_gap > size:
            raise ValueError(f"relation='same_row' needs min_gap <= size / 2 (the gap is also "
                             f"kept around the border), got min_gap={min_gap}, size={size}")
        if len(rows) < 2:
            raise ValueError(f"row_step={row_step} leaves fewer than 2 rows in size={size}")
    rng = np.random.default_rng(seed)
    images = np.zeros((n, 1, size, size), np.float32)
    masks = np.zeros((n, 2, size, size), bool)
    labels = np.zeros(n, np.int64)
    for i in range(n):
        canvas = noise_background(rng, size)
        while True:  # two columns at least min_gap apart (same_row: also around the border)
            c1, c2 = (int(c) for c in rng.integers(0, size - 2, size=2))
            gap = abs(c1 - c2)
            if gap >= min_gap and (relation != "same_row" or size - gap >= min_gap):
                break
        if relation == "same_row":
            k1 = int(rng.integers(len(rows)))
            same = bool(rng.random() < 0.5)
            k2 = k1 if same else int((k1 + rng.integers(1, len(rows))) % len(rows))
            r1, r2 = rows[k1], rows[k2]
            labels[i] = int(same)
            kinds = tuple(int(k) for k in rng.integers(0, 2, size=2))
        else:
            r1, r2 = rng.integers(0, size - 2, size=2)
            if relation == "left_of":
                kinds = (0, 1)                     # the "+" goes to (r1, c1), the "x" to (r2, c2)
                labels[i] = int(c1 < c2)
            else:
                kinds = tuple(int(k) for k in rng.integers(0, 2, size=2))
                labels[i] = int(kinds[0] == kinds[1])
        for j, (kind, r, c) in enumerate(zip(kinds, (r1, r2), (c1, c2))):
            region = canvas[r : r + 3, c : c + 3]
            np.maximum(region, SHAPES[TARGETS[kind]] * rng.uniform(0.7, 1.0), out=region)
            masks[i, j, r : r + 3, c : c + 3] = True
        images[i, 0] = canvas
    return torch.from_numpy(images), torch.from_numpy(labels), torch.from_numpy(masks)


def draw_marks(marks, size=24, background=None):
    """Draw 3x3 shapes on a canvas: ``marks`` is a list of ``(shape_name, row, col)`` (top-left),
    or ``(shape_name, row, col, brightness)``.

    ``background``: an ``(size, size)`` array to draw on (default: black). Returns ``(1, size, size)``
    float32, ready to stack into a batch. Handy for controlled experiments, e.g. moving one mark.
    """
    canvas = np.zeros((size, size), np.float32) if background is None else \
        np.array(background, dtype=np.float32, copy=True)
    for name, r, c, *brightness in marks:
        if name not in SHAPES:
            raise ValueError(f"shape {name!r} is not known; expected one of {sorted(SHAPES)}")
        if not (0 <= r <= size - 3 and 0 <= c <= size - 3):
            raise ValueError(f"a 3x3 shape at (row={r}, col={c}) does not fit in size={size}")
        region = canvas[r : r + 3, c : c + 3]
        np.maximum(region, SHAPES[name] * (brightness[0] if brightness else 1.0), out=region)
    return torch.from_numpy(canvas[None])


def controlled_pairs(n_pairs=50, size=24, gap=12, row_step=8, seed=5):
    """Pairs of "same row?" images that differ only in the relation between the two marks.

    Member 0 of a pair has both marks in one row (label 1); member 1 is the same image with the
    second mark moved to another row (label 0), by a multiple of ``row_step`` (an even number of
    pixels). The background noise repeats every ``row_step`` rows, so around the moved mark the
    image looks exactly as before: every window that does not hold both marks sees the same
    pixels in both members, only at another place. Shapes, brightness, columns, pixel counts and
    total brightness are identical within a pair.

    Returns ``(images (2 n_pairs, 1, size, size), labels (2 n_pairs,))``, the members of pair
    ``i`` at ``2i`` (same row) and ``2i + 1`` (moved).
    """
    rng = np.random.default_rng(seed)
    rows = np.arange(0, size - 2, row_step)
    images = []
    for _ in range(require_count(n_pairs, "n_pairs")):
        band = noise_background(rng, size)[:row_step]                   # (row_step, size)
        background = np.tile(band, (size // row_step + 1, 1))[:size]      # repeats every row_step
        first, second = (TARGETS[int(k)] for k in rng.integers(0, 2, size=2))
        bright = rng.uniform(0.7, 1.0, size=2)
        row, other = rng.choice(rows, size=2, replace=False)
        c1 = int(rng.integers(0, size - 2 - gap))
        marks = [(first, row, c1, bright[0]), (second, row, c1 + gap, bright[1])]
        images.append(draw_marks(marks, size, background))
        marks[1] = (second, other, c1 + gap, bright[1])
        images.append(draw_marks(marks, size, background))
    return torch.stack(images), torch.tensor([1, 0] * n_pairs)


__all__ = ["controlled_pairs", "draw_marks", "two_marks"]
