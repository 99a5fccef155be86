"""Attention in three steps: similarity -> weights -> weighted aggregation (lessons 00-03).

Everything in this course is built from the three steps in this file:

    scores  = similarity(q, k)          # step 1: how well does each query match each key?
    weights = softmax_weights(scores)   # step 2: turn scores into a distribution per query
    output  = weights @ v               # step 3: average the values with those weights

``attend`` chains the three. ``MultiHeadAttention`` runs several of them side by side on learned
projections, exactly as a Transformer layer does.

The file has two floors. The public functions (``similarity``, ``softmax_weights``, ``attend``)
are the *door*: each checks its arguments once, turns NumPy into torch, runs the steps, and hands
NumPy back to a NumPy caller. Below the door, the steps themselves (``compute_similarity``,
``allocate_weights``, ``aggregate``) take tensors that are already checked and never convert or
check again: read them to see what attention computes.

Shapes follow one convention: ``q`` is ``(..., n_q, d)``, ``k`` is ``(..., n_k, d)``,
``v`` is ``(..., n_k, d_v)``; the leading ``...`` are batch dimensions and broadcast.
Each public function takes torch tensors (and keeps gradients) or NumPy arrays (and returns NumPy).
"""
from __future__ import annotations

import math

import torch
from torch import nn

from course_lib.attention.numerics import (
    cosine_scores,
    dot_scores,
    neg_sq_distances,
    stable_softmax,
)
from course_lib.basics.arrays import (
    Door,
    broadcast_mask,
    common_dtype,
    compute_dtype,
    require_count,
    require_positive,
    require_rank,
    shape_str,
    to_tensor,
)


