"""The NumPy/torch door behind every lesson's functions: NumPy in -> NumPy out, and argument checks.

Learners can skip this file. It exists so that the interesting modules (``attention/core.py``,
``filters/local.py``, ...) stay short, and so that every bad input produces an error message of the
same kind: the argument's name, what was seen, and what was expected.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np
import torch


def shape_str(x) -> str:
    """Format a shape as ``(2, 3, 4)``; works for tensors, arrays and tuples."""
    shape = tuple(x.shape) if hasattr(x, "shape") else tuple(x)
    return "(" + ", ".join(str(s) for s in shape) + (",)" if len(shape) == 1 else ")")


HALF_TYPES = (torch.float16, torch.bfloat16)


def _dtype_name(dtype) -> str:
    return str(dtype).replace("torch.", "")


def to_tensor(x, name: str, keep_bool: bool = False) -> tuple[torch.Tensor, bool]:
    """Return ``(tensor, came_from_numpy)``.

    Torch tensors pass through untouched (so gradients flow). NumPy arrays (and nested lists)
    are wrapped without copying where possible. Booleans and integers become floating point
    (float64 from NumPy, torch's default dtype from torch), because every quantity in attention
    (scores, weights, averages) is real-valued; ``keep_bool=True`` keeps booleans (masks).
    Complex numbers are refused: dropping the imaginary part silently would give wrong numbers.
    """
    if isinstance(x, torch.Tensor):
        t, from_numpy = x, False
    elif isinstance(x, (np.ndarray, list, tuple, float, int, complex, np.generic)):
        try:
            arr = np.asarray(x)
        except ValueError as err:  # ragged nested lists
            raise TypeError(f"{name} must be a rectangular array of numbers: {err}") from None
        if arr.dtype.kind == "c":
            arr = arr.astype(np.complex128)  # reported below, with torch's complex tensors
        elif arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
            raise TypeError(f"{name} must hold numbers, got a NumPy array of dtype {arr.dtype}")
        if not arr.flags.writeable:  # e.g. np.broadcast_to views; torch wants writable memory
            arr = arr.copy()
        if arr.dtype.byteorder not in "=|":  # torch reads native byte order only
            arr = arr.astype(arr.dtype.newbyteorder("="))
        t, from_numpy = torch.from_numpy(np.ascontiguousarray(arr)), True
    else:
        raise TypeError(
            f"{name} must be a torch.Tensor or a NumPy array, got {type(x).__name__}"
        )
    if t.is_complex():
        raise TypeError(
            f"{name} must hold real numbers, got complex dtype {_dtype_name(t.dtype)} "
            f"(shape {shape_str(t)}); pass {name}.real or abs({name}) explicitly"
        )
    if t.dtype == torch.bool and keep_bool:
        return t, from_numpy
    if not t.is_floating_point():
        t = t.to(torch.float64 if from_numpy else torch.get_default_dtype())
    return t, from_numpy


def compute_dtype(dtype: torch.dtype) -> torch.dtype:
    """float16 and bfloat16 are computed in float32: their range overflows in a dot product
    (64 products of 100 * 100 exceed float16's 65504) and softmax sums lose their digits."""
    return torch.float32 if dtype in HALF_TYPES else dtype


def like_input(t: torch.Tensor, from_numpy: bool, dtype: torch.dtype | None = None):
    """Give back a NumPy array if the caller handed us NumPy, else the tensor itself.

    ``dtype``: the caller's dtype, to return half precision inputs in their own dtype.
    """
    if dtype is not None and t.dtype != dtype:
        t = t.to(dtype)
    return t.detach().cpu().numpy() if from_numpy else t


class Door(NamedTuple):
    """How a caller's arguments came in (NumPy or torch, which dtype), so that the results go
    back out the same way: a function converts on the way in and calls ``door.back`` on the way
    out, once each, and computes on tensors in between."""
    from_numpy: bool
    dtype: torch.dtype

    def back(self, t: torch.Tensor):
        """``t`` as the caller reads it: NumPy for NumPy, in the caller's dtype."""
        return like_input(t, self.from_numpy, self.dtype)


def common_dtype(*tensors: torch.Tensor) -> list[torch.Tensor]:
    """Cast floating tensors to one dtype (float32 with float64 -> float64) and one device."""
    dtype = tensors[0].dtype
    for t in tensors[1:]:
        dtype = torch.promote_types(dtype, t.dtype)
    device = tensors[0].device
    return [t.to(device=device, dtype=dtype) for t in tensors]


def require_rank(t: torch.Tensor, name: str, min_rank: int, layout: str) -> None:
    """Raise ValueError unless ``t`` has at least ``min_rank`` dimensions.

    ``layout`` describes the expected shape for the message, e.g. ``"(..., n_q, d)"``.
    """
    if t.dim() < min_rank:
        raise ValueError(
            f"{name} must have shape {layout} (at least {min_rank} dimensions), "
            f"got shape {shape_str(t)}"
        )


def require_positive(value, name: str) -> float:
    """Return ``value`` as a float, or raise if it is not a finite number > 0."""
    if (isinstance(value, (bool, np.bool_, complex, np.complexfloating))
            or not isinstance(value, (int, float, np.number))):
        raise TypeError(f"{name} must be a positive number, got {type(value).__name__} {value!r}")
    value = float(value)
    if not (np.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
    return value


def require_count(value, name: str, minimum: int = 1) -> int:
    """``value`` as an int, or an error unless it is an integer (Python or NumPy) >= ``minimum``.

    A count of things (positions, heads, images, pixels of a radius): TypeError naming ``name``
    for anything that is not an integer (a float, a bool), ValueError below ``minimum``.
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer >= {minimum}, got {type(value).__name__} "
                        f"{value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {int(value)}")
    return int(value)


def _raw_dtype_tensor(x, name: str) -> torch.Tensor:
    """``x`` as a tensor of its own dtype (an int mask stays int, so the message can say so)."""
    if isinstance(x, torch.Tensor):
        return x
    arr = np.asarray(x) if isinstance(x, (np.ndarray, list, tuple, np.generic)) else None
    if arr is not None and arr.dtype.kind in "biuf":
        return torch.from_numpy(np.array(arr, dtype=arr.dtype.newbyteorder("=")))
    return to_tensor(x, name, keep_bool=True)[0]


def broadcast_mask(mask, shape, name: str = "mask", device=None) -> torch.Tensor:
    """Return ``mask`` as a boolean tensor broadcast to the scores' ``shape`` (on ``device``).

    True means "may attend". We insist on booleans: a float mask is ambiguous (is it additive,
    -inf style, or multiplicative?) and silently doing the wrong thing is worse than an error.
    """
    shape = torch.Size(shape)
    m = _raw_dtype_tensor(mask, name)
    if m.dtype != torch.bool:
        raise TypeError(
            f"{name} must be boolean (True = may attend, False = blocked), got dtype "
            f"{_dtype_name(m.dtype)}; for an integer mask use mask.astype(bool) (NumPy) or "
            f"mask.bool() (torch)"
        )
    try:
        target = torch.broadcast_shapes(m.shape, shape)
    except RuntimeError:
        target = None
    if target != shape:
        raise ValueError(
            f"{name} of shape {shape_str(m)} does not broadcast to the scores' shape "
            f"{shape_str(shape)}; expected a shape like (n_q, n_k) or (..., n_q, n_k) "
            f"with size-1 dimensions where it should repeat"
        )
    return m.to(device).expand(shape)


def require_shape(x: torch.Tensor, name: str, rank: int, layout: str, **sizes) -> None:
    """Raise a ValueError naming ``name`` and ``layout`` unless ``x`` is a tensor with ``rank``
    dimensions and the given sizes (lessons 05-06: every trained model checks its input this way).

    ``layout`` names the axes, ``"(B, C, H, W)"``; ``sizes`` pins some of them by letter, e.g.
    ``require_shape(images, "images", 4, "(B, C, H, W)", C=1)``: the message then says
    "images must have shape (B, C, H, W) with C=1, got (8, 3, 24, 24)".
    """
    ok = isinstance(x, torch.Tensor) and x.dim() == rank
    if ok:
        letters = layout.strip("()").replace(" ", "").split(",")
        for letter, expected in sizes.items():
            if x.shape[letters.index(letter)] != expected:
                ok = False
    if not ok:
        seen = shape_str(x) if hasattr(x, "shape") else type(x).__name__
        want = ", ".join(f"{k}={v}" for k, v in sizes.items())
        raise ValueError(f"{name} must have shape {layout}{' with ' + want if want else ''}, "
                         f"got {seen}")
