"""Checks for lesson 03 (weighted aggregation)."""
from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from course_lib.attention.core import attend, softmax_weights
from course_lib.checks.gradients import GradientProblem, grad_or_none, probed_loss
from course_lib.checks.case import Case, Mistake, register_check
from course_lib.attention.kernel_regression import make_1d_data, nadaraya_watson


def _swap(x):
    return np.swapaxes(x, -1, -2)


def _attend_with(scores_fn):
    def attend_wrong(q, k, v):
        w = softmax_weights(scores_fn(q, k))
        return w @ v, w
    return attend_wrong


def _unstable_weights(s):
    e = np.exp(s)
    return e / e.sum(axis=-1, keepdims=True)


def _attend_unstable(q, k, v):
    w = _unstable_weights(q @ _swap(k) / np.sqrt(q.shape[-1]))
    return w @ v, w


def _attend_wrong_axis(q, k, v):
    s = q @ _swap(k) / np.sqrt(q.shape[-1])
    e = np.exp(s - s.max(axis=-2, keepdims=True))
    w = e / e.sum(axis=-2, keepdims=True)
    return w @ v, w


@register_check(
    "attend",
    task="fn(q, k, v) -> a tuple (output, weights) of two arrays: scaled dot-product attention; "
         "output (..., n_q, d_v), weights (..., n_q, n_k)",
    unstable_softmax=_attend_unstable,
    success="Your output and weights agree with course_lib's attend, and so with torch's "
            "scaled_dot_product_attention, on batches, on values wider than keys and on scores "
            "near 1100 that overflow a naive exp().",
    mistakes=[
        Mistake("The 1/sqrt(d) scale is missing from the scores.",
                _attend_with(lambda q, k: q @ _swap(k))),
        Mistake("You scaled by sqrt(d_v), the values' size v.shape[-1]; the scale is 1/sqrt(d) "
                "with d = q.shape[-1], the size of the queries and keys that the dot product sums "
                "over.", lambda q, k, v: _attend_with(
                    lambda q, k: q @ _swap(k) / np.sqrt(v.shape[-1]))(q, k, v)),
        Mistake("The softmax runs over the queries (axis -2); it must run over the keys (axis -1), "
                "so that each query's weights sum to 1.", _attend_wrong_axis),
        Mistake("You returned the weights where the output should be (and vice versa): return "
                "(output, weights).", lambda q, k, v: attend(q, k, v)[::-1]),
    ],
)
def _attend_cases():
    rng = np.random.default_rng(3)
    q = np.array([[1.0, 0.0], [0.0, 1.0]])
    k = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    v = np.array([[10.0, 1.0], [20.0, 2.0], [30.0, 3.0]])
    cases = [Case("hand-worked: 2 queries, 3 keys, 2-d values", (q, k, v), attend(q, k, v))]
    for label, nq, nk, d, dv, batch in [
        ("values wider than keys (d_v != d)", 3, 5, 4, 7, ()),
        ("a batch of 2", 4, 6, 8, 3, (2,)),
        ("two batch dimensions", 2, 3, 4, 5, (2, 3)),
    ]:
        q = rng.normal(size=batch + (nq, d))
        k = rng.normal(size=batch + (nk, d))
        v = rng.normal(size=batch + (nk, dv))
        cases.append(Case(label, (q, k, v), attend(q, k, v)))
    # scores 1600 / sqrt(2) = 1131, 0 and -1131: exp(1131) is inf in float64
    q = np.array([[40.0, 0.0], [0.0, -40.0]])
    k = np.array([[40.0, 0.0], [0.0, 40.0], [-40.0, 0.0]])
    cases.append(Case("scores near +-1100 (exp would overflow)", (q, k, v), attend(q, k, v)))
    return cases


# ------------------------------------------------------------------------------------------
# More exercises of lesson 03
# ------------------------------------------------------------------------------------------
def _kernel(xq, x, width, denom):
    d2 = (xq[:, None] - x[None, :]) ** 2
    return np.exp(-(d2 - d2.min(axis=1, keepdims=True)) / denom)


