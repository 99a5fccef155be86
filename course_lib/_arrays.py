"""Plumbing shared by every core function: NumPy in -> NumPy out, and argument checks.

Learners can skip this file. It exists so that the interesting modules (``core.py``,
``filters.py``, ...) stay short, and so that every bad input produces an error message of the
same kind: the argument's name, what was seen, and what was expected.
"""
from __future__ import annotations

import numpy as np
import torch


def shape_str(x) -> str:
    """Format a shape as ``(2, 3, 4)``; works for tensors, arrays and tuples."""
    shape = tuple(x.shape) if hasattr(x, "shape") else tuple(x)
    return "(" + ", ".join(str(s) for s in shape) + (",)" if len(shape) == 1 else ")")


def to_tensor(x, name: str) -> tuple[torch.Tensor, bool]:
    """Return ``(tensor, came_from_numpy)``.

    Torch tensors pass through untouched (so gradients flow). NumPy arrays (and nested lists)
    are wrapped without copying where possible. Integer inputs become floating point, because
    every quantity in attention (scores, weights, averages) is real-valued.
    """
    if isinstance(x, torch.Tensor):
        t, from_numpy = x, False
    elif isinstance(x, (np.ndarray, list, tuple, float, int, np.generic)):
        arr = np.asarray(x)
        if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
            raise TypeError(f"{name} must hold numbers, got a NumPy array of dtype {arr.dtype}")
        if not arr.flags.writeable:  # e.g. np.broadcast_to views; torch wants writable memory
            arr = arr.copy()
        t, from_numpy = torch.from_numpy(np.ascontiguousarray(arr)), True
    else:
        raise TypeError(
            f"{name} must be a torch.Tensor or a NumPy array, got {type(x).__name__}"
        )
    if t.dtype != torch.bool and not t.is_floating_point():
        t = t.to(torch.float64 if from_numpy else torch.get_default_dtype())
    return t, from_numpy


def like_input(t: torch.Tensor, from_numpy: bool):
    """Give back a NumPy array if the caller handed us NumPy, else the tensor itself."""
    return t.detach().cpu().numpy() if from_numpy else t


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
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
        raise TypeError(f"{name} must be a positive number, got {type(value).__name__} {value!r}")
    value = float(value)
    if not (np.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
    return value


def broadcast_mask(mask, scores: torch.Tensor, name: str = "mask") -> torch.Tensor:
    """Return ``mask`` as a boolean tensor broadcast to ``scores.shape``.

    True means "may attend". We insist on booleans: a float mask is ambiguous (is it additive,
    -inf style, or multiplicative?) and silently doing the wrong thing is worse than an error.
    """
    m, _ = to_tensor(mask, name)
    if m.dtype != torch.bool:
        raise TypeError(
            f"{name} must be boolean (True = may attend, False = blocked), got dtype "
            f"{str(m.dtype).replace('torch.', '')}; for an integer mask use mask.astype(bool)"
        )
    try:
        target = torch.broadcast_shapes(m.shape, scores.shape)
    except RuntimeError:
        target = None
    if target != scores.shape:
        raise ValueError(
            f"{name} of shape {shape_str(m)} does not broadcast to the scores' shape "
            f"{shape_str(scores)}; expected a shape like (n_q, n_k) or (..., n_q, n_k) "
            f"with size-1 dimensions where it should repeat"
        )
    return m.to(scores.device).expand(scores.shape)
