"""scikit-image 0.26's two adaptive filters, rebuilt step by step in NumPy.

Lesson 04 compares its textbook filters with ``skimage.restoration.denoise_nl_means`` and
``denoise_bilateral``. To say *why* their outputs differ, pixel by pixel, we rebuilt both from
scikit-image's source (0.26.0: ``restoration/_nl_means_denoising.pyx``,
``_fast_nl_means_denoising_2d``; ``restoration/_denoise.py`` and ``_denoise_cy.pyx``,
``_denoise_bilateral``). Each of their choices is a switch, so that the lesson can turn them on
one at a time, starting from the textbook filter; with every switch on, the tests check that the
result equals scikit-image's.

NL-means (``fast_mode=True``, the default), for ``patch_size=s`` (made odd: ``s += 1`` if even)
and ``o = s // 2``:
    * block:   the patch distance sums the squared differences over a ``2o x 2o`` block at
               offsets ``-o+1 .. o`` (for s = 3: the 2x2 block whose top-left pixel is p), read
               from an integral image; the textbook patch is the ``s x s`` square centred on p;
    * divide:  by ``C * s^2 * h^2`` although the block holds ``(s-1)^2`` pixels;
    * cut-off: a weight whose scaled distance exceeds 5 is dropped (set to 0);
    * exp:     Schraudolph's approximation of exp (a few % off; exp(0) becomes 0.971);
    * border:  neighbours beyond the border are mirror images of pixels inside, and count.

Bilateral (grayscale):
    * border:  ``mode="constant", cval=0``: neighbours beyond the border are black, and count;
    * colour:  the colour Gaussian is read from a table of ``bins`` (10,000) entries;
    * spatial: the spatial Gaussian is read from a table built on a ``(w+1) x (w+1)`` grid
               (``np.arange(-w // 2, w // 2 + 1)``: ``-w // 2`` is ``(-w) // 2``) but indexed
               as ``w x w`` (``range_lut[kr * w + kc]``): a bug, present since 0.16 (PR #4080).
"""
from __future__ import annotations

import math

import numpy as np

EXP_A = 1512775.3951951856938    # 2^20 / ln 2   (skimage/_shared/fast_exp.h)
EXP_BC = 1072632447              # 1023 * 2^20 - 60801


def schraudolph_exp(y):
    """Schraudolph's fast exp, bit for bit as scikit-image computes it (little-endian).

    It writes ``int(EXP_A * y) + EXP_BC`` into the upper 32 bits of a float64 (the exponent and
    the top of the mantissa) and zeros into the lower 32.
    """
    y = np.asarray(y, dtype=np.float64)
    upper = np.trunc(EXP_A * y).astype(np.int64) + EXP_BC     # C's (int32) cast truncates
    return (upper << 32).view(np.float64)


def _mirror(image: np.ndarray, pad: int) -> np.ndarray:
    return np.pad(image, ((pad, pad), (pad, pad), (0, 0)), mode="reflect")


def nl_means(image, patch_size=3, patch_distance=5, h=0.1, *, block="skimage", divide="skimage",
             cutoff=True, fast_exp=True, border="mirror"):
    """NL-means with each of scikit-image's choices as a switch (defaults: all of them).

    Args:
        image: ``(H, W)`` or ``(C, H, W)`` floats.
        patch_size, patch_distance, h: as in ``denoise_nl_means`` (search window
            ``|dy|, |dx| <= patch_distance``).
        block: ``"skimage"`` (the ``2o x 2o`` block) or ``"centred"`` (the ``s x s`` patch).
        divide: ``"skimage"`` (``C s^2 h^2``) or ``"mean"`` (pixels in the block times ``C h^2``).
        cutoff: drop weights whose scaled distance exceeds 5.
        fast_exp: Schraudolph's exp instead of ``np.exp``.
        border: ``"mirror"`` (mirrored neighbours count) or ``"inside"`` (only pixels inside).

    With ``block="centred", divide="mean", cutoff=False, fast_exp=False, border="inside"`` this
    is the textbook filter, :func:`course_lib.nl_means` with ``patch_radius = s // 2``.
    """
    img = np.asarray(image, dtype=np.float64)
    gray = img.ndim == 2
    img = img[..., None] if gray else np.moveaxis(img, 0, -1)          # (H, W, C)
    height, width, channels = img.shape
    s = patch_size + 1 if patch_size % 2 == 0 else patch_size
    o, d = s // 2, patch_distance
    rows = np.arange(-o + 1, o + 1) if block == "skimage" else np.arange(-o, o + 1)
    scale = channels * h * h * (s * s if divide == "skimage" else rows.size**2)
    pad = o + d + 1
    padded = _mirror(img, pad)                                          # (H + 2 pad, W + 2 pad, C)
    inside = np.pad(np.ones((height, width)), pad) > 0
    exp = schraudolph_exp if fast_exp else np.exp

    def window(arr, dy, dx):          # arr shifted so that [i, j] is pixel (i + dy, j + dx)
        return arr[pad + dy : pad + dy + height, pad + dx : pad + dx + width]

    numerator = np.zeros_like(img)
    denominator = np.zeros((height, width))
    for dy in range(-d, d + 1):
        for dx in range(-d, d + 1):
            distance = np.zeros((height, width))
            for uy in rows:                          # the block around p and around p + (dy, dx)
                for ux in rows:
                    diff = window(padded, uy, ux) - window(padded, dy + uy, dx + ux)
                    distance += (diff * diff).sum(axis=-1)
            distance /= scale
            weight = exp(-distance)
            if cutoff:
                weight[distance > 5.0] = 0.0
            if border == "inside":
                weight = weight * window(inside, dy, dx)
            numerator += weight[..., None] * window(padded, dy, dx)
            denominator += weight
    out = numerator / denominator[..., None]
    return out[..., 0] if gray else np.moveaxis(out, -1, 0)