@register_check(
    "nadaraya_watson",
    task="fn(x_query, x_train, y_train, width) -> only the predictions, one array (n_q,): "
         "Gaussian-kernel weighted average of y_train (the lesson's helper also returns the "
         "weights; this exercise does not)",
    unstable_softmax=lambda xq, x, y, w: _unstable_weights(-(xq[:, None] - x[None, :]) ** 2
                                                           / (2 * w**2)) @ y,
    success="A softmax of -(x - x_i)^2 / (2 width^2) over the training points is exactly "
            "course_lib's nadaraya_watson: kernel regression is attention with a fixed score, and "
            "yours survived far queries whose kernel values all underflow.",
    mistakes=[
        Mistake("The weights are not normalised: divide each query's kernel values by their sum, "
                "so that the prediction is a weighted *average* of y_train.",
                lambda xq, x, y, w: np.exp(-(xq[:, None] - x[None, :]) ** 2 / (2 * w**2)) @ y),
        Mistake("The width is not squared: the Gaussian kernel is exp(-(x - x_i)^2 / (2 width^2)).",
                lambda xq, x, y, w: (lambda k: k / k.sum(1, keepdims=True))(_kernel(xq, x, w, 2 * w)) @ y),
        Mistake("The factor 2 is missing: the Gaussian kernel is exp(-(x - x_i)^2 / (2 width^2)).",
                lambda xq, x, y, w: (lambda k: k / k.sum(1, keepdims=True))(_kernel(xq, x, w, w**2)) @ y),
        Mistake("The weights were normalised over the queries (axis 0); each query's weights over "
                "the training points (axis 1, the last axis) must sum to 1.",
                lambda xq, x, y, w: (lambda k: k / k.sum(0, keepdims=True))(
                    np.exp(-(xq[:, None] - x[None, :]) ** 2 / (2 * w**2))) @ y),
        Mistake("You used the distance |x - x_i| instead of the squared distance in the kernel.",
                lambda xq, x, y, w: (lambda k: k / k.sum(1, keepdims=True))(
                    np.exp(-np.abs(xq[:, None] - x[None, :]) / (2 * w**2))) @ y),
    ],
)
def _nadaraya_watson_cases():
    def case(label, xq, x, y, width, **tol):
        return Case(label, (xq, x, y, width), nadaraya_watson(xq, x, y, width)[0], **tol)

    cases = [case("hand-worked: 3 training points, width 1", np.array([0.0, 1.0]),
                  np.array([0.0, 1.0, 3.0]), np.array([1.0, 2.0, 4.0]), 1.0)]
    x, y = make_1d_data(30, seed=31)
    cases.append(case("30 noisy points, width 0.3", np.linspace(0, 5, 11), x, y, 0.3))
    cases.append(case("a very wide kernel: close to the mean of y", np.linspace(0, 5, 4), x, y, 50.0))
    cases.append(case("a narrow kernel and far queries: exp underflows unless you shift",
                      np.array([-3.0, 2.5, 9.0]), x, y, 0.05))
    return cases


def _self_attention_reference(x, w_q, w_k, w_v):
    return attend(x @ w_q, x @ w_k, x @ w_v)


