"""Floating-point care behind the three steps (lessons 01-02): scores and softmax right at any scale.

Learners can skip this file. The formulas in ``core.py`` are the textbook ones; the functions here
compute the same numbers while avoiding the three ways floating point goes wrong:

* **overflow**: ``q . k`` of two vectors near 1e160 (float64) or 1e20 (float32) is too large to
  store. We rescale q and k by powers of two, so the score is computed exactly where it fits and
  becomes +-inf (the right limit) where it does not, never NaN from ``inf - inf``.
* **underflow**: the norm of a vector near 1e-170 squares to 0. ``cosine`` divides each vector by
  its largest entry first, so its norm is about 1.
* **cancellation**: ``-|q - k|^2 = 2 q.k - |q|^2 - |k|^2`` subtracts large, nearly equal numbers
  when q and k lie far from the origin (1000.01 vs 1000 in float32 gives 0). Distances do not change
  when q and k are moved together, so we centre both on the keys' mean, and entries that may still
  have cancelled are recomputed directly from ``q - k``.
"""
from __future__ import annotations

import math

import torch


def _power_of_two_scale(x: torch.Tensor) -> torch.Tensor:
    """A power of two close to ``max |x|`` (1 for an all-zero or empty x): dividing by it is exact."""
    if x.numel() == 0:
        return torch.ones((), dtype=x.dtype, device=x.device)
    biggest = x.detach().abs().amax()
    if not torch.isfinite(biggest) or biggest == 0:
        return torch.ones((), dtype=x.dtype, device=x.device)
    _, exponent = torch.frexp(biggest)
    return torch.ldexp(torch.ones((), dtype=x.dtype, device=x.device), exponent.to(x.dtype))


def _may_overflow(q: torch.Tensor, k: torch.Tensor, scale: float) -> bool:
    """False when no score can overflow: |q . k| <= max|q| max|k| d. A cheap test (it reads q and
    k, not the n_q x n_k scores) that spares the common case the full check."""
    if q.numel() == 0 or k.numel() == 0:
        return False
    bound = q.detach().abs().amax() * k.detach().abs().amax() * (q.shape[-1] * scale)
    return not bool(bound < torch.finfo(q.dtype).max)    # True also for inf or NaN inputs


def dot_scores(q: torch.Tensor, k: torch.Tensor, scale: float = 1.0) -> torch.Tensor:
    """``scale * q @ k^T`` without NaN from overflowing products (see the module docstring)."""
    scores = (q * scale) @ k.transpose(-2, -1)
    if not _may_overflow(q, k, scale):
        return scores
    if torch.isfinite(scores).all() or not (torch.isfinite(q).all() and torch.isfinite(k).all()):
        return scores
    # Finite inputs, non-finite scores: some product overflowed. Compute with q, k divided by
    # powers of two sq, sk (exact), then multiply back one factor at a time, so that a score of 0
    # stays 0 (0 * inf would be NaN) and a score too large to store becomes +-inf.
    sq, sk = _power_of_two_scale(q), _power_of_two_scale(k)
    small = ((q / sq) * scale) @ (k / sk).transpose(-2, -1)
    return small * sq * sk


