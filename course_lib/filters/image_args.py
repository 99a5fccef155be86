"""Argument checks for the image filters (lesson 04): images, radii, pixels, strengths.

Learners can skip this file. Images in the course are floats in [0, 1], laid out channel-first:
``(H, W)`` grayscale or ``(C, H, W)`` colour. Inputs that would be silently misread are refused
with a message that says how to convert them:

* integer images (uint8 photos hold 0..255): ``sigma_color=0.1`` would mean nothing on them;
* channel-last images ``(H, W, C)``: read as C-by-... thin images, they give wrong numbers.
"""
from __future__ import annotations

import math
import operator

import numpy as np
import torch

from course_lib.basics.arrays import compute_dtype, require_positive, shape_str, to_tensor


def _raw_dtype(image):
    """The dtype the caller handed us, before any conversion (None if it is not an array)."""
    if isinstance(image, torch.Tensor):
        return image.dtype
    if isinstance(image, (np.ndarray, np.generic)):
        return image.dtype
    if isinstance(image, (list, tuple)):
        try:
            return np.asarray(image).dtype
        except ValueError:
            return None
    return None


def _is_integer_dtype(dtype) -> bool:
    if isinstance(dtype, torch.dtype):
        return not (dtype.is_floating_point or dtype.is_complex or dtype == torch.bool)
    return dtype is not None and np.dtype(dtype).kind in "iu"


def as_chw(image, name: str = "image") -> tuple[torch.Tensor, bool, tuple[bool, torch.dtype]]:
    """Return ``(image as (C, H, W) float tensor, was_grayscale, (came_from_numpy, dtype))``.

    float16/bfloat16 images are computed in float32; ``dtype`` is the one to give back.
    """
    dtype = _raw_dtype(image)
    if _is_integer_dtype(dtype):
        raise TypeError(
            f"{name} must hold floats in [0, 1], got integer dtype "
            f"{str(dtype).replace('torch.', '')}: on 0..255 values the filters' strengths "
            f"(sigma_color, h) mean nothing. Convert first, e.g. skimage.img_as_float({name}) "
            f"or {name} / 255"
        )
    img, from_numpy = to_tensor(image, name)
    if img.dim() not in (2, 3):
        raise ValueError(
            f"{name} must have shape (H, W) for grayscale or (C, H, W) for colour, "
            f"got shape {shape_str(img)}"
        )
    if img.numel() == 0:
        raise ValueError(f"{name} must have at least one pixel and one channel, got shape "
                         f"{shape_str(img)}")
    gray = img.dim() == 2
    if gray:
        img = img.unsqueeze(0)
    elif img.shape[-1] <= 4 and img.shape[0] > img.shape[-1]:
        c, h, w = img.shape
        raise ValueError(
            f"{name} has shape {shape_str(img)}: it looks channel-last (H={c}, W={h}, C={w}). "
            f"The course uses channel-first (C, H, W): channels first, then rows and columns. "
            f"Convert with np.moveaxis({name}, -1, 0) (torch: {name}.permute(2, 0, 1)); for a "
            f"single channel, drop it with {name}[..., 0]"
        )
    dtype = img.dtype
    return img.to(compute_dtype(dtype)), gray, (from_numpy, dtype)


def clip_radius(value: int, image: torch.Tensor) -> int:
    """Offsets beyond the image's size never land inside it: a wider window adds nothing but
    time (sigma=300 on a 12 x 14 image would loop over 1801^2 offsets)."""
    return min(value, max(image.shape[-2:]) - 1)


def pixel(image: torch.Tensor, value, name: str = "pixel") -> tuple[int, int]:
    """Validate ``(row, col)`` against an image of shape (C, H, W); integers only."""
    try:
        row, col = (operator.index(v) for v in value)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a pair (row, col) of integers, got {value!r}; "
                        f"a float position is not a pixel (use round() or int() first)") from None
    h, w = image.shape[-2:]
    if not (0 <= row < h and 0 <= col < w):
        raise ValueError(
            f"{name}=({row}, {col}) lies outside the image of height {h} and width {w}; "
            f"expected 0 <= row < {h} and 0 <= col < {w}"
        )
    return row, col


def inverse_width(value, name: str, like: torch.Tensor) -> float:
    """``1 / value`` for a width (sigma, h) > 0, capped so that its square fits ``like``'s dtype.

    Scores are then written ``-(x * inverse)^2``: an offset of 0 gives 0 and anything else a very
    negative number (weight 0) even for ``sigma = 1e-200``, the limit where a filter keeps only
    the pixel itself. ``-x^2 / sigma^2`` would compute 0 / 0 = NaN there.
    """
    value = require_positive(value, name)
    cap = math.sqrt(torch.finfo(like.dtype).max) / 4
    return min(1.0 / value, cap) if value > 1.0 / cap else cap
