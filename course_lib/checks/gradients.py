"""Gradients for the checks of torch exercises (lessons 03 and 05: a module, or a function used
inside a model).

A forward pass can be right while training is broken: ``weights.detach() @ v`` or a detour through
NumPy computes the right numbers but sends no gradient back, so the lesson's next cell trains a
model that never learns. These checks therefore also backpropagate a *fixed* function of the
output, ``sum_j (output_j * probe_j).sum()`` with seeded random probes, through the learner's code
and through the reference, and compare the gradients with respect to the inputs and parameters.
"""
from __future__ import annotations

import numpy as np
import torch

from course_lib.basics.language import tr


class GradientProblem(Exception):
    """The learner's outputs cannot carry gradients; the message says why, for the learner."""


_NUMPY = ("your function returned NumPy arrays, and gradients cannot flow through NumPy: in "
          "training its result is a constant, so nothing before it learns. Stay in torch "
          "(torch.softmax, @, .mean(dim=...), torch.full) and return tensors.")
BLOCKED = ("your result carries no gradient at all: something cut it off the graph (.detach(), "
           ".numpy(), .item(), .data, torch.no_grad(), or torch.tensor(...) of an intermediate "
           "result), so training could not change anything before it. Compute it with torch "
           "operations on the input, without detaching.")


def probe(shape, index: int) -> torch.Tensor:
    """The fixed random weights of output ``index`` in the probed function (float64, seeded)."""
    rng = np.random.default_rng(1000 + index)
    return torch.from_numpy(rng.standard_normal(tuple(shape)))


def probed_loss(outputs, which=None) -> torch.Tensor:
    """``sum_j (outputs[j] * probe_j).sum()`` over the outputs listed in ``which`` (default all).

    Raises GradientProblem if an output is not a tensor (NumPy) or none carries a gradient."""
    outputs = outputs if isinstance(outputs, tuple) else (outputs,)
    which = range(len(outputs)) if which is None else which
    terms = []
    for j in which:
        out = outputs[j]
        if not isinstance(out, torch.Tensor):
            raise GradientProblem(_NUMPY)
        if out.requires_grad:
            terms.append((out.double() * probe(out.shape, j)).sum())
    if not terms:
        raise GradientProblem(BLOCKED)
    return sum(terms)


def grad_or_none(t: torch.Tensor | None):
    """A tensor's gradient as NumPy, or None when nothing reached it."""
    if t is None or t.grad is None:
        return None
    return t.grad.detach().cpu().double().numpy()


def compare_gradients(got: dict, expected: dict, rtol: float = 1e-5, atol: float = 1e-7) -> str | None:
    """None if every expected gradient matches; else a hint naming the first one that does not."""
    for name, want in expected.items():
        have = got.get(name)
        if have is not None and have.shape == want.shape and np.allclose(have, want, rtol, atol):
            continue
        # templates translated before the name is filled in (course_lib/basics/language.py)
        if (have is None or not np.any(have)) and np.any(want):
            return tr("no gradient reaches `{name}`: something between `{name}` and your outputs "
                      "is cut off the graph (.detach(), .numpy(), .data, "
                      "torch.no_grad() or torch.tensor(...) of an intermediate result), so "
                      "training could never change it. Keep every step in torch, without "
                      "detaching.").format(name=name)
        return tr("the gradient with respect to `{name}` differs from the reference's: part of "
                  "your computation is detached or replaced by "
                  "a constant (e.g. weights.detach() @ v, or a result rebuilt with "
                  "torch.tensor(...)), so training would follow a different slope. Keep every "
                  "step of the output connected to the input.").format(name=name)
    return None
