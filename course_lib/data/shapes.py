"""Synthetic data for lessons 05-06 (lesson 06's own images live in ``marks.py``): small, seeded,
generated in milliseconds.

Every generator takes ``seed`` and returns the same tensors on every machine (NumPy's
``default_rng`` is platform independent). Images are float32 in [0, 1], channel-first
``(N, 1, H, W)``; labels are int64. Each generator also returns the *ground truth of where the
evidence is* (a boolean mask), so that we can measure whether a model's attention lands there.

    clutter_scenes   one target (a "+" or an "x") among distractors     -> which target?
    sequences        toy token sequences: reverse or sort them

Lesson 05's real digits on texture live in ``digits.py`` (its videos in
``experiments/video.py``); lesson 06's marks in ``marks.py``.
"""
from __future__ import annotations

import numpy as np
import torch

from course_lib.basics.arrays import require_count

# 3x3 shapes. The two targets have the same number of bright pixels, so that only their
# arrangement (a local pattern) tells them apart.
SHAPES = {
    "plus": np.array([[0, 1, 0], [1, 1, 1], [0, 1, 0]], dtype=np.float32),
    "cross": np.array([[1, 0, 1], [0, 1, 0], [1, 0, 1]], dtype=np.float32),
    "hbar": np.array([[0, 0, 0], [1, 1, 1], [0, 0, 0]], dtype=np.float32),
    "vbar": np.array([[0, 1, 0], [0, 1, 0], [0, 1, 0]], dtype=np.float32),
    "block": np.array([[1, 1, 0], [1, 1, 0], [0, 0, 0]], dtype=np.float32),
    "corner": np.array([[1, 1, 0], [1, 0, 0], [0, 0, 0]], dtype=np.float32),
}
TARGETS = ("plus", "cross")                       # class 0, class 1
CLASSES = TARGETS + ("none",)                     # with clutter_scenes(no_target=...): class 2
DISTRACTORS = ("hbar", "vbar", "block", "corner")  # never the answer


def _place(canvas, occupied, shape, rng, rows, cols, brightness):
    """Stamp a 3x3 ``shape`` at a free spot with top-left corner in ``rows x cols``.

    ``occupied`` marks pixels already used (with a one-pixel margin), so shapes never touch.
    Returns the (row, col) of the top-left corner.
    """
    for _ in range(200):
        r, c = int(rng.integers(*rows)), int(rng.integers(*cols))
        if not occupied[max(r - 1, 0) : r + 4, max(c - 1, 0) : c + 4].any():
            break
    else:  # no free spot after 200 tries: the canvas is too crowded. Overlapping shapes would
        # silently corrupt the ground truth (a distractor inside the target's box), so we refuse.
        raise ValueError(f"could not place a 3x3 shape without overlap on a {canvas.shape[0]}x"
                         f"{canvas.shape[1]} canvas after 200 tries; use fewer shapes "
                         "(n_distractors) or a larger size")
    region = canvas[r : r + 3, c : c + 3]
    np.maximum(region, shape * brightness, out=region)
    occupied[r : r + 3, c : c + 3] = True
    return r, c


def noise_background(rng, size, level=0.25):
    """A ``(size, size)`` float32 canvas of uniform noise in ``[0, level)``: the background of
    lesson 05's cluttered scenes and lesson 06's marks (``rng``: a NumPy Generator)."""
    return (level * rng.random((size, size))).astype(np.float32)


