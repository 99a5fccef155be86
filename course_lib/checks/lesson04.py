"""Checks for lesson 04 (local convolution versus global attention).

The expected answers come from the course's reference code (``similarity``, ``gaussian_weights``,
a gradient through a stack of convolutions, ``torch.nn.functional.conv2d``, ``loglog_slope``),
never from the formula the learner is asked to write, so a check cannot share the learner's
mistake. Every mistake a hint names is registered with a function that makes it, and the cases
are chosen so that the first case each mistake fails tells it apart from the others
(``tests/checks/test_checks_lesson04.py`` enforces both).
"""
from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from course_lib.attention.core import similarity
from course_lib.locality.costs import loglog_slope
from course_lib.filters.local import gaussian_weights
from course_lib.locality.reach import conv_stack, field_width, influence
from course_lib.checks.case import Case, Mistake, register_check


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
    success="-mean((key - query)^2) / h^2 is lesson 01's negative squared Euclidean distance of "
            "the flattened patches, per pixel and per h^2: NL-means scores patches the way "
            "attention scores vectors.",
    mistakes=[
        Mistake("The sign is wrong: a large patch distance must give a *low* score, so that softmax "
                "gives dissimilar patches little weight. Use minus the distance.",
                lambda q, k, h: _sq(q, k).mean(axis=(-2, -1)) / h**2),
        Mistake("You summed the squared differences over the patch; NL-means uses their *mean* "
                "(divide by the number of pixels s*s), so that h keeps the same meaning for any "
                "patch size.", lambda q, k, h: -_sq(q, k).sum(axis=(-2, -1)) / h**2),
        Mistake("You divided by h; the score is -d2 / h^2 (h is in units of the image, like the "
                "distance's square root).", lambda q, k, h: -_sq(q, k).mean(axis=(-2, -1)) / h),
        Mistake("You divided by 2 h^2, the Gaussian's 2 sigma^2; NL-means' score is -d2 / h^2, "
                "without the 2.", lambda q, k, h: -_sq(q, k).mean(axis=(-2, -1)) / (2 * h**2)),
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
    # h = 0.3 keeps h, h^2 and 2 h^2 apart (with h = 0.5, 2 h^2 = h would hide one mistake).
    cases = [Case("hand-worked: the same patch, the mirrored patch, a flat patch; h = 0.3",
                  (q, keys, 0.3), _nlm_reference(q, keys, 0.3))]
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


def _gaussian_shape_hint(got, expected, j):
    if got.ndim == 1 and expected.ndim == 2:
        return ("Your kernel is 1-D: the exercise asks for the 2-D (K, K) kernel, whose weight at "
                "offset (dy, dx) is exp(-(dy^2 + dx^2) / (2 sigma^2)). Build it on a grid of "
                "offsets (d[:, None] and d[None, :]), or as the outer product np.outer(g, g) of "
                "your 1-D Gaussian with itself, then divide by the sum.")
    return None


@register_check(
    "gaussian_kernel",
    task="fn(sigma) -> (K, K) weights exp(-|d|^2 / (2 sigma^2)), K = 2 ceil(3 sigma) + 1, summing to 1",
    shape_hint=_gaussian_shape_hint,
    success="Your kernel equals course_lib's gaussian_weights around a centre pixel: radius "
            "ceil(3 sigma), rounded up even at sigma = 0.5 and 1.1, and weights summing to 1, so "
            "a blur keeps the image's brightness.",
    mistakes=[
        Mistake("The weights do not sum to 1: divide the kernel by its sum (the 'normalised' in the "
                "definition; otherwise the blur brightens or darkens the image).",
                lambda s: _gauss(s, math.ceil(3 * s), 2 * s**2, normalise=False)),
        Mistake("The denominator should be 2 sigma^2, not sigma^2: exp(-|d|^2 / (2 sigma^2)).",
                lambda s: _gauss(s, math.ceil(3 * s), s**2)),
        Mistake("The denominator should be 2 sigma^2: you used 2 sigma (sigma is not squared).",
                lambda s: _gauss(s, math.ceil(3 * s), 2 * s)),
        Mistake("The window is too small: round(3 * sigma) rounds 3.3 down to 3. The radius is "
                "ceil(3 sigma), rounded *up* (math.ceil), so K = 2 * ceil(3 * sigma) + 1.",
                lambda s: _gauss(s, round(3 * s), 2 * s**2)),
        Mistake("The window is too small: int(3 * sigma) cuts 1.5 down to 1. The radius is "
                "ceil(3 sigma), rounded *up* (math.ceil), so K = 2 * ceil(3 * sigma) + 1.",
                lambda s: _gauss(s, int(3 * s), 2 * s**2)),
        Mistake("The window is too small: you cut at 2 sigma; the radius is ceil(3 sigma), so "
                "K = 2 * ceil(3 * sigma) + 1.", lambda s: _gauss(s, math.ceil(2 * s), 2 * s**2)),
        Mistake("The window is one pixel too wide: K = 2 * ceil(3 * sigma) + 1, the radius "
                "ceil(3 sigma) on each side of the centre.",
                lambda s: _gauss(s, math.ceil(3 * s) + 1, 2 * s**2)),
    ],
)
def _gaussian_kernel_cases():
    # 0.5 (3 sigma = 1.5) catches int() before 1.1 (3.3), where int() and round() agree; 1.1
    # catches round(), which gets 1.5 and 3.9 right.
    notes = {0.5: " (3 sigma = 1.5)", 1.3: " (3 sigma = 3.9)", 1.1: " (3 sigma = 3.3)"}
    return [Case(f"sigma = {s}{notes.get(s, '')}", (s,), _gaussian_reference(s))
            for s in (1.0, 0.5, 1.3, 2.0, 1.1)]


# ------------------------------------------------------------------------------------------
# Exercise 3: the receptive field of stacked convolutions
# ------------------------------------------------------------------------------------------
def _measured_field(n_layers, kernel_size):
    """The width where the gradient of the centre output is nonzero (see course_lib.locality.reach)."""
    size = 2 * n_layers * kernel_size + 3
    centre = (size // 2, size // 2)
    stack = conv_stack(n_layers, kernel_size)
    grad = influence(lambda x: stack(x)[centre], np.zeros((size, size)))
    return np.asarray(field_width(grad, centre))


@register_check(
    "receptive_field",
    task="fn(n_layers, kernel_size) -> width in pixels of what one output of the stack sees",
    success="1 + n_layers * (kernel_size - 1) is the width measured by pushing a gradient back "
            "through real stacked convolutions: each layer widens the view by kernel_size - 1, "
            "so a local layer needs many layers to see far.",
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
        Mistake("One too many: the width starts at 1 (the output pixel itself), not 2: "
                "1 + n_layers * (kernel_size - 1).", lambda n, k: np.asarray(2 + n * (k - 1))),
        Mistake("You counted one layer too few: with n_layers = 1 the field is already "
                "kernel_size wide. 1 + n_layers * (kernel_size - 1).",
                lambda n, k: np.asarray(1 + (n - 1) * (k - 1))),
        Mistake("You counted one layer too many: every one of the n_layers layers adds "
                "kernel_size - 1, no more. 1 + n_layers * (kernel_size - 1).",
                lambda n, k: np.asarray(1 + (n + 1) * (k - 1))),
        Mistake("Off by one: subtract nothing; the width is 1 + n_layers * (kernel_size - 1).",
                lambda n, k: np.asarray(n * (k - 1) - 1)),
    ],
)
def _receptive_field_cases():
    # 3 layers of 5x5 first: there every registered mistake gives a different number.
    return [Case(f"{n} layer(s) of {k}x{k}", (n, k), _measured_field(n, k))
            for n, k in [(3, 5), (1, 3), (2, 3), (5, 3), (4, 7)]]


# ------------------------------------------------------------------------------------------
# Exercise 4: a convolution as a sum of shifted copies (one head per offset)
# ------------------------------------------------------------------------------------------
def _conv_reference(image, kernel):
    k = kernel.shape[-1]
    return F.conv2d(torch.from_numpy(image)[None, None], torch.from_numpy(kernel)[None, None],
                    padding=k // 2)[0, 0].numpy()


def _shifts(image, kernel, rows_back=False, cols_back=False, transpose=False, pad="constant",
            wrap=False):
    """The exercise's loop with one mistake switched on: shifting rows or columns the wrong way
    (x(p - d) instead of x(p + d)), reading the kernel transposed, padding the wrong way."""
    k = kernel.shape[0]
    r = k // 2
    kern = kernel.T if transpose else kernel
    h, w = image.shape
    out = np.zeros_like(image)
    padded = np.pad(image, r, mode=pad)
    for dy in range(-r, r + 1):
        for dx in range(-r, r + 1):
            sy, sx = (-dy if rows_back else dy), (-dx if cols_back else dx)
            if wrap:
                shifted = np.roll(image, (-sy, -sx), axis=(0, 1))
            else:
                shifted = padded[r + sy : r + sy + h, r + sx : r + sx + w]
            out += kern[dy + r, dx + r] * shifted
    return out


_CROSS_CORRELATION = ("F.conv2d is a cross-correlation: out(p) = sum_d kernel[d] x(p + d), so the "
                      "weight kernel[0, 0] (offset (-1, -1)) multiplies the pixel up and to the "
                      "left of p.")


# Edge and symmetric padding agree for a 3x3 kernel, so one hint names all three.
_PADDED_WITH_PIXELS = ("You padded with copies of image pixels (np.pad with mode='edge', 'reflect' "
                       "or 'symmetric'); F.conv2d pads with zeros: np.pad(image, r), the default "
                       "mode='constant'.")


@register_check(
    "conv_as_shifts",
    task="fn(image (H, W), kernel (K, K)) -> (H, W): sum over offsets of kernel[d] * image shifted "
         "by d, zero padding (= F.conv2d(..., padding=K // 2))",
    success="Your sum of shifted copies equals F.conv2d with zero padding, a cross-correlation: "
            "each offset d is one fixed 'head' whose weight multiplies x(p + d), the view of "
            "convolution as attention with positional scores.",
    mistakes=[
        Mistake("You shifted the image the wrong way: your sum uses x(p - d) instead of x(p + d). "
                "For offset (dy, dx) slice padded[r + dy : r + dy + H, r + dx : r + dx + W]. "
                "(Flipping the kernel, kernel[::-1, ::-1], gives the same wrong result.) "
                + _CROSS_CORRELATION,
                lambda im, k: _shifts(im, k, rows_back=True, cols_back=True)),
        Mistake("Your rows are shifted the wrong way (the columns are right): for offset dy "
                "slice rows r + dy : r + dy + H, so that pixel p sees x(p + d). "
                + _CROSS_CORRELATION, lambda im, k: _shifts(im, k, rows_back=True)),
        Mistake("Your columns are shifted the wrong way (the rows are right): for offset dx "
                "slice columns r + dx : r + dx + W, so that pixel p sees x(p + d). "
                + _CROSS_CORRELATION, lambda im, k: _shifts(im, k, cols_back=True)),
        Mistake("You read the kernel transposed: the weight of offset (dy, dx) is "
                "kernel[dy + r, dx + r] (row offset first), not kernel[dx + r, dy + r].",
                lambda im, k: _shifts(im, k, transpose=True)),
        Mistake(_PADDED_WITH_PIXELS, lambda im, k: _shifts(im, k, pad="edge")),
        Mistake(_PADDED_WITH_PIXELS, lambda im, k: _shifts(im, k, pad="reflect")),
        Mistake(_PADDED_WITH_PIXELS, lambda im, k: _shifts(im, k, pad="symmetric")),
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
    # A single bright pixel shows the kernel itself (mirrored): every shift and kernel-reading
    # mistake gives a different picture. Padding mistakes show on the random images.
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
    success="The least-squares slope of log t against log n is the exponent p of t ~ n^p, as "
            "course_lib's loglog_slope finds it: any base of logarithm, and the noise of one "
            "measurement averaged over all points.",
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