def cosine_scores(q: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
    """``q . k / (|q| |k|)``, 0 for a zero vector; right for any magnitude."""
    def unit(x):
        # Divide by the largest entry first: its norm is then in [1, sqrt(d)], never 0 or inf.
        # The scale is detached: the cosine does not depend on it, so neither does its gradient.
        biggest = x.detach().abs().amax(dim=-1, keepdim=True) if x.shape[-1] else None
        if biggest is not None:
            x = x / biggest.clamp_min(torch.finfo(x.dtype).tiny)
        return x / x.norm(dim=-1, keepdim=True).clamp_min(torch.finfo(x.dtype).tiny)

    return unit(q) @ unit(k).transpose(-2, -1)


def neg_sq_distances(q: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
    """``-|q_i - k_j|^2`` for every pair, accurate far from the origin (see the module docstring)."""
    if k.shape[-2] > 0:
        centre = k.detach().mean(dim=-2, keepdim=True)   # a shared shift: distances unchanged
        if torch.isfinite(centre).all():
            q, k = q - centre, k - centre
    if q.shape[-1] > 0 and q.numel() and k.numel():
        s = torch.maximum(_power_of_two_scale(q), _power_of_two_scale(k))
        if not torch.isfinite((s * s) * (4 * q.shape[-1])):  # |q|^2 would overflow: work in units of s
            # A distance too large to store is read as the largest float (so such keys tie)
            # rather than -inf, which would mean "blocked".
            biggest = torch.finfo(q.dtype).max
            return (_neg_sq_distances_centred(q / s, k / s) * s * s).clamp_min(-biggest)
    return _neg_sq_distances_centred(q, k)


def _neg_sq_distances_centred(q: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
    q_sq = (q * q).sum(-1, keepdim=True)                  # (..., n_q, 1)
    k_sq = (k * k).sum(-1).unsqueeze(-2)                  # (..., 1, n_k)
    d2 = (q_sq + k_sq - 2 * (q @ k.transpose(-2, -1))).clamp_min(0.0)
    # The expansion's rounding error is about eps * (|q|^2 + |k|^2) (times a few d); where the
    # distance is not clearly larger than that, recompute it directly from the difference.
    eps = torch.finfo(d2.dtype).eps
    unsure = d2 <= 4 * (q.shape[-1] + 2) * eps * (q_sq + k_sq).detach()
    if unsure.any():
        batch = d2.shape[:-2]
        qb = q.expand(*batch, *q.shape[-2:])
        kb = k.expand(*batch, *k.shape[-2:])
        idx = unsure.nonzero(as_tuple=True)
        diff = qb[idx[:-1]] - kb[idx[:-2] + idx[-1:]]
        exact = diff.square().sum(-1)
        d2 = d2.index_put(idx, exact) if d2.requires_grad else d2.index_put_(idx, exact)
    return -d2


def stable_softmax(s: torch.Tensor, temperature: float, allowed: torch.Tensor | None,
                   overwrite: bool = False):
    """Softmax over the last axis; the rules for masks and non-finite scores are in core.py.

    ``overwrite=True`` computes the weights in ``s``'s own memory (``s`` itself is returned,
    unless a row holds +inf: that rare case takes a new buffer), for a score buffer nobody else
    holds and no gradient needs (``attend`` without autograd). The same operations in the same
    order, so the same numbers; but an n x n buffer is not allocated four times (each fresh 32 MB
    costs its page faults), which made ``attend`` 1.3-1.5x slower than torch's fused kernel at
    8 x 1024 x 64 (now 0.8-0.9x)."""
    if s.shape[-1] == 0:                                   # no keys: nothing gets weight
        return s * 0.0
    if allowed is not None:
        s = s.masked_fill_(~allowed, -math.inf) if overwrite else s.masked_fill(~allowed, -math.inf)
    row_max = s.amax(dim=-1, keepdim=True).detach()      # constant per row: no gradient needed
    if not torch.isfinite(row_max).all():
        # A row holds +inf (or NaN, or is fully blocked). +inf scores: the limit of softmax as
        # those scores grow shares the weight equally among them, and every finite score gets 0.
        # Rewrite such rows as 0 (the +inf entries) and -inf. (Rows whose largest score is
        # finite have no +inf: the common case skips this pass over every score.)
        top = s == math.inf
        rows_with_top = top.any(dim=-1, keepdim=True)
        if rows_with_top.any():
            limit = torch.where(top, torch.zeros_like(s), torch.full_like(s, -math.inf))
            s = torch.where(rows_with_top, limit, s)
            row_max = s.amax(dim=-1, keepdim=True).detach()
    # Subtract each row's largest (allowed) score before exponentiating: softmax does not change
    # when a constant is added to a row, but exp() of a large score overflows to inf and
    # inf / inf is NaN. After the shift every exponent is <= 0, so exp() is in (0, 1]. We shift
    # *before* dividing by T so that a small T cannot overflow either.
    row_max = torch.where(torch.isfinite(row_max), row_max, torch.zeros_like(row_max))
    z = s.sub_(row_max) if overwrite else s - row_max
    if temperature != 1.0:
        # A T below the dtype's smallest number would be stored as 0 (0 / 0 = NaN at the max);
        # dividing by that smallest number instead gives the same limit: all weight at the max.
        t = max(temperature, torch.finfo(z.dtype).tiny)
        z = z.div_(t) if overwrite else z / t
    e = z.exp_() if overwrite else torch.exp(z)  # blocked: exp(-inf) = 0; a NaN score stays NaN
    # The row sum is >= 1 whenever the row has an allowed entry (its maximum contributes
    # exp(0) = 1). It is 0 only for a fully blocked row; clamping keeps 0 / 0 from becoming NaN.
    total = e.sum(dim=-1, keepdim=True).clamp_min(torch.finfo(e.dtype).tiny)
    return e.div_(total) if overwrite else e / total
