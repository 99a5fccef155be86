"""Real handwritten digits on real texture: the raw material of lesson 05, sections 2-3.

The 1,797 real 8 x 8 scans of scikit-learn's ``load_digits`` (read from the file scikit-learn
ships, nothing downloaded), split by digit image into a training and a test pool, and the
backgrounds: crops of real photo textures from ``skimage.data``. The experiments build on them:
``experiments/clutter.py`` (a digit among fragments), ``experiments/visual_recall.py`` (the digit
beside a cued mark), ``experiments/video.py`` (which digit moves).

    digit_pools(seed)            the digits split by *digit image* into train / test pools
    background(rng, size)        a crop of a random texture at a random brightness and contrast
    cluttered_digits(pool, n)    canvases with one whole digit among fragments of others, its box
    box_masks(boxes, size)       the digit's box as a boolean mask (for grading, never for a model)
"""
from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from course_lib.basics.arrays import require_count

DIGIT = 8                                  # load_digits images are 8 x 8
TEXTURES = ("grass", "brick", "gravel", "camera")


@dataclass(frozen=True)
class DigitPool:
    """Real digits ``images (n, 8, 8)`` float32 in [0, 1] and their classes ``labels (n,)``."""
    images: np.ndarray
    labels: np.ndarray


def load_digits() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's 1,797 real handwritten digits: ``images (1797, 8, 8)`` in 0..16, ``labels``.

    Read from the file ``sklearn.datasets.load_digits`` reads (``digits.csv.gz``, shipped inside
    the scikit-learn wheel: 64 pixel columns, then the class), without importing scikit-learn,
    which would add about 80 MiB to the kernel (tests/experiments/test_clutter.py checks both agree).
    """
    spec = importlib.util.find_spec("sklearn")
    if spec is None or spec.origin is None:
        raise ImportError("lesson 05 needs scikit-learn for its bundled digits: pip install scikit-learn")
    path = Path(spec.origin).parent / "datasets" / "data" / "digits.csv.gz"
    if not path.exists():  # a scikit-learn that keeps its data elsewhere: ask it (costs memory)
        # imported here, and only then: scikit-learn is heavy and this path is rare
        from sklearn.datasets import load_digits as sklearn_digits
        digits = sklearn_digits()
        return digits.images, digits.target.astype(np.int64)
    table = np.loadtxt(path, delimiter=",")
    return table[:, :64].reshape(-1, 8, 8), table[:, 64].astype(np.int64)


def digit_pools(test_fraction: float = 0.3, seed: int = 0) -> tuple[DigitPool, DigitPool]:
    """scikit-learn's 1,797 digits, split by digit image: a test digit is never seen in training
    (neither as a target nor as clutter)."""
    raw, targets = load_digits()
    images = (raw / 16.0).astype(np.float32)
    order = np.random.default_rng(seed).permutation(len(images))
    n_test = int(round(test_fraction * len(images)))
    test, train = order[:n_test], order[n_test:]
    return (DigitPool(images[train], targets[train]), DigitPool(images[test], targets[test]))


_texture_cache: dict[str, np.ndarray] = {}


def texture(name: str) -> np.ndarray:
    """A grayscale photo from ``skimage.data``, downscaled 4x so a crop shows texture, not detail,
    and normalised to mean 0, standard deviation 1."""
    if name not in _texture_cache:
        # imported on first use, as in images.py: skimage is heavy and only lesson 05 needs it
        import skimage.color
        import skimage.data
        import skimage.transform
        img = getattr(skimage.data, name)()
        img = skimage.color.rgb2gray(img) if img.ndim == 3 else img.astype(np.float64)
        img = skimage.transform.rescale(img, 0.25, anti_aliasing=True)
        _texture_cache[name] = ((img - img.mean()) / img.std()).astype(np.float32)
    return _texture_cache[name]


def background(rng: np.random.Generator, size: int, contrast=(0.08, 0.16), level=(0.15, 0.35)):
    """A ``size x size`` crop of a random texture, at a random brightness and contrast."""
    tex = texture(TEXTURES[rng.integers(len(TEXTURES))])
    r, c = rng.integers(0, tex.shape[0] - size), rng.integers(0, tex.shape[1] - size)
    crop = tex[r : r + size, c : c + size]
    return np.clip(rng.uniform(*level) + rng.uniform(*contrast) * crop, 0.0, 1.0)


def cluttered_digits(pool: DigitPool, n: int = 1000, size: int = 24, n_fragments: int = 8,
                     fragment: int = 5, seed: int = 0):
    """Canvases with one whole digit and ``n_fragments`` fragments of other digits on texture.

    The digit and every fragment are drawn with the same brightness range (pixel = max(background,
    ink)), so brightness marks "strokes here", not "the digit here". A fragment is a random
    ``fragment x fragment`` crop of another digit of the pool (any class, including the target's).

    Returns:
        images ``(n, 1, size, size)`` float32, labels ``(n,)`` int64 (the digit's class, 0-9),
        boxes ``(n, 4)`` int64: the digit's ``(row, col, row + 8, col + 8)`` (never shown to a model).
    """
    n, size = require_count(n, "n"), require_count(size, "size", DIGIT + 2)
    n_fragments = require_count(n_fragments, "n_fragments", 0)
    fragment = require_count(fragment, "fragment", 1)
    if fragment > DIGIT:
        raise ValueError(f"fragment={fragment} must be at most the digit size {DIGIT}")
    rng = np.random.default_rng(seed)
    images = np.zeros((n, 1, size, size), np.float32)
    which = rng.integers(0, len(pool.labels), size=n)
    boxes = np.zeros((n, 4), np.int64)
    for i in range(n):
        canvas = background(rng, size)
        for _ in range(n_fragments):
            src = pool.images[rng.integers(len(pool.labels))]
            r0, c0 = rng.integers(0, DIGIT - fragment + 1, size=2)
            piece = src[r0 : r0 + fragment, c0 : c0 + fragment] * rng.uniform(0.6, 1.0)
            r, c = rng.integers(0, size - fragment + 1, size=2)
            np.maximum(canvas[r : r + fragment, c : c + fragment], piece,
                       out=canvas[r : r + fragment, c : c + fragment])
        r, c = rng.integers(0, size - DIGIT + 1, size=2)
        digit = pool.images[which[i]] * rng.uniform(0.6, 1.0)
        np.maximum(canvas[r : r + DIGIT, c : c + DIGIT], digit, out=canvas[r : r + DIGIT, c : c + DIGIT])
        images[i, 0] = canvas
        boxes[i] = (r, c, r + DIGIT, c + DIGIT)
    return (torch.from_numpy(images), torch.from_numpy(pool.labels[which].copy()),
            torch.from_numpy(boxes))


def box_masks(boxes: torch.Tensor, size: int) -> torch.Tensor:
    """``(n, 4)`` boxes -> ``(n, size, size)`` boolean masks of the digit's 8 x 8 square."""
    grid = torch.arange(size)
    rows = (grid[None] >= boxes[:, :1]) & (grid[None] < boxes[:, 2:3])   # (n, size)
    cols = (grid[None] >= boxes[:, 1:2]) & (grid[None] < boxes[:, 3:4])
    return rows[:, :, None] & cols[:, None, :]
