"""Checks for lesson 04 (local convolution versus global attention).

The expected answers come from the course's reference code (``similarity``, ``gaussian_weights``,
``receptive_field_map``, ``torch.nn.functional.conv2d``, ``loglog_slope``), never from the formula
the learner is asked to write, so a check cannot share the learner's mistake.
"""
from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from ..core import similarity
from ..costs import loglog_slope, receptive_field_map
from ..filters import gaussian_weights
from .framework import Case, Mistake, register_check


# ------------------------------------------------------------------------------------------
# Exercise 1: the NL-means score
# ------------------------------------------------------------------------------------------
def _nlm_reference(query, keys, h):
    """-d2 / h^2 with d2 = mean squared difference: the negative squared Euclidean distance of the
    flattened patches (lesson 01), divided by the number of pixels and by h^2."""
    size = query.size
    flat_q, flat_k = query.reshape(1, size), keys.reshape(len(keys), size)
    return similarity(flat_q, flat_k, "neg_sq_euclidean")[0] / (size * h**2)


def _sq(query, keys):
    return (keys - query) ** 2


@register_check(
    "nlm_score",
    task="fn(query (s, s), keys (n, s, s), h) -> (n,) scores -mean((key - query)^2) / h^2",
    mistakes=[
        Mistake("The sign is wrong: a large patch distance must give a *low* score, so that softmax "
                "gives dissimilar patches little weight. Use minus the distance.",
                lambda q, k, h: _sq(q, k).mean(axis=(-2, -1)) / h**2),
        Mistake("You summed the squared differences over the patch; NL-means uses their *mean* "
                "(divide by the number of pixels s*s), so that h keeps the same meaning for any "
                "patch size.", lambda q, k, h: -_sq(q, k).sum(axis=(-2, -1)) / h**2),
        Mistake("You divided by h; the score is -d2 / h^2 (h is in units of the image, like the "
                "distance's square root).", lambda q, k, h: -_sq(q, k).mean(axis=(-2, -1)) / h),
        Mistake("The division by h^2 is missing: without it the filtering strength h has no effect.",
                lambda q, k, h: -_sq(q, k).mean(axis=(-2, -1))),
        Mistake("You used absolute differences |key - query|; NL-means squares the differences.",
                lambda q, k, h: -np.abs(k - q).mean(axis=(-2, -1)) / h**2),
        Mistake("You averaged over the wrong axes: the mean is over each patch's own pixels "
                "(the last two axes), giving one score per key patch.",
                lambda q, k, h: -_sq(q, k).mean(axis=0).ravel()[: len(k)] / h**2),
        Mistake("You averaged over every axis and got one number; average over the two patch "
                "axes only, .mean(axis=(-2, -1)), leaving one score per key.",
                lambda q, k, h: -_sq(q, k).mean() / h**2),
    ],
)
def _nlm_score_cases():
    rng = np.random.default_rng(40)
    q = np.array([[0.0, 0.5, 1.0], [0.0, 0.5, 1.0], [0.0, 0.5, 1.0]])
    keys = np.stack([q, q[:, ::-1], np.full((3, 3), 0.5)])
    cases = [Case("hand-worked: the same patch, the mirrored patch, a flat patch",
                  (q, keys, 0.5), _nlm_reference(q, keys, 0.5))]
    for label, s, n, h in [("11 random 3x3 key patches, h = 0.1", 3, 11, 0.1),
                           ("5x5 patches, h = 0.3", 5, 7, 0.3),
                           ("1x1 patches: NL-means becomes a range filter", 1, 6, 0.2)]:
        q, keys = rng.random((s, s)), rng.random((n, s, s))
        cases.append(Case(label, (q, keys, h), _nlm_reference(q, keys, h)))
    return cases


# ------------------------------------------------------------------------------------------
# Exercise 2: the Gaussian kernel
# ------------------------------------------------------------------------------------------
def _gaussian_reference(sigma):
    r = math.ceil(3 * sigma)
    size = 2 * r + 1
    centre = np.zeros((3 * size, 3 * size))  # big enough that the border plays no role
    wmap = gaussian_weights(centre, (size + r, size + r), sigma)
    return wmap[size : 2 * size, size : 2 * size]


