"""Checks for lesson 06 (capstone): receptive fields and compute.

The receptive field is checked against a brute-force measurement (the span of pixels with a non-zero
gradient through a real stack of convolutions); the operation counts against torch's own
``FlopCounterMode`` on real layers. Neither uses the formula the learner is asked to write.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from course_lib.basics.language import tr
from course_lib.checks.case import Case, Mistake, register_check


# ------------------------------------------------------------------------------------------
# Exercise 1: receptive field of a stack of convolutions
# ------------------------------------------------------------------------------------------
def _measured_receptive_field(kernel_sizes, strides) -> np.ndarray:
    """Push a gradient back from one output unit through real 1-D convolutions of ones."""
    x = torch.zeros(1, 1, 512, dtype=torch.float64, requires_grad=True)
    y = x
    for k, s in zip(kernel_sizes, strides):
        y = F.conv1d(y, torch.ones(1, 1, int(k), dtype=torch.float64), stride=int(s))
    y[0, 0, y.shape[-1] // 2].backward()
    seen = torch.nonzero(x.grad[0, 0])[:, 0]
    return np.asarray(int(seen.max() - seen.min() + 1))


@register_check(
    "stack_receptive_field",
    task="fn(kernel_sizes, strides) -> the side, in input pixels, of the window one unit of the "
         "last layer sees",
    success="Each layer adds (k - 1) times the product of the strides before it: exactly the "
            "width a gradient pushed back through real strided convolutions reaches, which is "
            "how a few strided layers come to see far.",
    mistakes=[
        Mistake("You ignored the strides: after a layer with stride 2, one step in the next layer "
                "is 2 input pixels, so each later layer adds (k - 1) x (product of the strides of "
                "the layers before it).",
                lambda ks, ss: 1 + np.sum(np.asarray(ks) - 1)),
        Mistake("Each layer's growth uses the strides of the layers *before* it, not its own "
                "stride: a layer's stride only changes the spacing for the layers that follow.",
                lambda ks, ss: 1 + np.sum((np.asarray(ks) - 1) * np.cumprod(ss))),
        Mistake("Off by one: a single 3-wide layer sees 3 pixels. Start from 1 (one pixel) and add "
                "(k - 1) x jump per layer.",
                lambda ks, ss: np.sum((np.asarray(ks) - 1)
                                      * np.concatenate([[1], np.cumprod(ss)[:-1]]))),
    ],
)
def _receptive_field_cases():
    cases = []
    for label, ks, ss in [("one 7-wide layer", [7], [1]),
                          ("two 3x3 layers", [3, 3], [1, 1]),
                          ("lesson 06's TinyCNN: strides 1, 2, 1", [3, 3, 3], [1, 2, 1]),
                          ("a stride-2 stem, then 3x3 layers", [5, 3, 3], [2, 2, 1]),
                          ("four stride-2 layers", [3, 3, 3, 3], [2, 2, 2, 2])]:
        ks, ss = np.array(ks, dtype=int), np.array(ss, dtype=int)  # sizes are whole numbers
        cases.append(Case(label, (ks, ss), _measured_receptive_field(ks, ss)))
    return cases


# ------------------------------------------------------------------------------------------
# Exercise 2: multiply-accumulates of a convolution
# ------------------------------------------------------------------------------------------
def _counted_macs(fn, *tensors) -> np.ndarray:
    from torch.utils.flop_counter import FlopCounterMode

    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        fn(*tensors)
    return np.asarray(counter.get_total_flops() // 2)


def _conv_reference(c_in, c_out, k, h_out, w_out):
    c_in, c_out, k, h_out, w_out = (int(v) for v in (c_in, c_out, k, h_out, w_out))
    conv = torch.nn.Conv2d(c_in, c_out, k, padding=k // 2)
    return _counted_macs(conv, torch.zeros(1, c_in, h_out, w_out))


@register_check(
    "conv_macs",
    task="fn(c_in, c_out, k, h_out, w_out) -> multiply-accumulates of one k x k convolution "
         "producing a (c_out, h_out, w_out) output",
    success="c_in * k * k multiply-accumulates per output value, times c_out * h_out * w_out "
            "values, is what torch's FlopCounterMode counts for a real Conv2d (2 FLOPs per MAC); "
            "the bias adds no multiplication.",
    mistakes=[
        Mistake("You counted the bias as one more MAC per output value: a bias is only an "
                "addition, no multiplication, and FlopCounterMode counts it as nothing. Count "
                "c_in * c_out * k * k * h_out * w_out.",
                lambda ci, co, k, h, w: ci * co * k * k * h * w + co * h * w),
        Mistake("Every output value sums over all c_in input channels as well as the k x k "
                "window: multiply by c_in too.", lambda ci, co, k, h, w: co * k * k * h * w),
        Mistake("A k x k kernel has k * k weights per channel pair, not k.",
                lambda ci, co, k, h, w: ci * co * k * h * w),
        Mistake("That counts floating point operations (a multiply and an add, 2 per MAC); "
                "count multiply-accumulates.", lambda ci, co, k, h, w: 2 * ci * co * k * k * h * w),
    ],
)
def _conv_macs_cases():
    cases = []
    for label, args in [("1 -> 16 channels, 3x3, 24x24 output", (1, 16, 3, 24, 24)),
                        ("16 -> 16 channels, 3x3, 12x12 output", (16, 16, 3, 12, 12)),
                        ("3 -> 8 channels, 5x5, 7x9 output", (3, 8, 5, 7, 9))]:
        cases.append(Case(label, tuple(int(a) for a in args), _conv_reference(*args)))
    return cases


# ------------------------------------------------------------------------------------------
# Exercise 3: multiply-accumulates of attention itself
# ------------------------------------------------------------------------------------------
def _attention_reference(n, d):
    n, d = int(n), int(d)
    q = torch.zeros(1, n, d)

    def attention(q, k, v):
        w = torch.softmax(q @ k.transpose(-2, -1), dim=-1)
        return w @ v

    return _counted_macs(attention, q, q, q)


@register_check(
    "attention_macs",
    task="fn(n, d) -> multiply-accumulates of the scores q @ k^T and of weights @ v for n tokens "
         "of size d (projections not included)",
    success="2 n^2 d: n^2 scores of d products each, then n x d outputs of n products each, as "
            "FlopCounterMode counts them; the n^2 is why attention's cost outgrows a "
            "convolution's as images get larger.",
    mistakes=[
        Mistake("There are two matrix products: the scores q @ k^T (n x n entries, d MACs each) "
                "and the aggregation weights @ v (n x d entries, n MACs each).",
                lambda n, d: n * n * d),
        Mistake("n * d * d is the cost of a projection (a Linear layer on every token), not of "
                "attention: the scores compare every token with every token, n * n pairs.",
                lambda n, d: 2 * n * d * d),
        Mistake("That counts floating point operations (2 per multiply-accumulate).",
                lambda n, d: 4 * n * n * d),
    ],
)
def _attention_macs_cases():
    # the label is translated as a template, before its numbers are filled in
    return [Case(tr("{n} tokens of size {d}").format(n=n, d=d), (int(n), int(d)),
                 _attention_reference(n, d))
            for n, d in [(5, 2), (37, 16), (144, 16), (10, 64)]]