def scaled_dot_scores(q: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
    """``q . k / sqrt(d)``: keeps the scores' variance about 1 as the feature size d grows."""
    # Scaling q (n_q * d numbers) is cheaper than scaling the scores (n_q * n_k numbers).
    return dot_scores(q, k, scale=1.0 / math.sqrt(max(q.shape[-1], 1)))


# The built-in similarities, by name (lesson 01). neg_sq_distances expands the square, so that
# n_q * n_k difference vectors become one matrix product (with care far from the origin).
SIMILARITIES = {
    "dot": dot_scores,
    "scaled_dot": scaled_dot_scores,
    "cosine": cosine_scores,
    "neg_sq_euclidean": neg_sq_distances,
}
SIMILARITY_KINDS = tuple(SIMILARITIES)


# ============================================================================================
# Below the door: the three steps on tensors that are already checked (one floating dtype,
# one device, shapes that fit). No conversion, no checks: this is what attention computes.
# ============================================================================================
def compute_similarity(q: torch.Tensor, k: torch.Tensor, kind) -> torch.Tensor:
    """Step 1: scores ``(..., n_q, n_k)`` for queries ``(..., n_q, d)``, keys ``(..., n_k, d)``.

    ``kind``: a name in ``SIMILARITIES`` or a callable ``f(q, k) -> scores`` (a learned score).
    """
    if not callable(kind):
        return SIMILARITIES[kind](q, k)
    # A learned score computes in its own parameters' dtype (float32 unless made otherwise):
    # NumPy's float64 inputs are cast to it, and the scores back to the inputs' dtype.
    parameters = kind.parameters() if isinstance(kind, nn.Module) else iter(())
    own = next((p.dtype for p in parameters if p.is_floating_point()), q.dtype)
    return kind(q.to(own), k.to(own)).to(q.dtype)


def allocate_weights(scores: torch.Tensor, temperature: float = 1.0,
                     allowed: torch.Tensor | None = None, *, overwrite: bool = False):
    """Step 2: the softmax of ``scores / temperature`` over the last axis, 0 where not ``allowed``.

    ``allowed``: a boolean tensor of the scores' shape (True = may attend) or None. The rules for
    blocked rows and non-finite scores are :func:`softmax_weights`'s. ``overwrite``: the caller
    promises that nobody else holds ``scores``; the weights are then computed in its memory
    (no new ``n_q x n_k`` buffer), except where a gradient is needed.
    """
    overwrite = overwrite and not (scores.requires_grad and torch.is_grad_enabled())
    return stable_softmax(scores, temperature, allowed, overwrite=overwrite)


def aggregate(weights: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """Step 3: ``weights (..., n_q, n_k) @ v (..., n_k, d_v)``: row i of the output mixes the
    values with query i's weights (with no keys, ``n_k = 0``, every output is 0)."""
    return weights @ v


# ============================================================================================
# The door: check the arguments once, NumPy -> torch in, torch -> NumPy out.
# ============================================================================================
def enter_vectors(**named) -> tuple[list[torch.Tensor], Door]:
    """The door of :func:`similarity` and :func:`attend`: every argument (q, k, v, in that order)
    becomes a tensor, all in one dtype (float16/bfloat16 computed in float32) on one device.
    Returns ``(tensors, door)``; ``door.back`` gives results back as the caller handed q in."""
    converted = [to_tensor(x, name) for name, x in named.items()]
    tensors = common_dtype(*(t for t, _ in converted))
    door = Door(from_numpy=converted[0][1], dtype=tensors[0].dtype)
    return [t.to(compute_dtype(door.dtype)) for t in tensors], door


def check_queries_and_keys(q: torch.Tensor, k: torch.Tensor, kind) -> torch.Size:
    """The checks :func:`similarity` and :func:`attend` share; returns the scores' shape."""
    require_rank(q, "q", 2, "(..., n_q, d)")
    require_rank(k, "k", 2, "(..., n_k, d)")
    if not callable(kind) and kind not in SIMILARITIES:
        raise ValueError(
            f"kind={kind!r} is not a known similarity; expected one of "
            f"{', '.join(repr(s) for s in SIMILARITY_KINDS)} or a callable f(q, k) -> scores"
        )
    if q.shape[-1] != k.shape[-1] and not callable(kind):
        raise ValueError(
            f"q and k must have the same feature size d (last dimension): q has shape "
            f"{shape_str(q)} (d={q.shape[-1]}), k has shape {shape_str(k)} (d={k.shape[-1]})"
        )
    try:
        batch = torch.broadcast_shapes(q.shape[:-2], k.shape[:-2])
    except RuntimeError:
        raise ValueError(
            f"the batch dimensions of q and k (all but the last two) must broadcast: q has shape "
            f"{shape_str(q)}, k has shape {shape_str(k)}"
        ) from None
    return torch.Size((*batch, q.shape[-2], k.shape[-2]))


def enter_scores(scores, temperature, mask):
    """The door of step 2, shared by :func:`softmax_weights` and every rule in
    :mod:`course_lib.attention.weight_rules`: they all take ``(scores, temperature, mask)``.

    Returns ``(s, temperature, allowed, door)``: the scores as a tensor in the compute dtype
    (float32 for half precision), the temperature as a float > 0, the mask as a boolean tensor
    of the scores' shape (or None), and the door to give the weights back through.
    """
    s, from_numpy = to_tensor(scores, "scores")
    require_rank(s, "scores", 1, "(..., n_k)")
    temperature = require_positive(temperature, "temperature")
    allowed = None if mask is None else broadcast_mask(mask, s.shape, device=s.device)
    return s.to(compute_dtype(s.dtype)), temperature, allowed, Door(from_numpy, s.dtype)


# ============================================================================================
# The public steps: each crosses the door once
# ============================================================================================
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
    (q, k), door = enter_vectors(q=q, k=k)
    check_queries_and_keys(q, k, kind)
    return door.back(compute_similarity(q, k, kind))


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
    s, temperature, allowed, door = enter_scores(scores, temperature, mask)
    overwrite = overwrite and not door.from_numpy    # NumPy scores are the caller's memory
    return door.back(allocate_weights(s, temperature, allowed, overwrite=overwrite))


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
    (q, k, v), door = enter_vectors(q=q, k=k, v=v)
    scores_shape = check_queries_and_keys(q, k, kind)
    require_rank(v, "v", 2, "(..., n_k, d_v)")
    if k.shape[-2] != v.shape[-2]:
        raise ValueError(
            f"k and v must hold one value per key (same n_k, second-to-last dimension): "
            f"k has shape {shape_str(k)} (n_k={k.shape[-2]}), v has shape {shape_str(v)} "
            f"(n_k={v.shape[-2]})"
        )
    temperature = require_positive(temperature, "temperature")
    allowed = None if mask is None else broadcast_mask(mask, scores_shape, device=q.device)

    scores = compute_similarity(q, k, kind)                       # step 1
    # step 2. A built-in similarity's scores are a fresh buffer nobody else holds: the weights
    # overwrite it (a learned score's output might be kept by its module, so it is left alone).
    weights = allocate_weights(scores, temperature, allowed, overwrite=isinstance(kind, str))
    output = aggregate(weights, v)                                # step 3
    return door.back(output), door.back(weights)


# ============================================================================================
# A learned similarity, and many attentions side by side
# ============================================================================================
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
        embed_dim = require_count(embed_dim, "embed_dim")
        num_heads = require_count(num_heads, "num_heads")
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
        device = self.q_proj.weight.device
        batch = torch.broadcast_shapes(query.shape[:1], key.shape[:1])   # (B,): a 1 broadcasts
        scores_shape = (*batch, self.num_heads, query.shape[1], key.shape[1])
        allowed = None if mask is None else broadcast_mask(mask, scores_shape, device=device)
        out_dtype = torch.promote_types(torch.promote_types(query.dtype, key.dtype), value.dtype)
        dtype = compute_dtype(out_dtype)
        query, key, value = (x.to(device=device, dtype=dtype) for x in (query, key, value))
        q = self.split_heads(self._project(self.q_proj, query))
        k = self.split_heads(self._project(self.k_proj, key))
        v = self.split_heads(self._project(self.v_proj, value))
        # every head at once: the three steps (the inputs have crossed this layer's door)
        scores = compute_similarity(q, k, "scaled_dot")
        weights = allocate_weights(scores, 1.0, allowed, overwrite=True)
        out = aggregate(weights, v)
        b, _, n_q, _ = out.shape
        out = out.transpose(1, 2).reshape(b, n_q, self.embed_dim)  # concatenate the heads
        out = self._project(self.out_proj, out)
        door = Door(from_numpy, out_dtype)
        return door.back(out), door.back(weights)
