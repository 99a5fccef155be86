"""The lessons' fixed examples (lessons 00-04): the few keys, scores, sentences and pixels that a
lesson's text, its explorer and its checked outputs all talk about, so that they talk about the
same numbers.

    lesson 00   KEYS_00, VALUES_00, NAMES_00, three_steps     four keys in the plane, one query
    lesson 01   KEYS_01, KEY_NAMES_01, best_matches            five keys on which the measures disagree
    lesson 02   N_POSITIONS, PAD_LENGTH, WINDOW, demo_scores, demo_mask
    lesson 03   patch_tokens, SENTENCES                        a photo's patch tokens; "it" sentences
    lesson 04   demo_image, EDGE_PIXEL, FLAT_PIXEL             the noisy cameraman and two pixels

The explorers (``course_lib.widgets``) draw these examples; the notebooks compute with them. The
names that two lessons share (their keys) carry the lesson's number.
"""
from __future__ import annotations

import numpy as np

from course_lib.attention.core import attend
from course_lib.attention.masks import make_mask
from course_lib.data.images import add_noise, load_photo, patches

# ------------------------------------------------------------------------------------------
# Lesson 00: the three steps on four keys, each carrying a value (a point to average)
# ------------------------------------------------------------------------------------------
KEYS_00 = np.array([[1.0, 0.2], [0.1, 1.0], [-1.0, 0.3], [0.2, -1.0]])
VALUES_00 = np.array([[3.0, 0.5], [0.0, 3.0], [-3.0, 0.0], [0.5, -3.0]])
NAMES_00 = ["k1", "k2", "k3", "k4"]


def three_steps(angle_deg: float, length: float, temperature: float):
    """Lesson 00's query at ``angle_deg`` with norm ``length`` against ``KEYS_00``.

    Returns ``(query (2,), scores (4,), weights (4,), output (2,))``: the three steps of attention
    (dot-product scores, softmax weights at ``temperature``, the weighted average of ``VALUES_00``).
    """
    angle = np.deg2rad(angle_deg)
    query = length * np.array([[np.cos(angle), np.sin(angle)]])
    output, weights = attend(query, KEYS_00, VALUES_00, kind="dot", temperature=temperature)
    scores = query @ KEYS_00.T
    return query[0], scores[0], weights[0], output[0]


# ------------------------------------------------------------------------------------------
# Lesson 01: keys chosen so that the similarity measures disagree
# ------------------------------------------------------------------------------------------
# k1 is long, k2 points the same way but is short, k3 and k4 point elsewhere, k5 is long and
# between k1 and k3.
KEYS_01 = np.array([[2.4, 0.4], [0.7, 0.25], [-1.2, 1.2], [0.3, -1.5], [1.0, 2.0]])
KEY_NAMES_01 = [f"k{i + 1}" for i in range(len(KEYS_01))]


def best_matches(scores_row: np.ndarray, index: int, n: int = 5) -> np.ndarray:
    """Lesson 01's patch search: indices of the ``n`` highest of the ``(N,)`` scores, leaving out
    the query patch ``index`` itself (it always matches itself best). Ties keep the lower index."""
    row = np.asarray(scores_row, dtype=float).copy()
    row[index] = -np.inf
    return np.argsort(-row, kind="stable")[:n]


# ------------------------------------------------------------------------------------------
# Lesson 02: twelve positions attending to each other, with four masks
# ------------------------------------------------------------------------------------------
N_POSITIONS = 12
PAD_LENGTH = 8   # in the padding example only the first 8 of 12 positions are real
WINDOW = 2       # the local window's radius


def demo_scores(n: int = N_POSITIONS, seed: int = 0) -> np.ndarray:
    """A fixed ``(n, n)`` matrix of scaled dot-product scores between seeded random vectors."""
    rng = np.random.default_rng(seed)
    q, k = rng.standard_normal((n, 8)), rng.standard_normal((n, 8))
    return 1.5 * q @ k.T / np.sqrt(8)


def demo_mask(kind: str, n: int = N_POSITIONS) -> np.ndarray:
    """Lesson 02's ``(n, n)`` mask ``kind`` (one of ``MASK_KINDS``): padding after ``PAD_LENGTH``
    positions, a local window of radius ``WINDOW``."""
    return make_mask(kind, n, length=PAD_LENGTH, radius=WINDOW)


# ------------------------------------------------------------------------------------------
# Lesson 03: a photo's patches as tokens; sentences for the hand-built word heads
# ------------------------------------------------------------------------------------------
def patch_tokens(photo: str = "chelsea", size: int = 96, patch: int = 8):
    """A grayscale photo ``(size, size)``, its patch tokens ``(n, patch*patch)`` and the grid shape.

    Each token is a patch minus its mean brightness, scaled to length 1, so that the dot product
    of two tokens is their correlation: attention then compares texture and edges, not brightness.
    """
    image = load_photo(photo, size=size, gray=True)
    vectors, grid = patches(image, patch)
    tokens = vectors - vectors.mean(axis=1, keepdims=True)
    tokens = tokens / np.maximum(np.linalg.norm(tokens, axis=1, keepdims=True), 1e-12)
    return image, tokens, grid


SENTENCES = ("the cat sat on the mat because it was tired",
             "the ball hit the old dog because it was tired",
             "the cat sat on the mat because it was soft")


# ------------------------------------------------------------------------------------------
# Lesson 04: the noisy cameraman and two pixels, one on an edge and one in a flat region
# ------------------------------------------------------------------------------------------
IMAGE_SIZE = 128
NOISE = 0.1
EDGE_PIXEL = (48, 48)   # on the edge between the dark coat and the bright collar (128 x 128 photo)
FLAT_PIXEL = (20, 100)  # in the smooth sky


def demo_image() -> tuple[np.ndarray, np.ndarray]:
    """``(clean, noisy)``: the cameraman at 128 x 128 and the same with noise sigma 0.1 (seeded)."""
    clean = load_photo("camera", size=IMAGE_SIZE, gray=True)
    return clean, add_noise(clean, NOISE, seed=0)
