"""Reach (lessons 04, 06): which input pixels can change one output pixel, and by how much, by gradients.

The **receptive field** of an output pixel is the set of inputs it depends on at all; the
gradient ``d out[p] / d input`` is nonzero exactly there. Its *size* says how much of it matters:
Luo et al. ("Understanding the effective receptive field in deep convolutional neural networks",
NeurIPS 2016) showed that in a stack of convolutions the gradient is bell-shaped, so the
**effective** receptive field, the part that carries most of the influence, grows only like
``sqrt(L)`` for L layers while the field itself grows like L.

Everything here works for any differentiable function from an ``(H, W)`` image to the output
pixel we ask about: a stack of convolutions, or one attention layer.
"""
from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F


def receptive_field_size(n_layers: int, kernel_size: int = 3) -> int:
    """Width in pixels of what one output of ``n_layers`` stacked ``K x K`` convolutions sees."""
    return 1 + n_layers * (kernel_size - 1)


def layers_to_connect(distance: int, kernel_size: int = 3) -> int:
    """How many stacked ``K x K`` convolutions link two pixels ``distance`` apart (along a row or
    diagonal: Chebyshev distance). Each layer moves information ``K // 2`` pixels."""
    return math.ceil(distance / (kernel_size // 2))


def conv_stack(n_layers: int, kernel_size: int = 3):
    """``n_layers`` stacked ``K x K`` averaging convolutions (every weight ``1 / K^2``, zero
    padding): ``(H, W) -> (H, W)``. With equal weights, Luo et al.'s analysis is exact."""
    kernel = torch.full((1, 1, kernel_size, kernel_size), 1.0 / kernel_size**2,
                        dtype=torch.float64)

    def layer(image: torch.Tensor) -> torch.Tensor:
        x = image[None, None]
        for _ in range(n_layers):
            x = F.conv2d(x, kernel, padding=kernel_size // 2)
        return x[0, 0]

    return layer


def influence(output, image) -> np.ndarray:
    """``|d output(image) / d image|``: how much each input pixel moves one output pixel.

    Args:
        output: ``(H, W) tensor -> scalar tensor``, differentiable: the output pixel we ask
            about, e.g. ``lambda x: layer(x)[row, col]``.
        image: ``(H, W)`` array or tensor (computed in float64).

    Returns:
        ``(H, W)`` NumPy array, >= 0; zero exactly where the input cannot reach that output.
    """
    x = torch.as_tensor(np.asarray(image), dtype=torch.float64).clone().requires_grad_(True)
    output(x).backward()
    return x.grad.abs().numpy()


def field_width(influence_map: np.ndarray, pixel) -> int:
    """Width of the receptive field: the largest Chebyshev distance from ``pixel`` at which the
    influence is nonzero, times 2, plus 1."""
    rows, cols = np.nonzero(influence_map)
    reach = max(np.abs(rows - pixel[0]).max(), np.abs(cols - pixel[1]).max())
    return int(2 * reach + 1)


def influence_spread(influence_map: np.ndarray, pixel) -> float:
    """Standard deviation, in pixels along the rows, of the influence seen as a distribution
    (the width of the bell; Luo et al. predict ``sqrt(L * (K^2 - 1) / 12)`` for L averaging
    layers of width K: ``sqrt(2L/3)`` for 3x3)."""
    weights = influence_map / influence_map.sum()
    rows = np.arange(influence_map.shape[0]) - pixel[0]
    return float(np.sqrt((weights.sum(axis=1) * rows**2).sum()))


def radius_holding(influence_map: np.ndarray, pixel, share: float = 0.9) -> int:
    """Smallest r such that the square ``|dy|, |dx| <= r`` around ``pixel`` holds ``share`` of
    the total influence."""
    rows, cols = np.indices(influence_map.shape)
    distance = np.maximum(np.abs(rows - pixel[0]), np.abs(cols - pixel[1]))
    total = influence_map.sum()
    for r in range(int(distance.max()) + 1):
        if influence_map[distance <= r].sum() >= share * total * (1 - 1e-12):
            return r
    return int(distance.max())


__all__ = [
    "conv_stack",
    "field_width",
    "influence",
    "influence_spread",
    "layers_to_connect",
    "radius_holding",
    "receptive_field_size",
]
