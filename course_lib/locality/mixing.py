"""Five ways to mix pixels, compared on three properties (lesson 04; after Han et al., ICLR 2022).

Convolution, depth-wise convolution, dynamic convolution, local attention and global attention
all compute ``output = M x`` for some matrix M of weights once their weights are fixed. We extract
M for each (by feeding one-hot inputs) and *measure* its properties: how sparse it is, whether it
mixes channels, whether it is shared across positions or channels, and whether it changes when
the input changes.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from course_lib.basics.arrays import to_tensor
from course_lib.locality.conv_attention import pixel_positions
from course_lib.attention.core import softmax_weights


def _linear_mixing(apply, x: torch.Tensor) -> torch.Tensor:
    """The matrix M of a map that is linear in x once its weights are fixed: ``out = M x``.

    Returns ``(C_out, H*W, C_in, H*W)``: M[o, p, i, p'] = how much input channel i at pixel p'
    contributes to output channel o at pixel p. Found by feeding one-hot inputs.
    """
    c, h, w = x.shape
    n = c * h * w
    basis = torch.eye(n, dtype=x.dtype).view(n, c, h, w)
    columns = apply(basis)                                   # (n, C_out, H, W): one per input
    c_out = columns.shape[1]
    return columns.reshape(c, h * w, c_out, h * w).permute(2, 3, 0, 1)


def mixing_weights(op: str, x, seed: int = 0, radius: int = 1) -> torch.Tensor:
    """The weights with which ``op`` mixes the pixels of ``x`` (``(C, H, W)``, small).

    ``op`` is one of ``"convolution"``, ``"depth-wise convolution"``, ``"dynamic convolution"``,
    ``"local attention"``, ``"global attention"``. Kernels are random but fixed by ``seed`` (the
    same for every input); the dynamic convolution mixes 4 fixed depth-wise kernels with
    coefficients computed from the input's channel means (Chen et al., 2020); attention uses the
    pixels' feature vectors as queries, keys and values, ``local`` within ``|dy|, |dx| <= radius``.

    Returns ``M`` of shape ``(C, H*W, C, H*W)`` with ``output = M x`` (see :func:`_linear_mixing`).
    """
    x, _ = to_tensor(x, "x")
    x = x.double()
    c, h, w = x.shape
    k = 2 * radius + 1
    gen = torch.Generator().manual_seed(seed)
    if op == "convolution":
        kernel = torch.randn(c, c, k, k, generator=gen, dtype=torch.float64)
        return _linear_mixing(lambda b: F.conv2d(b, kernel, padding=radius), x)
    if op == "depth-wise convolution":
        kernel = torch.randn(c, 1, k, k, generator=gen, dtype=torch.float64)
        return _linear_mixing(lambda b: F.conv2d(b, kernel, padding=radius, groups=c), x)
    if op == "dynamic convolution":
        bank = torch.randn(4, c, 1, k, k, generator=gen, dtype=torch.float64)
        router = torch.randn(4, c, generator=gen, dtype=torch.float64)
        coefficients = softmax_weights(router @ x.mean(dim=(1, 2)))        # from the input
        kernel = (coefficients.view(4, 1, 1, 1, 1) * bank).sum(0)          # (C, 1, K, K)
        return _linear_mixing(lambda b: F.conv2d(b, kernel, padding=radius, groups=c), x)
    if op in ("local attention", "global attention"):
        tokens = x.flatten(1).T                                            # (H*W, C)
        scores = tokens @ tokens.T / math.sqrt(c)
        mask = None
        if op == "local attention":
            pos = pixel_positions(h, w)
            mask = (pos[:, None, :] - pos[None, :, :]).abs().amax(-1) <= radius
        weights = softmax_weights(scores, mask=mask)                       # (H*W, H*W)
        eye = torch.eye(c, dtype=torch.float64)
        return torch.einsum("pq,oi->opiq", weights, eye)                   # same for every channel
    raise ValueError(
        f"op={op!r} is not known; expected one of 'convolution', 'depth-wise convolution', "
        f"'dynamic convolution', 'local attention', 'global attention'"
    )


MIXING_OPS = ("convolution", "depth-wise convolution", "dynamic convolution", "local attention",
              "global attention")


def mixing_properties(op: str, x1, x2, radius: int = 1) -> dict:
    """Measure the three properties of Han et al. (ICLR 2022) for ``op`` on two inputs.

    * ``sparse``: share of (output pixel, input pixel) pairs with zero weight (0 = dense);
    * ``mixes_channels``: an output channel reads other input channels;
    * ``shared_across_positions``: two interior output pixels use the same weights on the same
      relative offsets (a convolution) or not;
    * ``shared_across_channels``: every channel is mixed with the same spatial weights;
    * ``dynamic``: the weights change when the input changes.
    """
    m1, m2 = mixing_weights(op, x1, radius=radius), mixing_weights(op, x2, radius=radius)
    c, n = m1.shape[0], m1.shape[1]
    _, h, w = torch.as_tensor(x1).shape
    spatial = m1.abs().sum(dim=(0, 2))                                     # (H*W, H*W)
    sparse = float((spatial == 0).double().mean())

    def profile(m, row, col):  # weights of output pixel (row, col) on its (2r+1)^2 neighbours
        grid = m.reshape(c, h, w, c, h, w)[:, row, col]
        return grid[:, :, row - radius : row + radius + 1, col - radius : col + radius + 1]

    a, b = (h // 2 - 1, w // 2 - 1), (h // 2, w // 2)
    positions = bool(torch.allclose(profile(m1, *a), profile(m1, *b)))
    diagonal = [m1[o, :, o, :] for o in range(c)]
    off_diagonal = sum(float(m1[o, :, i, :].abs().sum()) for o in range(c) for i in range(c) if o != i)
    channels = off_diagonal == 0 and all(torch.allclose(d, diagonal[0]) for d in diagonal)
    dynamic = not torch.allclose(m1, m2)
    return {"sparse": sparse, "mixes_channels": off_diagonal > 0,
            "shared_across_positions": positions,
            "shared_across_channels": channels, "dynamic": dynamic}


__all__ = ["MIXING_OPS", "mixing_properties", "mixing_weights"]
