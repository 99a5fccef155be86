"""Convolution is a special case of attention (Cordonnier, Loukas & Jaggi, ICLR 2020).

A ``K x K`` convolution computes, at every pixel p,

    out(p) = sum over offsets d of  W[:, :, d] @ x(p + d)

Read it as ``K*K`` attention heads. Head ``d`` attends from query pixel p to key pixel p' with a
score that depends only on positions, ``score_d(p, p') = -sharpness * |p' - (p + d)|^2``. As the
sharpness grows, softmax puts all of head d's weight on the one key ``p' = p + d``, so the head
returns ``x(p + d)``: a shifted copy of the image. Multi-head attention then mixes its heads'
outputs with an output projection; choosing head d's projection to be the kernel slice
``W[:, :, d]`` gives back the convolution exactly. With a finite sharpness each head spreads its
weight over neighbours of ``p + d``, which is a convolution with a *blurred* kernel.

Zero padding is handled the way a Transformer handles padding tokens: the keys are the pixels of
the zero-padded image, so a head that looks outside the image reads a zero.

The attention matrices here are dense ``(H*W) x ((H+2r)*(W+2r))``: fine for teaching-sized
images (up to about 48 x 48), quadratic in memory beyond. That cost is the point of lesson 04.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from ._arrays import like_input, shape_str, to_tensor
from .core import softmax_weights

MAX_ATTENTION_ENTRIES = 60_000_000  # K*K dense matrices beyond this would take > ~0.5 GB


def kernel_offsets(kernel_size: int) -> list[tuple[int, int]]:
    """The offsets ``(dy, dx)`` of a ``K x K`` kernel in row-major order (one per head)."""
    r = kernel_size // 2
    return [(dy, dx) for dy in range(-r, r + 1) for dx in range(-r, r + 1)]


def pixel_positions(height: int, width: int, offset: int = 0) -> torch.Tensor:
    """Coordinates ``(row, col)`` of every pixel in reading order, shape ``(H*W, 2)``.

    ``offset`` shifts them (used to place query pixels inside a padded key grid).
    """
    ys, xs = torch.meshgrid(torch.arange(height), torch.arange(width), indexing="ij")
    return torch.stack([ys.reshape(-1), xs.reshape(-1)], dim=1).double() + offset


def positional_scores(height: int, width: int, shift, radius: int, sharpness: float):
    """Scores of one head: ``-sharpness * |p' - (p + shift)|^2`` for every query p and key p'.

    Queries are the ``H*W`` pixels of the image; keys are the ``(H+2r)*(W+2r)`` pixels of the
    image zero-padded by ``radius``. Returns ``(H*W, (H+2r)*(W+2r))`` float64. The scores use
    positions only: they are the same for every image.
    """
    queries = pixel_positions(height, width, offset=radius)
    keys = pixel_positions(height + 2 * radius, width + 2 * radius)
    target = queries + torch.tensor(shift, dtype=torch.float64)       # where this head looks
    dy = keys[None, :, 0] - target[:, None, 0]                        # (H*W, n_keys) row offsets
    dx = keys[None, :, 1] - target[:, None, 1]                        # ... and column offsets
    return -sharpness * (dy * dy + dx * dx)


def head_weights(height: int, width: int, kernel_size: int, sharpness: float = math.inf):
    """Attention weights of all ``K*K`` heads, shape ``(K*K, H*W, (H+2r)*(W+2r))``.

    ``sharpness=inf`` is the limit: each query's weight is exactly 1 on the key ``p + shift``.
    """
    r = kernel_size // 2
    heads = []
    for shift in kernel_offsets(kernel_size):
        scores = positional_scores(height, width, shift, r, 1.0)     # -|p' - (p + shift)|^2
        if math.isinf(sharpness):
            heads.append((scores == 0).double())                       # the limit: one-hot
        else:
            heads.append(softmax_weights(sharpness * scores))
    return torch.stack(heads)


def conv2d_as_attention(x, kernel, sharpness=math.inf, return_weights=False):
    """A 2-D convolution computed as ``K*K``-head attention with positional scores.

    Args:
        x: ``(C_in, H, W)`` or ``(B, C_in, H, W)``.
        kernel: ``(C_out, C_in, K, K)`` with K odd.
        sharpness: how peaked each head's positional softmax is. ``inf`` (default) is the exact
            limit and equals ``torch.nn.functional.conv2d(x, kernel, padding=K // 2)`` (zero
            padding). A finite value gives a convolution with a blurred kernel.
        return_weights: also return the heads' attention weights ``(K*K, H*W, n_keys)``.

    Returns:
        ``(C_out, H, W)`` or ``(B, C_out, H, W)``, like ``x`` (NumPy in -> NumPy out); with
        ``return_weights`` a pair ``(output, weights)``.
    """
    x, from_numpy = to_tensor(x, "x")
    kernel, _ = to_tensor(kernel, "kernel")
    if x.dim() not in (3, 4):
        raise ValueError(f"x must have shape (C_in, H, W) or (B, C_in, H, W), got shape {shape_str(x)}")
    if kernel.dim() != 4:
        raise ValueError(f"kernel must have shape (C_out, C_in, K, K), got shape {shape_str(kernel)}")
    unbatched = x.dim() == 3
    if unbatched:
        x = x.unsqueeze(0)
    b, c_in, h, w = x.shape
    c_out, k_in, kh, kw = kernel.shape
    if k_in != c_in:
        raise ValueError(
            f"kernel has C_in={k_in} input channels (shape {shape_str(kernel)}) but x has "
            f"C_in={c_in} (shape {shape_str(x)}); expected kernel.shape[1] == x.shape[-3]"
        )
    if kh != kw or kh % 2 == 0:
        raise ValueError(f"kernel must be square with an odd size K, got K x K = {kh} x {kw}")
    if not (isinstance(sharpness, (int, float)) and sharpness > 0):
        raise ValueError(f"sharpness must be a number > 0 (math.inf for the exact limit), got {sharpness!r}")
    r = kh // 2
    n_keys = (h + 2 * r) * (w + 2 * r)
    if kh * kh * h * w * n_keys > MAX_ATTENTION_ENTRIES:
        raise ValueError(
            f"x of shape {shape_str(x)} with a {kh}x{kh} kernel needs {kh * kh} dense attention "
            f"matrices of {h * w} x {n_keys} entries; that is too much memory for a demo. "
            f"Use an image of at most about 48 x 48 (that quadratic cost is the lesson)."
        )
    dtype = torch.promote_types(x.dtype, kernel.dtype)
    x, kernel = x.to(dtype), kernel.to(dtype)

    # Keys/values: the zero-padded image, one token per pixel with C_in features.
    values = F.pad(x, (r,) * 4).flatten(2).transpose(1, 2)            # (B, n_keys, C_in)
    weights = head_weights(h, w, kh, sharpness).to(dtype=dtype, device=x.device)
    heads = weights.unsqueeze(1) @ values.unsqueeze(0)                # (K*K, B, H*W, C_in)
    # Output projection of head d = the kernel slice W[:, :, d] (C_out x C_in).
    projections = kernel.flatten(2).permute(2, 1, 0)                  # (K*K, C_in, C_out)
    out = torch.einsum("kbnc,kco->bon", heads, projections).reshape(b, c_out, h, w)
    if unbatched:
        out = out[0]
    out = like_input(out, from_numpy)
    return (out, like_input(weights, from_numpy)) if return_weights else out


def effective_kernel(kernel, sharpness: float):
    """The kernel that soft heads (finite sharpness) really apply, away from the border.

    Away from the border, head d spreads its weight over the keys ``p + d + e`` as
    ``g(e) = softmax_e(-sharpness * |e|^2)``, a discrete Gaussian. So the layer computes a
    convolution with ``kernel`` blurred by ``g``: shape ``(C_out, C_in, K + 2s, K + 2s)`` where
    ``s = ceil(sqrt(20 / sharpness))`` (offsets beyond s carry less than exp(-20) of the weight).
    As sharpness -> inf, ``g`` becomes a single 1 and the kernel comes back unchanged.
    """
    kernel, from_numpy = to_tensor(kernel, "kernel")
    spread = math.ceil(math.sqrt(20.0 / sharpness))
    e = torch.arange(-spread, spread + 1, dtype=kernel.dtype)
    g = torch.exp(-sharpness * (e[:, None] ** 2 + e[None, :] ** 2))
    g = g / g.sum()
    c_out, c_in, k, _ = kernel.shape
    # Full 2-D convolution of each kernel slice with g (g is symmetric, so no flip is needed).
    padded = F.pad(kernel.reshape(c_out * c_in, 1, k, k), (2 * spread,) * 4)
    blurred = F.conv2d(padded, g.view(1, 1, *g.shape))
    return like_input(blurred.view(c_out, c_in, k + 2 * spread, k + 2 * spread), from_numpy)




# --------------------------------------------------------------------------------------------
# Five ways to mix pixels, compared on three properties (after Han et al., ICLR 2022)
# --------------------------------------------------------------------------------------------
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


__all__ = [
    "MIXING_OPS",
    "conv2d_as_attention",
    "effective_kernel",
    "head_weights",
    "kernel_offsets",
    "mixing_properties",
    "mixing_weights",
    "pixel_positions",
    "positional_scores",
]
