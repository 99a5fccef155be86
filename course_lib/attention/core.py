"""Attention in three steps: similarity -> weights -> weighted aggregation.

Everything in this course is built from the three functions in this file:

    scores  = similarity(q, k)          # step 1: how well does each query match each key?
    weights = softmax_weights(scores)   # step 2: turn scores into a distribution per query
    output  = weights @ v               # step 3: average the values with those weights

``attend`` chains the three. ``MultiHeadAttention`` runs several of them side by side on learned
projections, exactly as a Transformer layer does.

Shapes follow one convention: ``q`` is ``(..., n_q, d)``, ``k`` is ``(..., n_k, d)``,
``v`` is ``(..., n_k, d_v)``; the leading ``...`` are batch dimensions and broadcast.
Each function takes torch tensors (and keeps gradients) or NumPy arrays (and returns NumPy).
"""
from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from course_lib.basics.arrays import (
    broadcast_mask,
    common_dtype,
    compute_dtype,
    like_input,
    require_positive,
    require_rank,
    shape_str,
    to_tensor,
)
from course_lib.attention.numerics import cosine_scores, dot_scores, neg_sq_distances, stable_softmax

SIMILARITY_KINDS = ("dot", "scaled_dot", "cosine", "neg_sq_euclidean")


# --------------------------------------------------------------------------------------------
# Step 1: similarity
# --------------------------------------------------------------------------------------------
def similarity(q, k, kind="scaled_dot"):
    """Score every query against every key.

    Args:
        q: queries, shape ``(..., n_q, d)``.
        k: keys, shape ``(..., n_k, d)``.
        kind: one of
            ``"dot"``              q . k
            ``"scaled_dot"``       q . k / sqrt(d)   (keeps the scores' variance ~1 as d grows)
            ``"cosine"``           q . k / (|q| |k|) (only the direction matters; zero vectors -> 0)
            ``"neg_sq_euclidean"`` -|q - k|^2 = 2 q . k - |q|^2 - |k|^2  (close = similar)
            or a callable ``f(q, k) -> scores`` such as an :class:`AdditiveScore` module (then
            q and k may have different feature sizes).

    Returns:
        scores of shape ``(..., n_q, n_k)``; larger means more similar.

    Inputs: booleans and integers are read as floats; complex numbers are refused (TypeError).
    float16/bfloat16 are computed in float32 and returned in their own dtype. Scores too large
    to store become +-inf (never NaN), see :mod:`course_lib.attention.numerics`; with ``d = 0`` every
    score is 0.
    """
    q, from_numpy = to_tensor(q, "q")
    k, _ = to_tensor(k, "k")
    require_rank(q, "q", 2, "(..., n_q, d)")
    require_rank(k, "k", 2, "(..., n_k, d)")
    if q.shape[-1] != k.shape[-1] and not callable(kind):
        raise ValueError(
            f"q and k must have the same feature size d (last dimension): q has shape "
            f"{shape_str(q)} (d={q.shape[-1]}), k has shape {shape_str(k)} (d={k.shape[-1]})"
        )
    q, k = common_dtype(q, k)
    out_dtype = q.dtype
    q, k = q.to(compute_dtype(out_dtype)), k.to(compute_dtype(out_dtype))

    if callable(kind):
        # A learned score computes in its own parameters' dtype (float32 unless made otherwise):
        # NumPy's float64 inputs are cast to it, and the scores back to the inputs' dtype.
        parameters = kind.parameters() if isinstance(kind, nn.Module) else iter(())
        own = next((p.dtype for p in parameters if p.is_floating_point()), q.dtype)
        scores = kind(q.to(own), k.to(own)).to(q.dtype)
    elif kind == "dot":
        scores = dot_scores(q, k)
    elif kind == "scaled_dot":
        # Scaling q (n_q * d numbers) is cheaper than scaling the scores (n_q * n_k numbers).
        scores = dot_scores(q, k, scale=1.0 / math.sqrt(max(q.shape[-1], 1)))
    elif kind == "cosine":
        scores = cosine_scores(q, k)
    elif kind == "neg_sq_euclidean":
        # Expanding the square turns n_q * n_k difference vectors into one matrix product
        # (done with care far from the origin: see _numerics.neg_sq_distances).
        scores = neg_sq_distances(q, k)
    else:
        raise ValueError(
            f"kind={kind!r} is not a known similarity; expected one of "
            f"{', '.join(repr(s) for s in SIMILARITY_KINDS)} or a callable f(q, k) -> scores"
        )
    return like_input(scores, from_numpy, out_dtype)