@register_check(
    "self_attention",
    task="fn(x, w_q, w_k, w_v) -> (output, weights): queries, keys and values are projections of "
         "the same tokens x (..., n, d_model); scaled dot-product attention with d = d_k",
    unstable_softmax=lambda x, wq, wk, wv: _attend_unstable(x @ wq, x @ wk, x @ wv),
    success="Queries, keys and values are three projections of the same tokens, then the attend "
            "of exercise 1 with d = d_k, stable even for tokens whose scores reach thousands: "
            "course_lib's attend(x @ w_q, x @ w_k, x @ w_v).",
    mistakes=[
        Mistake("The projections are missing: queries, keys and values are x @ w_q, x @ w_k and "
                "x @ w_v, not x itself.", lambda x, wq, wk, wv: attend(x, x, x)),
        Mistake("Queries and keys are swapped (x @ w_k as queries, x @ w_q as keys): the weights "
                "come out transposed. Queries come from w_q, keys from w_k.",
                lambda x, wq, wk, wv: attend(x @ wk, x @ wq, x @ wv)),
        Mistake("You scaled by sqrt(d_model); the scale uses the size of the projected queries and "
                "keys, d_k = w_q.shape[-1].",
                lambda x, wq, wk, wv: _attend_with(
                    lambda q, k: q @ _swap(k) / np.sqrt(x.shape[-1]))(x @ wq, x @ wk, x @ wv)),
        Mistake("The values are the raw tokens x; they should be projected too: v = x @ w_v.",
                lambda x, wq, wk, wv: attend(x @ wq, x @ wk, x)),
    ],
)
def _self_attention_cases():
    rng = np.random.default_rng(32)
    cases = []
    for label, batch, n, d_model, d_k, d_v in [
        ("5 tokens, d_model = 6, d_k = 4, d_v = 3", (), 5, 6, 4, 3),
        ("a batch of 2", (2,), 4, 8, 2, 5),
        ("two batch dimensions", (2, 3), 3, 4, 9, 2),
    ]:
        x = rng.normal(size=batch + (n, d_model))
        w_q, w_k = rng.normal(size=(d_model, d_k)), rng.normal(size=(d_model, d_k))
        w_v = rng.normal(size=(d_model, d_v))
        cases.append(Case(label, (x, w_q, w_k, w_v), _self_attention_reference(x, w_q, w_k, w_v)))
    # large tokens: scores in the thousands, exp would overflow
    x = 12.0 * rng.normal(size=(4, 6))
    w_q, w_k, w_v = rng.normal(size=(6, 3)), rng.normal(size=(6, 3)), rng.normal(size=(6, 2))
    cases.append(Case("large tokens: scores in the thousands (exp would overflow)",
                      (x, w_q, w_k, w_v), _self_attention_reference(x, w_q, w_k, w_v)))
    return cases