def clutter_scenes(n=512, size=24, n_distractors=6, no_target=0.0, seed=0):
    """Cluttered scenes with (at most) one target.

    Each ``size x size`` image holds one target (a "+" = class 0, or an "x" = class 1) and
    ``n_distractors`` other 3x3 shapes (bars, blocks, corners) on a noisy background. The class
    is decided by a 3x3 region somewhere in the image: the rest is clutter to be ignored.

    With ``no_target > 0`` about that fraction of the scenes has its target erased (painted over
    with background noise) and gets class 2, "none". A third class closes a shortcut: with only
    "+" and "x", "is there an x anywhere? if not, say +" is enough, and a model need not find
    the "+" at all. (The other scenes are the same as with ``no_target=0``.)

    Returns:
        images ``(n, 1, size, size)`` float32, labels ``(n,)`` int64,
        target_masks ``(n, size, size)`` bool (True on the target's 3x3 box; all False when
        the scene has no target).
    """
    n, size = require_count(n, "n"), require_count(size, "size", 8)
    n_distractors = require_count(n_distractors, "n_distractors", 0)
    if not 0.0 <= no_target < 1.0:
        raise ValueError(f"no_target must be a fraction in [0, 1), got {no_target!r}")
    rng = np.random.default_rng(seed)
    images = np.zeros((n, 1, size, size), np.float32)
    masks = np.zeros((n, size, size), bool)
    labels = rng.integers(0, len(TARGETS), size=n)
    for i in range(n):
        canvas = noise_background(rng, size)
        occupied = np.zeros((size, size), bool)
        r, c = _place(canvas, occupied, SHAPES[TARGETS[labels[i]]], rng, (0, size - 2),
                      (0, size - 2), rng.uniform(0.7, 1.0))
        masks[i, r : r + 3, c : c + 3] = True
        for _ in range(n_distractors):
            shape = SHAPES[DISTRACTORS[rng.integers(len(DISTRACTORS))]]
            _place(canvas, occupied, shape, rng, (0, size - 2), (0, size - 2),
                   rng.uniform(0.7, 1.0))
        images[i, 0] = canvas
    if no_target > 0:  # a separate generator, so that the scenes themselves do not change
        erase_rng = np.random.default_rng([seed, 1])
        for i in np.nonzero(erase_rng.random(n) < no_target)[0]:
            r, c = np.argwhere(masks[i])[0]
            images[i, 0, r : r + 3, c : c + 3] = noise_background(erase_rng, 3)
            masks[i] = False
            labels[i] = len(TARGETS)                 # class 2: "none"
    return torch.from_numpy(images), torch.from_numpy(labels), torch.from_numpy(masks)




# Token ids for the sequence tasks: 0 = start-of-sequence, symbols are 1..n_symbols.
BOS = 0


def sequences(n=1024, length=6, n_symbols=8, task="reverse", seed=0):
    """Toy sequence-to-sequence data.

    Args:
        task: ``"reverse"`` (output the input backwards) or ``"sort"`` (output it in ascending
            order). In both, output step ``i`` copies one input position, so a decoder that attends
            well puts its weight on exactly that position: reverse -> an anti-diagonal, the same
            for every input; sort -> a permutation that depends on the input.

    Returns:
        src ``(n, length)`` int64 symbols in 1..n_symbols, tgt ``(n, length)`` int64,
        source_index ``(n, length)`` int64: which input position output step ``i`` copies.
    """
    n, length = require_count(n, "n"), require_count(length, "length", 2)
    n_symbols = require_count(n_symbols, "n_symbols", 2)
    if task not in ("reverse", "sort"):
        raise ValueError(f"task={task!r} is not known; expected 'reverse' or 'sort'")
    rng = np.random.default_rng(seed)
    src = rng.integers(1, n_symbols + 1, size=(n, length))
    if task == "reverse":
        index = np.broadcast_to(np.arange(length)[::-1], (n, length)).copy()
    else:
        index = np.argsort(src, axis=1, kind="stable")
    tgt = np.take_along_axis(src, index, axis=1)
    return torch.from_numpy(src), torch.from_numpy(tgt), torch.from_numpy(index)


def shift_right(tgt: torch.Tensor) -> torch.Tensor:
    """Decoder input for teacher forcing: ``[BOS, tgt_0, ..., tgt_{L-2}]``."""
    return torch.cat([torch.full_like(tgt[:, :1], BOS), tgt[:, :-1]], dim=1)


def split(n_train, *tensors):
    """Split tensors along the first axis into ``(train, test)`` tuples."""
    return tuple(t[:n_train] for t in tensors), tuple(t[n_train:] for t in tensors)