class AdditiveScore(nn.Module):
    """A *learned* similarity (Bahdanau et al., 2015): ``score(q, k) = w . tanh(W_q q + W_k k)``.

    Unlike the dot product it can compare queries and keys of different sizes and learn which
    combinations matter. Pass an instance as ``kind`` to :func:`similarity` or :func:`attend`.

    Shapes: ``q (..., n_q, d_q)``, ``k (..., n_k, d_k)`` -> scores ``(..., n_q, n_k)``.
    """

    def __init__(self, d_q: int, d_k: int | None = None, d_hidden: int = 32):
        super().__init__()
        d_k = d_q if d_k is None else d_k
        self.proj_q = nn.Linear(d_q, d_hidden, bias=False)
        self.proj_k = nn.Linear(d_k, d_hidden, bias=True)
        self.w = nn.Linear(d_hidden, 1, bias=False)

    def forward(self, q: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
        # (..., n_q, 1, h) + (..., 1, n_k, h) -> (..., n_q, n_k, h): every pair, one hidden vector
        hidden = torch.tanh(self.proj_q(q).unsqueeze(-2) + self.proj_k(k).unsqueeze(-3))
        return self.w(hidden).squeeze(-1)


# --------------------------------------------------------------------------------------------
# Step 2: weight allocation
# --------------------------------------------------------------------------------------------
def softmax_weights(scores, temperature=1.0, mask=None, *, overwrite=False):
    """Turn scores into weights that are >= 0 and sum to 1 over the last axis.

    ``weights = exp(scores / T) / sum(exp(scores / T))``, computed stably.

    Args:
        scores: shape ``(..., n_k)``, usually ``(..., n_q, n_k)``.
        temperature: T > 0. Small T sharpens towards argmax, large T flattens towards uniform.
        mask: optional boolean array broadcastable to ``scores``; True = may attend. Blocked
            entries get weight exactly 0. A row with no allowed entry gets all-zero weights
            (not NaN): there is nothing to attend to.
        overwrite: compute the weights in the memory of ``scores`` (a torch tensor nobody needs
            afterwards, as :func:`attend`'s own scores): the same numbers without allocating
            a new ``n_q x n_k`` buffer for each step. Ignored where a gradient is needed.

    Returns:
        weights with the shape of ``scores``, finite for any finite scores, however large.

    Non-finite scores follow the limits: ``-inf`` is a blocked key (weight 0); ``+inf`` entries
    share the row's weight equally (the limit as those scores grow) and the others get 0; a NaN
    score makes its whole row NaN, because no weight is right and a silent number would hide the
    bug. With no keys (``n_k = 0``) the weights have shape ``(..., 0)``. float16/bfloat16 are
    computed in float32 and returned in their own dtype.
    """
    s, from_numpy = to_tensor(scores, "scores")
    require_rank(s, "scores", 1, "(..., n_k)")
    temperature = require_positive(temperature, "temperature")
    allowed = None if mask is None else broadcast_mask(mask, s)
    out_dtype = s.dtype
    s = s.to(compute_dtype(out_dtype))
    overwrite = overwrite and not from_numpy and not (s.requires_grad and torch.is_grad_enabled())
    weights = stable_softmax(s, temperature, allowed, overwrite=overwrite)
    return like_input(weights, from_numpy, out_dtype)


# --------------------------------------------------------------------------------------------
# Step 3: weighted aggregation (and the three steps together)
# --------------------------------------------------------------------------------------------
def attend(q, k, v, mask=None, kind="scaled_dot", temperature=1.0):
    """Attention: each query returns a weighted average of the values.

    Args:
        q: queries ``(..., n_q, d)``; k: keys ``(..., n_k, d)``; v: values ``(..., n_k, d_v)``.
        mask: optional boolean, broadcastable to ``(..., n_q, n_k)``; True = may attend.
        kind: the similarity (see :func:`similarity`).
        temperature: softmax temperature T > 0.

    Returns:
        ``(output, weights)`` with output ``(..., n_q, d_v)`` and weights ``(..., n_q, n_k)``.
        ``output = weights @ v``: row i of the output mixes the values with query i's weights.
    """
    q, from_numpy = to_tensor(q, "q")
    k, _ = to_tensor(k, "k")
    v, _ = to_tensor(v, "v")
    require_rank(v, "v", 2, "(..., n_k, d_v)")
    require_rank(k, "k", 2, "(..., n_k, d)")
    if k.shape[-2] != v.shape[-2]:
        raise ValueError(
            f"k and v must hold one value per key (same n_k, second-to-last dimension): "
            f"k has shape {shape_str(k)} (n_k={k.shape[-2]}), v has shape {shape_str(v)} "
            f"(n_k={v.shape[-2]})"
        )
    q, k, v = common_dtype(q, k, v)
    out_dtype = q.dtype
    q, k, v = (x.to(compute_dtype(out_dtype)) for x in (q, k, v))
    scores = similarity(q, k, kind=kind)                      # step 1
    # step 2. A built-in similarity's scores are a fresh buffer nobody else holds: the weights
    # overwrite it (a learned score's output might be kept by its module, so it is left alone).
    weights = softmax_weights(scores, temperature, mask, overwrite=isinstance(kind, str))
    output = weights @ v                                      # step 3 (n_k = 0: all zeros)
    return like_input(output, from_numpy, out_dtype), like_input(weights, from_numpy, out_dtype)


# --------------------------------------------------------------------------------------------
# Many attentions side by side
# --------------------------------------------------------------------------------------------
class MultiHeadAttention(nn.Module):
    """Multi-head attention built from :func:`attend` (Vaswani et al., 2017).

    Each of ``num_heads`` heads projects queries, keys and values to ``head_dim = embed_dim /
    num_heads`` numbers, attends on its own, and the heads' outputs are concatenated and mixed
    by an output projection. Different heads can therefore look for different things.

    Shapes (batch first): query ``(B, n_q, embed_dim)``, key/value ``(B, n_k, embed_dim)``
    (key and value default to query: self-attention). ``mask`` is boolean, broadcastable to
    ``(B, num_heads, n_q, n_k)``, True = may attend.

    Returns ``(output (B, n_q, embed_dim), weights (B, num_heads, n_q, n_k))``.
    """

    def __init__(self, embed_dim: int, num_heads: int, bias: bool = True):
        super().__init__()
        embed_dim, num_heads = _count(embed_dim, "embed_dim"), _count(num_heads, "num_heads")
        if embed_dim % num_heads != 0:
            raise ValueError(
                f"embed_dim={embed_dim} must be divisible by num_heads={num_heads} "
                f"so that every head gets embed_dim / num_heads features"
            )
        self.embed_dim, self.num_heads = embed_dim, num_heads
        self.head_dim = embed_dim // num_heads
        self.q_proj = nn.Linear(embed_dim, embed_dim, bias=bias)
        self.k_proj = nn.Linear(embed_dim, embed_dim, bias=bias)
        self.v_proj = nn.Linear(embed_dim, embed_dim, bias=bias)
        self.out_proj = nn.Linear(embed_dim, embed_dim, bias=bias)

    def split_heads(self, x: torch.Tensor) -> torch.Tensor:
        """(B, n, embed_dim) -> (B, num_heads, n, head_dim)"""
        b, n, _ = x.shape
        return x.reshape(b, n, self.num_heads, self.head_dim).transpose(1, 2)

    @staticmethod
    def _project(layer: nn.Linear, x: torch.Tensor) -> torch.Tensor:
        # Run the layer in the input's dtype (float64 stays float64); gradients still reach
        # the layer's float32 parameters through .to().
        bias = None if layer.bias is None else layer.bias.to(x.dtype)
        return nn.functional.linear(x, layer.weight.to(x.dtype), bias)

    def forward(self, query, key=None, value=None, mask=None):
        """NumPy in -> NumPy out; float16/bfloat16 computed in float32, returned in their dtype."""
        query, from_numpy = to_tensor(query, "query")
        key = query if key is None else to_tensor(key, "key")[0]
        value = key if value is None else to_tensor(value, "value")[0]
        for name, x in (("query", query), ("key", key), ("value", value)):
            if x.dim() != 3 or x.shape[-1] != self.embed_dim:
                raise ValueError(
                    f"{name} must have shape (B, n, embed_dim={self.embed_dim}), "
                    f"got shape {shape_str(x)}"
                )
        if query.shape[0] != key.shape[0] and 1 not in (query.shape[0], key.shape[0]):
            # (a batch of 1 broadcasts, as in attend; 2 against 3 would otherwise fail inside
            # torch with a message that names neither argument)
            raise ValueError(f"query and key must have the same batch size B: query has shape "
                             f"{shape_str(query)}, key has shape {shape_str(key)}")
        if key.shape[:2] != value.shape[:2]:
            raise ValueError(f"key and value must hold one value per key: key has shape "
                             f"{shape_str(key)}, value has shape {shape_str(value)}")
        out_dtype = torch.promote_types(torch.promote_types(query.dtype, key.dtype), value.dtype)
        dtype = compute_dtype(out_dtype)
        device = self.q_proj.weight.device
        query, key, value = (x.to(device=device, dtype=dtype) for x in (query, key, value))
        q = self.split_heads(self._project(self.q_proj, query))
        k = self.split_heads(self._project(self.k_proj, key))
        v = self.split_heads(self._project(self.v_proj, value))
        out, weights = attend(q, k, v, mask=mask)              # every head at once
        b, _, n_q, _ = out.shape
        out = out.transpose(1, 2).reshape(b, n_q, self.embed_dim)  # concatenate the heads
        out = self._project(self.out_proj, out)
        return like_input(out, from_numpy, out_dtype), like_input(weights, from_numpy, out_dtype)


def _count(value, name: str) -> int:
    """An integer >= 1 (Python or NumPy), else a TypeError/ValueError naming ``name``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer >= 1, got {type(value).__name__} {value!r}")
    if value < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {value}")
    return int(value)