def _split_heads_reference(x, num_heads):
    *batch, n, d = x.shape
    return np.swapaxes(x.reshape(*batch, n, num_heads, d // num_heads), -2, -3)


@register_check(
    "split_heads",
    task="fn(x, num_heads) -> (..., num_heads, n, d / num_heads): head h gets features "
         "h*d/num_heads ... (h+1)*d/num_heads - 1 of every token",
    success="Each head got a contiguous block of every token's features: reshape to (..., n, "
            "heads, d / heads), then swap the token and head axes, the split course_lib's "
            "MultiHeadAttention.split_heads uses.",
    mistakes=[
        Mistake("You reshaped straight to (..., num_heads, n, d / num_heads). That cuts the token "
                "axis, not the features: reshape to (..., n, num_heads, d / num_heads) first, then "
                "swap the token and head axes.",
                lambda x, h: x.reshape(*x.shape[:-2], h, x.shape[-2], x.shape[-1] // h)),
        Mistake("The features were dealt out round-robin (feature 0 to head 0, feature 1 to head 1, "
                "...). Each head gets a contiguous block: reshape to (..., n, num_heads, d / "
                "num_heads), not (..., n, d / num_heads, num_heads).",
                lambda x, h: np.moveaxis(x.reshape(*x.shape[:-1], x.shape[-1] // h, h), -1, -3)),
        Mistake("The heads are in the right place but tokens and features are swapped in each head: "
                "the result should be (..., num_heads, n, d / num_heads).",
                lambda x, h: np.swapaxes(_split_heads_reference(x, h), -1, -2)),
    ],
)
def _split_heads_cases():
    rng = np.random.default_rng(33)
    x = np.arange(12.0).reshape(3, 4)
    cases = [Case("hand-worked: 3 tokens, 4 features, 2 heads", (x, 2), _split_heads_reference(x, 2))]
    for label, shape, h in [("a batch of 2, 5 tokens, 8 features, 4 heads", (2, 5, 8), 4),
                            ("two batch dimensions, 6 heads", (2, 3, 4, 12), 6),
                            ("one head: just a new axis", (3, 5), 1)]:
        x = rng.normal(size=shape)
        cases.append(Case(label, (x, h), _split_heads_reference(x, h)))
    return cases


# ------------------------------------------------------------------------------------------
# Exercise 5: a multi-head self-attention layer as an nn.Module
# ------------------------------------------------------------------------------------------
# The learner passes a *class*. For each case the check builds it, copies into it the weights of a
# seeded torch.nn.MultiheadAttention (the reference), runs both on the same tokens in float64 and
# compares the outputs and the per-head weights, then backpropagates a fixed function of both
# outputs through each and compares the gradients (w.r.t. x and every projection), so a layer that
# detaches its weights, and would never train in the lesson's next cell, is caught.
MODULE_PARTS = ("q_proj", "k_proj", "v_proj", "out_proj")


def reference_attention(embed_dim: int, num_heads: int, seed: int) -> nn.MultiheadAttention:
    """PyTorch's own layer, float64, with every weight and bias drawn from ``seed`` (non-zero
    biases, so a layer that drops them is caught)."""
    layer = nn.MultiheadAttention(embed_dim, num_heads, batch_first=True, dtype=torch.float64)
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in layer.parameters():
            p.copy_(torch.randn(p.shape, generator=g, dtype=p.dtype) / math.sqrt(embed_dim))
    return layer.eval()


_WHERE_WEIGHTS_GO = (
    "the check copies PyTorch's weights into your layer, so it must find them: either "
    "self.q_proj, self.k_proj and self.v_proj, each nn.Linear(embed_dim, embed_dim), or one packed "
    "nn.Linear(embed_dim, 3 * embed_dim) (queries, keys, values in that order, as PyTorch packs "
    "them), and self.out_proj, nn.Linear(embed_dim, embed_dim); all with a bias")


def _linear_problem(name: str, layer, rows: int, embed_dim: int) -> str | None:
    if not isinstance(layer, nn.Linear):
        return (f"your module has no nn.Linear called self.{name} (got {type(layer).__name__}); "
                f"{_WHERE_WEIGHTS_GO}")
    if tuple(layer.weight.shape) != (rows, embed_dim) or layer.bias is None:
        return (f"self.{name} should be nn.Linear({embed_dim}, {rows}) with a bias (embed_dim="
                f"{embed_dim}); got weight shape {tuple(layer.weight.shape)}, "
                f"bias {'missing' if layer.bias is None else 'present'}")
    return None


def _projections(module: nn.Module, embed_dim: int) -> dict:
    """Where the learner keeps each projection: role -> (attribute name, nn.Linear, row slice).

    Four separate layers (q_proj, k_proj, v_proj, out_proj), or one packed nn.Linear(E, 3E) for
    the queries, keys and values (any name: qkv, in_proj, ...) and out_proj. Raises ValueError
    saying what the check needs when it finds neither."""
    e = embed_dim
    parts = {}
    if any(hasattr(module, name) for name in MODULE_PARTS[:3]):
        for name in MODULE_PARTS[:3]:
            problem = _linear_problem(name, getattr(module, name, None), e, e)
            if problem:
                raise ValueError(problem)
            parts[name] = (name, getattr(module, name), slice(0, e))
    else:
        packed = [(n, m) for n, m in module.named_modules()
                  if isinstance(m, nn.Linear) and tuple(m.weight.shape) == (3 * e, e)]
        if len(packed) != 1:
            raise ValueError(f"your module has no nn.Linear called self.q_proj; {_WHERE_WEIGHTS_GO}"
                             + (f" (found {len(packed)} packed layers)" if packed else ""))
        name, layer = packed[0]
        if layer.bias is None:
            raise ValueError(f"self.{name} should be nn.Linear({e}, {3 * e}) with a bias; got "
                             f"bias missing")
        for i, role in enumerate(MODULE_PARTS[:3]):
            parts[role] = (name, layer, slice(i * e, (i + 1) * e))
    problem = _linear_problem("out_proj", getattr(module, "out_proj", None), e, e)
    if problem:
        raise ValueError(problem)
    parts["out_proj"] = ("out_proj", module.out_proj, slice(0, e))
    return parts


def copy_reference_weights(module: nn.Module, reference: nn.MultiheadAttention) -> None:
    """Put ``reference``'s projections into ``module``'s (see _projections for the layouts).
    (PyTorch stores the three input projections stacked in one ``in_proj_weight``.)"""
    e = reference.embed_dim
    weights = {role: (reference.in_proj_weight[i * e:(i + 1) * e],
                      reference.in_proj_bias[i * e:(i + 1) * e])
               for i, role in enumerate(MODULE_PARTS[:3])}
    weights["out_proj"] = (reference.out_proj.weight, reference.out_proj.bias)
    with torch.no_grad():
        for role, (_, layer, rows) in _projections(module, e).items():
            layer.weight[rows].copy_(weights[role][0])
            layer.bias[rows].copy_(weights[role][1])


def _gradient_names(role: str) -> tuple[str, str]:
    return f"{role}.weight", f"{role}.bias"


def _reference_gradients(embed_dim, num_heads, seed, x) -> dict:
    """The gradients of the probed function of torch's layer: x and each projection."""
    layer = reference_attention(embed_dim, num_heads, seed)
    t = torch.tensor(x, requires_grad=True)
    out, weights = layer(t, t, t, need_weights=True, average_attn_weights=False)
    probed_loss((out, weights)).backward()
    e = embed_dim
    grads = {"x": grad_or_none(t)}
    for i, role in enumerate(MODULE_PARTS[:3]):
        w, b = _gradient_names(role)
        grads[w] = layer.in_proj_weight.grad[i * e:(i + 1) * e].numpy()
        grads[b] = layer.in_proj_bias.grad[i * e:(i + 1) * e].numpy()
    grads["out_proj.weight"] = layer.out_proj.weight.grad.numpy()
    grads["out_proj.bias"] = layer.out_proj.bias.grad.numpy()
    return grads


def _build(layer_class, embed_dim, num_heads, seed):
    module = layer_class(embed_dim, num_heads)
    if not isinstance(module, nn.Module):
        raise ValueError(f"{layer_class.__name__}(embed_dim, num_heads) should build an "
                         f"nn.Module (class ...(nn.Module)), got {type(module).__name__}")
    module = module.double().eval()
    copy_reference_weights(module, reference_attention(embed_dim, num_heads, seed))
    return module


def _build_and_run(layer_class):
    """What the check calls: the learner's class -> a function of the case's arguments, with a
    ``gradients`` method for the gradient comparison."""
    if isinstance(layer_class, nn.Module):
        def built_already(*args):
            raise ValueError("pass the class itself, check('multi_head_attention', "
                            f"{type(layer_class).__name__}), not an object built from it")
        return built_already
    if not isinstance(layer_class, type):
        return layer_class  # a plain function of the case's arguments (the tests use these)

    def run(embed_dim, num_heads, seed, x):
        module = _build(layer_class, embed_dim, num_heads, seed)
        with torch.no_grad():
            return module(torch.as_tensor(x))   # shares x's memory: a change in place is seen

    def gradients(embed_dim, num_heads, seed, x):
        module = _build(layer_class, embed_dim, num_heads, seed)
        t = torch.tensor(x, requires_grad=True)
        outputs = module(t)
        if not isinstance(outputs, tuple) or len(outputs) != 2:
            raise GradientProblem("forward should return (output, weights).")
        probed_loss(outputs).backward()
        grads = {"x": grad_or_none(t)}
        for role, (_, layer, rows) in _projections(module, embed_dim).items():
            w, b = _gradient_names(role)
            grads[w] = None if layer.weight.grad is None else layer.weight.grad[rows].numpy()
            grads[b] = None if layer.bias.grad is None else layer.bias.grad[rows].numpy()
        return grads

    run.gradients = gradients
    return run


def _expected(embed_dim, num_heads, seed, x):
    layer = reference_attention(embed_dim, num_heads, seed)
    t = torch.as_tensor(x)
    with torch.no_grad():
        out, weights = layer(t, t, t, need_weights=True, average_attn_weights=False)
    return out.numpy(), weights.numpy()


class _Sketch(nn.Module):
    """A multi-head layer with switches for the classic mistakes (the check's wrong answers)."""

    split, merge, scale_by, project_out, average_heads = "right", "right", "head", True, False
    softmax_dim, swap_qk, stable = -1, False, True

    def __init__(self, embed_dim, num_heads):
        super().__init__()
        self.num_heads, self.head_dim = num_heads, embed_dim // num_heads
        for name in MODULE_PARTS:
            setattr(self, name, nn.Linear(embed_dim, embed_dim))

    def forward(self, x):
        b, n, e = x.shape
        h, hd = self.num_heads, self.head_dim

        def split(t):
            if self.split == "no_transpose":         # cuts the sequence, not the features
                return t.reshape(b, h, n, hd)
            return t.reshape(b, n, h, hd).transpose(1, 2)

        q, k, v = split(self.q_proj(x)), split(self.k_proj(x)), split(self.v_proj(x))
        if self.swap_qk:
            q, k = k, q
        width = hd if self.scale_by == "head" else e
        scores = q @ k.transpose(-2, -1) / math.sqrt(width)
        if self.stable:
            weights = torch.softmax(scores, dim=self.softmax_dim)
        else:                                                # exp() of unshifted scores
            weights = scores.exp() / scores.exp().sum(dim=-1, keepdim=True)
        out = weights @ v                                   # (b, h, n, hd)
        if self.merge == "no_transpose":
            out = out.reshape(b, n, e)
        elif self.merge == "feature_major":                # features of the heads interleaved
            out = out.permute(0, 2, 3, 1).reshape(b, n, e)
        else:
            out = out.transpose(1, 2).reshape(b, n, e)
        out = self.out_proj(out) if self.project_out else out
        return out, (weights.mean(1) if self.average_heads else weights)


def _module_error_hint(error: Exception) -> str:
    """Hints for errors raised while building or running the learner's module."""
    text = str(error)
    if "view size is not compatible" in text:
        return ("after .transpose() a tensor's memory is no longer in row order, and .view() "
                "refuses it: use .reshape() (or .contiguous().view()).")
    if "self.q_proj" in text or "nn.Linear(" in text or "pass the class" in text:
        return ("the message above says what the check needs; see the exercise's description. "
                "The names matter because the check gives your layer PyTorch's own weights, so "
                "that its outputs and gradients can be compared number for number.")
    if isinstance(error, (RuntimeError, ValueError)) and ("shape" in text or "size" in text):
        return ("a shape problem: print the shapes inside forward. x is (B, n, embed_dim); after "
                "splitting, q, k, v are (B, num_heads, n, head_dim); scores and weights "
                "(B, num_heads, n, n); merged heads (B, n, embed_dim).")
    if isinstance(error, AttributeError):
        return ("forward uses an attribute that __init__ did not set: store what forward needs "
                "(self.num_heads, self.head_dim, the four nn.Linear layers) in __init__.")
    return "read the error message above; then try your layer on a small x by hand."


def _mistake(name: str, **switches):
    return type(name, (_Sketch,), switches)


def _module_shape_hint(got, expected, j):
    if j == 1 and got.ndim == 3 and expected.ndim == 4 and got.size == expected.size:
        b, h, n, _ = expected.shape
        return (f"Your weights are (B * num_heads, n, n) = {got.shape}: batch and heads were "
                f"flattened into one axis. Keep them apart, (B, num_heads, n, n): split with "
                f"reshape(B, n, num_heads, head_dim).transpose(1, 2), so that the heads get an "
                f"axis of their own.")
    return None


@register_check(
    "multi_head_attention",
    task="pass your class: MultiHeadSelfAttention(embed_dim, num_heads) with nn.Linear layers "
         "q_proj, k_proj, v_proj, out_proj; forward(x (B, n, embed_dim)) -> (output (B, n, "
         "embed_dim), weights (B, num_heads, n, n))",
    prepare=_build_and_run,
    error_hint=_module_error_hint,
    unstable_softmax=_mistake("UnstableSoftmax", stable=False),
    gradients=True,
    arg_names=("embed_dim", "num_heads", "seed", "x"),
    shape_hint=_module_shape_hint,
    success="With PyTorch's weights copied in, your layer gives torch.nn.MultiheadAttention's "
            "outputs, per-head weights and gradients, also for scores that overflow a naive "
            "exp(): the next cell can train it and watch its heads specialise.",
    mistakes=[
        Mistake("Splitting into heads: you reshaped (B, n, embed_dim) straight to (B, num_heads, "
                "n, head_dim). That cuts the sequence into pieces instead of cutting each token's "
                "features: reshape to (B, n, num_heads, head_dim) first, then .transpose(1, 2).",
                _mistake("SplitWithoutTranspose", split="no_transpose")),
        Mistake("Merging the heads: you reshaped (B, num_heads, n, head_dim) straight to (B, n, "
                "embed_dim), which mixes the tokens of different heads. Move the heads back next "
                "to the features first: out.transpose(1, 2).reshape(B, n, embed_dim).",
                _mistake("MergeWithoutTranspose", merge="no_transpose")),
        Mistake("Merging the heads in the wrong order: head h's features must stay together as "
                "the block h*head_dim ... (h+1)*head_dim - 1 (out.transpose(1, 2) gives (B, n, "
                "num_heads, head_dim), then reshape); yours interleave the heads feature by "
                "feature.", _mistake("MergeFeatureMajor", merge="feature_major")),
        Mistake("The scores are divided by sqrt(embed_dim). Each head's dot products have only "
                "head_dim = embed_dim / num_heads terms, so divide by sqrt(head_dim).",
                _mistake("ScaledByModelWidth", scale_by="model")),
        Mistake("The output projection is missing: after merging the heads, return "
                "self.out_proj(merged), not the merged heads themselves.",
                _mistake("NoOutputProjection", project_out=False)),
        Mistake("Return one weight matrix per head, shape (B, num_heads, n, n), not their average "
                "over the heads.", _mistake("AveragedWeights", average_heads=True)),
        Mistake("The softmax runs over the queries (dim=-2): each query's weights over the keys "
                "must sum to 1, so take torch.softmax(scores, dim=-1) on scores of shape (B, "
                "num_heads, n_queries, n_keys).", _mistake("SoftmaxOverQueries", softmax_dim=-2)),
        Mistake("Queries and keys are swapped: the queries must be self.q_proj(x) and the keys "
                "self.k_proj(x). Swapped, every head's weights are the transpose of the right "
                "ones (the check puts PyTorch's query weights into q_proj, so the names say "
                "which is which).", _mistake("SwappedQueryKey", swap_qk=True)),
    ],
)
def _multi_head_attention_cases():
    rng = np.random.default_rng(34)
    cases = []
    for label, (b, n, e, h), seed, scale in [
        ("1 sequence of 3 tokens, embed_dim 4, 2 heads", (1, 3, 4, 2), 0, 1.0),
        ("a batch of 2 sequences of 5 tokens, embed_dim 12, 3 heads", (2, 5, 12, 3), 1, 1.0),
        ("embed_dim 16, 4 heads of width 4", (3, 6, 16, 4), 2, 1.0),
        ("one head: ordinary self-attention with projections", (2, 4, 6, 1), 3, 1.0),
        ("large tokens: scores in the thousands (exp would overflow)", (2, 4, 8, 2), 4, 30.0),
    ]:
        x = scale * rng.normal(size=(b, n, e))
        cases.append(Case(label, (e, h, seed, x), _expected(e, h, seed, x),
                          gradients=_reference_gradients(e, h, seed, x)))
    return cases
