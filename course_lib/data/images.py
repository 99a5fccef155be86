"""Real photos, noise and image quality: the raw material of the vision lessons (01, 03-05).

Photos come from ``skimage.data``, which ships inside the scikit-image wheel: nothing is downloaded.
Convention (the same as the filters in lesson 04): a grayscale image is ``(H, W)``, a colour image
is channel-first ``(C, H, W)``, values are floats in [0, 1].
"""
from __future__ import annotations

import numpy as np

PHOTOS = ("camera", "astronaut", "coffee", "chelsea", "cat", "moon", "brick", "grass", "rocket")


def load_photo(name: str = "camera", size=None, gray: bool = False) -> np.ndarray:
    """Load a bundled photo as float64 in [0, 1].

    Args:
        name: one of ``PHOTOS`` (any ``skimage.data`` image function works).
        size: ``None`` (original), an int ``s`` (centre square crop, resized to ``s x s``) or
            ``(h, w)`` (resized without cropping).
        gray: convert a colour photo to grayscale.

    Returns:
        ``(H, W)`` for grayscale, ``(3, H, W)`` for colour.
    """
    import skimage.color
    import skimage.data
    import skimage.transform
    import skimage.util

    loader = getattr(skimage.data, name, None)
    if loader is None or not callable(loader):
        raise ValueError(f"name={name!r} is not a photo in skimage.data; try one of {PHOTOS}")
    img = skimage.util.img_as_float64(loader())
    if img.ndim == 3 and img.shape[-1] == 4:
        img = img[..., :3]  # drop alpha
    if gray and img.ndim == 3:
        img = skimage.color.rgb2gray(img)
    if size is not None:
        if isinstance(size, int):
            h, w = img.shape[:2]
            s = min(h, w)
            top, left = (h - s) // 2, (w - s) // 2
            img = img[top : top + s, left : left + s]
            size = (size, size)
        img = skimage.transform.resize(img, tuple(size) + img.shape[2:], anti_aliasing=True)
    img = np.clip(img, 0.0, 1.0)
    return np.ascontiguousarray(np.moveaxis(img, -1, 0)) if img.ndim == 3 else img


def to_hwc(image: np.ndarray) -> np.ndarray:
    """Channel-first ``(C, H, W)`` -> ``(H, W, C)`` for ``plt.imshow``; ``(H, W)`` unchanged."""
    image = np.asarray(image)
    return np.moveaxis(image, 0, -1) if image.ndim == 3 else image


def add_noise(image: np.ndarray, sigma: float, seed: int = 0) -> np.ndarray:
    """Add Gaussian noise of standard deviation ``sigma`` and clip back to [0, 1]."""
    rng = np.random.default_rng(seed)
    return np.clip(image + sigma * rng.standard_normal(np.shape(image)), 0.0, 1.0)


def psnr(reference: np.ndarray, estimate: np.ndarray, data_range: float = 1.0) -> float:
    """Peak signal-to-noise ratio in dB: ``10 log10(range^2 / MSE)``. Higher is closer."""
    reference, estimate = np.asarray(reference, float), np.asarray(estimate, float)
    if reference.shape != estimate.shape:
        raise ValueError(
            f"reference and estimate must have the same shape, got {reference.shape} "
            f"and {estimate.shape}"
        )
    mse = np.mean((reference - estimate) ** 2)
    return float("inf") if mse == 0 else float(10 * np.log10(data_range**2 / mse))


def patches(image: np.ndarray, patch: int) -> tuple[np.ndarray, tuple[int, int]]:
    """Cut an image into non-overlapping ``patch x patch`` tiles, one flattened vector each.

    Args:
        image: ``(H, W)`` or ``(C, H, W)``; rows/columns that do not fill a whole tile are dropped.
        patch: tile size in pixels.

    Returns:
        ``(vectors, (rows, cols))`` with vectors of shape ``(rows * cols, C * patch * patch)``,
        in reading order (left to right, top to bottom).
    """
    img = np.asarray(image, dtype=float)
    if img.ndim == 2:
        img = img[None]
    if img.ndim != 3:
        raise ValueError(f"image must have shape (H, W) or (C, H, W), got {img.shape}")
    c, h, w = img.shape
    rows, cols = h // patch, w // patch
    if rows == 0 or cols == 0:
        raise ValueError(f"patch={patch} is larger than the image ({h} x {w})")
    tiles = img[:, : rows * patch, : cols * patch].reshape(c, rows, patch, cols, patch)
    vectors = tiles.transpose(1, 3, 0, 2, 4).reshape(rows * cols, c * patch * patch)
    return vectors, (rows, cols)