def spatial_table(win_size: int, sigma: float) -> np.ndarray:
    """scikit-image 0.26's ``_compute_spatial_lut``: a Gaussian on a ``(w+1) x (w+1)`` grid,
    flattened (``(w+1)^2`` entries for a window of ``w x w`` offsets)."""
    grid = np.arange(-win_size // 2, win_size // 2 + 1)       # -w // 2 == (-w) // 2: w + 1 points
    rr, cc = np.meshgrid(grid, grid, indexing="ij")
    return np.exp(-0.5 * (np.hypot(rr, cc) ** 2 / sigma**2))


def spatial_weights_used(win_size: int, sigma: float, misread: bool = True) -> np.ndarray:
    """The ``(w, w)`` spatial weights ``denoise_bilateral`` applies to the offsets of its window.

    ``misread=True``: as scikit-image 0.26 reads its table (entry ``kr * w + kc`` of the
    flattened ``(w+1) x (w+1)`` table); ``False``: the Gaussian of the offset it meant.
    """
    w, r = win_size, win_size // 2
    if misread:
        return spatial_table(w, sigma).ravel()[: w * w].reshape(w, w)
    d = np.arange(-r, r + 1)
    return np.exp(-0.5 * (d[:, None] ** 2 + d[None, :] ** 2) / sigma**2)


def bilateral(image, win_size=None, sigma_color=None, sigma_spatial=1.0, bins=10000, *,
              border="zeros", colour_table=True, spatial_table_misread=True):
    """``denoise_bilateral`` of a grayscale ``(H, W)`` image, with its choices as switches.

    ``border="zeros"`` (scikit-image's default ``mode="constant", cval=0``: black neighbours
    beyond the border count) or ``"inside"`` (only pixels inside count, as in the course);
    ``colour_table``: read the colour Gaussian from ``bins`` table entries (else compute it);
    ``spatial_table_misread``: read the spatial Gaussian as scikit-image 0.26 does.
    Defaults reproduce scikit-image 0.26; all three off give :func:`course_lib.bilateral_filter`
    with ``radius = win_size // 2``.
    """
    img = np.asarray(image, dtype=np.float64)
    if img.ndim != 2:
        raise ValueError(f"image must be grayscale (H, W), got shape {img.shape}")
    if win_size is None:
        win_size = max(5, 2 * int(math.ceil(3 * sigma_spatial)) + 1)
    sigma_color = sigma_color or img.std()
    max_value = img.max()
    if img.min() < 0:
        raise ValueError("this reproduction covers images with values >= 0")
    r = win_size // 2
    spatial = spatial_weights_used(win_size, sigma_spatial, misread=spatial_table_misread)
    lut = np.exp(-0.5 * (np.linspace(0, max_value, bins, endpoint=False) ** 2 / sigma_color**2))
    padded = np.pad(img, r)                                  # zeros beyond the border
    inside = np.pad(np.ones_like(img), r)
    height, width = img.shape
    numerator = np.zeros_like(img)
    denominator = np.zeros_like(img)
    for kr in range(win_size):                               # offsets in scikit-image's order
        for kc in range(win_size):
            values = padded[kr : kr + height, kc : kc + width]
            dist = np.sqrt((img - values) ** 2)
            if colour_table:
                index = np.minimum((dist * (bins / 1 / max_value)).astype(np.int64), bins - 1)
                colour = lut[index]
            else:
                colour = np.exp(-0.5 * dist**2 / sigma_color**2)
            weight = spatial[kr, kc] * colour
            if border == "inside":
                weight = weight * inside[kr : kr + height, kc : kc + width]
            numerator += values * weight
            denominator += weight
    return numerator / denominator


__all__ = ["bilateral", "nl_means", "schraudolph_exp", "spatial_table", "spatial_weights_used"]