def _gauss(sigma, radius, denom, normalise=True):
    d = np.arange(-radius, radius + 1)
    k = np.exp(-(d[:, None] ** 2 + d[None, :] ** 2) / denom)
    return k / k.sum() if normalise else k


@register_check(
    "gaussian_kernel",
    task="fn(sigma) -> (K, K) weights exp(-|d|^2 / (2 sigma^2)), K = 2 ceil(3 sigma) + 1, summing to 1",
    mistakes=[
        Mistake("The weights do not sum to 1: divide the kernel by its sum (the 'normalised' in the "
                "definition; otherwise the blur brightens or darkens the image).",
                lambda s: _gauss(s, math.ceil(3 * s), 2 * s**2, normalise=False)),
        Mistake("The denominator should be 2 sigma^2, not sigma^2: exp(-|d|^2 / (2 sigma^2)).",
                lambda s: _gauss(s, math.ceil(3 * s), s**2)),
        Mistake("The denominator should be 2 sigma^2: you used 2 sigma (sigma is not squared).",
                lambda s: _gauss(s, math.ceil(3 * s), 2 * s)),
        Mistake("The window is too small: the radius is ceil(3 sigma), rounded *up* (math.ceil, not "
                "int or round), so K = 2 * ceil(3 * sigma) + 1.",
                lambda s: _gauss(s, int(3 * s), 2 * s**2)),
        Mistake("The window is too small: the radius is ceil(3 sigma), so K = 2 * ceil(3 * sigma) + 1.",
                lambda s: _gauss(s, math.ceil(2 * s), 2 * s**2)),
    ],
)
def _gaussian_kernel_cases():
    return [Case(f"sigma = {s}" + (" (3 sigma is not an integer)" if 3 * s % 1 else ""),
                 (s,), _gaussian_reference(s)) for s in (1.0, 0.5, 1.3, 2.0)]


# ------------------------------------------------------------------------------------------
# Exercise 3: the receptive field of stacked convolutions
# ------------------------------------------------------------------------------------------
def _measured_field(n_layers, kernel_size):
    size = 2 * n_layers * kernel_size + 3
    field = receptive_field_map(n_layers, size, kernel_size)
    rows = np.nonzero(field.any(axis=1))[0]
    return np.asarray(rows.max() - rows.min() + 1)


@register_check(
    "receptive_field",
    task="fn(n_layers, kernel_size) -> width in pixels of what one output of the stack sees",
    mistakes=[
        Mistake("Each layer adds kernel_size - 1 pixels (K // 2 on each side), not kernel_size: "
                "the centre pixel is shared by neighbouring windows.",
                lambda n, k: np.asarray(1 + n * k)),
        Mistake("Almost: start from the single output pixel (width 1) and add kernel_size - 1 per "
                "layer: 1 + n_layers * (kernel_size - 1).", lambda n, k: np.asarray(n * (k - 1))),
        Mistake("Widths add up layer by layer, they do not multiply: a second 3x3 layer sees 5 "
                "pixels across, not 9.", lambda n, k: np.asarray(k**n)),
        Mistake("That is right for 3x3 kernels only: use kernel_size, each layer adds "
                "kernel_size - 1.", lambda n, k: np.asarray(1 + 2 * n)),
        Mistake("n_layers * kernel_size counts the shared pixels twice; each layer adds "
                "kernel_size - 1 to a width that starts at 1.", lambda n, k: np.asarray(n * k)),
    ],
)
def _receptive_field_cases():
    return [Case(f"{n} layer(s) of {k}x{k}", (n, k), _measured_field(n, k))
            for n, k in [(1, 3), (2, 3), (5, 3), (3, 5), (4, 7)]]


# ------------------------------------------------------------------------------------------
# Exercise 4: a convolution as a sum of shifted copies (one head per offset)
# ------------------------------------------------------------------------------------------
def _conv_reference(image, kernel):
    k = kernel.shape[-1]
    return F.conv2d(torch.from_numpy(image)[None, None], torch.from_numpy(kernel)[None, None],
                    padding=k // 2)[0, 0].numpy()


def _shifts(image, kernel, flip=False, wrap=False):
    k = kernel.shape[0]
    r = k // 2
    kern = kernel[::-1, ::-1] if flip else kernel
    h, w = image.shape
    out = np.zeros_like(image)
    padded = np.pad(image, r)
    for dy in range(-r, r + 1):
        for dx in range(-r, r + 1):
            if wrap:
                shifted = np.roll(image, (-dy, -dx), axis=(0, 1))
            else:
                shifted = padded[r + dy : r + dy + h, r + dx : r + dx + w]
            out += kern[dy + r, dx + r] * shifted
    return out


@register_check(
    "conv_as_shifts",
    task="fn(image (H, W), kernel (K, K)) -> (H, W): sum over offsets of kernel[d] * image shifted "
         "by d, zero padding (= F.conv2d(..., padding=K // 2))",
    mistakes=[
        Mistake("Your kernel is flipped: deep learning's 'convolution' (F.conv2d) is a "
                "cross-correlation, out(p) = sum_d kernel[d] x(p + d): the weight at offset (-1, -1) "
                "multiplies the pixel up and to the left.",
                lambda im, k: _shifts(im, k, flip=True)),
        Mistake("The border wraps around (np.roll): pixels beyond the edge must count as zeros "
                "(zero padding), not as pixels from the opposite side.",
                lambda im, k: _shifts(im, k, wrap=True)),
        Mistake("Your output is smaller than the image: pad the image with K // 2 zeros on every "
                "side so that every pixel has a full window.",
                lambda im, k: _conv_reference(im, k)[k.shape[0] // 2 : -(k.shape[0] // 2) or None,
                                                     k.shape[0] // 2 : -(k.shape[0] // 2) or None]),
    ],
)
def _conv_as_shifts_cases():
    rng = np.random.default_rng(41)
    delta = np.zeros((5, 5))
    delta[2, 2] = 1.0
    asym = np.arange(9, dtype=float).reshape(3, 3)
    cases = [Case("hand-worked: a single bright pixel and an asymmetric kernel", (delta, asym),
                  _conv_reference(delta, asym))]
    for label, shape, k in [("a 6x7 image, 3x3 kernel", (6, 7), 3), ("an 8x8 image, 5x5 kernel", (8, 8), 5),
                            ("a 4x9 image, 1x1 kernel", (4, 9), 1)]:
        im, kern = rng.random(shape), rng.standard_normal((k, k))
        cases.append(Case(label, (im, kern), _conv_reference(im, kern)))
    return cases


# ------------------------------------------------------------------------------------------
# Exercise 5: the exponent of a power law from a log-log fit
# ------------------------------------------------------------------------------------------
@register_check(
    "loglog_exponent",
    task="fn(n, t) -> p, the slope of the least-squares line through (log n, log t)",
    mistakes=[
        Mistake("You fitted a line to n and t themselves; the exponent is the slope on a log-log "
                "scale: np.polyfit(np.log(n), np.log(t), 1)[0].",
                lambda n, t: np.polyfit(n, t, 1)[0]),
        Mistake("np.polyfit returns [slope, intercept]: take element [0], the slope.",
                lambda n, t: np.polyfit(np.log(n), np.log(t), 1)[1]),
        Mistake("np.polyfit returns [slope, intercept]; return only the slope, "
                "np.polyfit(...)[0].",
                lambda n, t: np.polyfit(np.log(n), np.log(t), 1)),
        Mistake("You used only the first and last points; fit all points (np.polyfit) so that one "
                "noisy measurement does not decide the answer.",
                lambda n, t: np.log(t[-1] / t[0]) / np.log(n[-1] / n[0])),
        Mistake("x and y are swapped: fit log t (y) against log n (x); you got 1 / p.",
                lambda n, t: np.polyfit(np.log(t), np.log(n), 1)[0]),
    ],
)
def _loglog_cases():
    rng = np.random.default_rng(42)
    n = np.array([256.0, 1024, 4096, 16384, 65536])
    noisy = 2e-6 * n**1.5 * np.exp(0.2 * rng.standard_normal(n.size))
    return [
        Case("t = 0.001 n^2 exactly", (n, 1e-3 * n**2), np.asarray(loglog_slope(n, 1e-3 * n**2))),
        Case("t = 3 n exactly", (n, 3 * n), np.asarray(loglog_slope(n, 3 * n))),
        Case("noisy measurements around n^1.5", (n, noisy), np.asarray(loglog_slope(n, noisy)),
             rtol=1e-6, atol=1e-6),
    ]
