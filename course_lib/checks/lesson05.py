"""Checks for lesson 05 (adaptivity).

Expected answers come from the course's modules (``SqueezeExcitation``, ``AttentionPool`` via
``attend``, ``motion_attention``) or from torch, never from the formula the learner writes.
"""
from __future__ import annotations

import numpy as np
import torch

from course_lib.attention.core import attend
from course_lib.layers.modules import SqueezeExcitation, motion_attention, variation_across_inputs
from course_lib.checks.gradients import grad_or_none, probed_loss
from course_lib.checks.case import Case, Mistake, register_check


# ------------------------------------------------------------------------------------------
# Exercise 1: how much do weights vary across inputs?
# ------------------------------------------------------------------------------------------
def _variation_reference(weights):
    return np.asarray(variation_across_inputs(weights))


def _flat(w):
    return w.reshape(len(w), -1)


@register_check(
    "variation_across_inputs",
    task="fn(weights (n_inputs, ...)) -> mean over weights of the std across inputs (ddof=1), "
         "divided by the mean |weight|",
    success="0 for identical copies and free of scale: the mean over weights of the std across "
            "inputs, over the mean |weight|, as course_lib.layers.modules.variation_across_inputs "
            "measures how much a module adapts.",
    mistakes=[
        Mistake("A fixed kernel must give 0: take the std across inputs for each weight "
                "separately (axis=0), not over all numbers at once.",
                lambda w: _flat(w).std(ddof=1) / np.abs(w).mean()),
        Mistake("You returned one number per weight: average the stds over the weights "
                "(.mean()) before dividing, to get one number for the module.",
                lambda w: _flat(w).std(axis=0, ddof=1) / np.abs(w).mean()),
        Mistake("Average the per-weight stds (.mean()), not their maximum: one weight that varies "
                "a lot should not decide the whole module's score.",
                lambda w: _flat(w).std(axis=0, ddof=1).max() / np.abs(w).mean()),
        Mistake("You took the standard deviation within each input (axis=1): we want, for every "
                "single weight, how much it changes from one input to the next, so the std is over "
                "axis 0 (the inputs).",
                lambda w: _flat(w).std(axis=1, ddof=1).mean() / np.abs(w).mean()),
        Mistake("Use the sample standard deviation, std(axis=0, ddof=1), as torch's .std() does; "
                "NumPy's default ddof=0 divides by n instead of n - 1.",
                lambda w: _flat(w).std(axis=0).mean() / np.abs(w).mean()),
        Mistake("Divide by the mean *absolute* weight, np.abs(w).mean(): without the normalisation "
                "modules with larger weights would look more adaptive just for their scale.",
                lambda w: _flat(w).std(axis=0, ddof=1).mean()),
        Mistake("Divide by the mean absolute weight, not by the mean weight: signed weights can "
                "average to almost zero.",
                lambda w: _flat(w).std(axis=0, ddof=1).mean() / w.mean()),
    ],
)
def _variation_cases():
    rng = np.random.default_rng(50)
    same = np.broadcast_to(rng.standard_normal((1, 3, 3)), (5, 3, 3)).copy()
    cases = [Case("a conv kernel used for 5 inputs: identical copies", (same,),
                  _variation_reference(same), atol=1e-12)]
    # std across inputs per weight: [sqrt 2, 0, 0] -> mean sqrt(2)/3, mean |w| = 4/3:
    # sqrt(2)/4 = 0.354 (ddof=0: 0.25, max: 1.06, axis=1: 0.95, std of all numbers: 0.87)
    hand = np.array([[1.0, 0.0, 2.0], [3.0, 0.0, 2.0]])
    cases.append(Case("hand-worked: 2 inputs, 3 weights", (hand,), _variation_reference(hand)))
    for label, shape in [("SE-like gates, 4 inputs x 8 channels", (4, 8)),
                         ("signed maps, 6 inputs x 5 x 5", (6, 5, 5))]:
        w = rng.random(shape) if len(shape) == 2 else rng.standard_normal(shape)
        cases.append(Case(label, (w,), _variation_reference(w)))
    return cases


# ------------------------------------------------------------------------------------------
# Exercise 2: squeeze-and-excitation gates
# ------------------------------------------------------------------------------------------
def _se_reference(x, w1, b1, w2, b2):
    se = SqueezeExcitation(x.shape[1], reduction=1).double()
    se.fc1 = torch.nn.Linear(w1.shape[1], w1.shape[0]).double()
    se.fc2 = torch.nn.Linear(w2.shape[1], w2.shape[0]).double()
    with torch.no_grad():
        for layer, w, b in ((se.fc1, w1, b1), (se.fc2, w2, b2)):
            layer.weight.copy_(torch.from_numpy(w))
            layer.bias.copy_(torch.from_numpy(b))
        _, gates = se(torch.from_numpy(x))
    return gates.numpy()


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def _se_variant(x, w1, b1, w2, b2, pool="mean", relu=True, final="sigmoid"):
    s = x.mean(axis=(2, 3)) if pool == "mean" else x.max(axis=(2, 3))
    h = s @ w1.T + b1
    h = np.maximum(h, 0) if relu else h
    z = h @ w2.T + b2
    if final == "softmax":
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)
    return _sigmoid(z)


@register_check(
    "se_gates",
    task="fn(x (B, C, H, W), w1 (h, C), b1 (h,), w2 (C, h), b2 (C,)) -> gates (B, C): "
         "sigmoid(w2 relu(w1 mean_hw(x) + b1) + b2)",
    success="Your gates match course_lib.layers.modules.SqueezeExcitation with the same layers: one "
            "sigmoid gate in (0, 1) per channel, computed from the image's average, so every "
            "input gets its own channel weights.",
    mistakes=[
        Mistake("You used a softmax over the channels. SE uses a sigmoid per channel: each gate is "
                "in (0, 1) on its own, gates do not compete and need not sum to 1 (several channels "
                "can be fully on).", lambda *a: _se_variant(*a, final="softmax")),
        Mistake("You squeezed with the maximum; SE squeezes with the average over the image "
                "(x.mean(axis=(2, 3))): one summary number per channel.",
                lambda *a: _se_variant(*a, pool="max")),
        Mistake("The ReLU between the two layers is missing: np.maximum(h, 0).",
                lambda *a: _se_variant(*a, relu=False)),
        Mistake("The second bias b2 is missing: the gates are sigmoid(h @ w2.T + b2).",
                lambda x, w1, b1, w2, b2: _se_variant(x, w1, b1, w2, np.zeros_like(b2))),
        Mistake("Return the gates (B, C), not the rescaled input x * gates: the exercise asks for "
                "the weights the block computes for this input.",
                lambda *a: a[0] * _se_variant(*a)[:, :, None, None]),
    ],
)
def _se_cases():
    rng = np.random.default_rng(51)
    cases = []
    for label, (b, c, h, w, hid) in [("2 images, 4 channels, hidden 2", (2, 4, 5, 5, 2)),
                                     ("3 images, 6 channels, hidden 3", (3, 6, 4, 7, 3)),
                                     ("1 image, 8 channels, hidden 8", (1, 8, 3, 3, 8))]:
        x = rng.standard_normal((b, c, h, w))
        w1, b1 = rng.standard_normal((hid, c)), rng.standard_normal(hid)
        w2, b2 = rng.standard_normal((c, hid)), rng.standard_normal(c)
        cases.append(Case(label, (x, w1, b1, w2, b2), _se_reference(x, w1, b1, w2, b2)))
    return cases


# ------------------------------------------------------------------------------------------
# Exercise 3: attention pooling with a learned query
# ------------------------------------------------------------------------------------------
def _pool_reference(tokens, query, w_k, w_v):
    keys, values = tokens @ w_k, tokens @ w_v
    q = np.repeat(query[None, None, :], len(tokens), axis=0)  # (B, 1, d_k): one query per image
    out, weights = attend(q, keys, values)
    return out[:, 0], weights[:, 0]


def _pool_variant(tokens, query, w_k, w_v, scale=True, axis=-1, aggregate="values"):
    scores = (tokens @ w_k) @ query / (np.sqrt(query.shape[-1]) if scale else 1.0)  # (B, n)
    z = scores - scores.max(axis=axis, keepdims=True)
    weights = np.exp(z) / np.exp(z).sum(axis=axis, keepdims=True)
    source = tokens @ w_v if aggregate == "values" else tokens
    return (weights[..., None] * source).sum(1), weights


def _pool_unstable(tokens, query, w_k, w_v):
    e = np.exp((tokens @ w_k) @ query / np.sqrt(query.shape[-1]))
    weights = e / e.sum(axis=-1, keepdims=True)
    return (weights[..., None] * (tokens @ w_v)).sum(1), weights


@register_check(
    "attention_pool",
    task="fn(tokens (B, n, d), query (d_k,), w_k (d, d_k), w_v (d, d_v)) -> return (pooled "
         "(B, d_v), weights (B, n)) in that order: keys = tokens @ w_k, scaled dot product with the query, softmax over "
         "the n tokens, weighted average of values = tokens @ w_v",
    unstable_softmax=_pool_unstable,
    success="Your pooled vectors and weights are lesson 03's attend with one learned query shared "
            "by every image, stable for scores that overflow a naive exp(): the weights change "
            "with the image although the query does not.",
    mistakes=[
        Mistake("The scores are not scaled: divide q . k by sqrt(d_k) (query.shape[-1]), as in "
                "lesson 01.", lambda *a: _pool_variant(*a, scale=False)),
        Mistake("Scale by sqrt(d_k) = query.shape[-1] (the size of the query and keys), not by "
                "the token size d = tokens.shape[-1].",
                lambda t, q, wk, wv: _pool_variant(t, q * np.sqrt(len(q)) / np.sqrt(t.shape[-1]),
                                                   wk, wv)),
        Mistake("The softmax runs over the batch (axis 0); each image needs its own distribution "
                "over its n tokens: softmax over axis -1 of the (B, n) scores.",
                lambda *a: _pool_variant(*a, axis=0)),
        Mistake("You averaged the tokens themselves; step 3 averages the *values*, tokens @ w_v.",
                lambda *a: _pool_variant(*a, aggregate="tokens")),
        Mistake("Those are equal weights 1/n: plain average pooling, the same for every input. "
                "The weights must come from the scores: softmax(keys . query / sqrt(d_k)).",
                lambda t, q, wk, wv: ((t @ wv).mean(1), np.full(t.shape[:2], 1 / t.shape[1]))),
    ],
)
def _pool_cases():
    rng = np.random.default_rng(52)
    cases = []
    tokens = np.zeros((1, 3, 2))
    tokens[0, 1] = [2.0, 0.0]
    eye = np.eye(2)
    cases.append(Case("hand-worked: one token matches the query", (tokens, np.array([2.0, 0.0]), eye, eye),
                      _pool_reference(tokens, np.array([2.0, 0.0]), eye, eye)))
    for label, (b, n, d, dk, dv) in [("2 images x 5 tokens, d = 4", (2, 5, 4, 4, 4)),
                                     ("3 images x 7 tokens, d_k = 3, d_v = 5", (3, 7, 4, 3, 5))]:
        t = rng.standard_normal((b, n, d))
        q, wk, wv = rng.standard_normal(dk), rng.standard_normal((d, dk)), rng.standard_normal((d, dv))
        cases.append(Case(label, (t, q, wk, wv), _pool_reference(t, q, wk, wv)))
    # bright tokens and a strong query: scores in the thousands, exp would overflow
    t = 20.0 * rng.standard_normal((2, 4, 3))
    q, wk, wv = 20.0 * rng.standard_normal(3), rng.standard_normal((3, 3)), rng.standard_normal((3, 2))
    cases.append(Case("scores in the thousands (exp would overflow)", (t, q, wk, wv),
                      _pool_reference(t, q, wk, wv)))
    return cases


# ------------------------------------------------------------------------------------------
# Exercise 4: temporal attention from motion
# ------------------------------------------------------------------------------------------
def _motion_reference(video, temperature):
    v = torch.from_numpy(video)[None, :, None]                 # (1, T, 1, H, W)
    _, temporal = motion_attention(v, temporal_temperature=temperature)
    return temporal[0].numpy()


def _softmax(z):
    e = np.exp(z - z.max())
    return e / e.sum()


def _motion_unstable(video, temperature):
    e = np.exp((np.diff(video, axis=0) ** 2).sum(axis=(1, 2)) / temperature)
    return e / e.sum()


def _motion_shape_hint(got, expected, j):
    if got.shape == (expected.shape[0] + 1,):
        return ("You returned T weights for T frames: there is one weight per step frame t-1 -> t, "
                "so T - 1 (np.diff(video, axis=0) has T - 1 frames of change).")
    return None


@register_check(
    "motion_weights",
    task="fn(video (T, H, W), temperature) -> (T-1,) weights: softmax over steps of "
         "sum((frame_t - frame_{t-1})^2) / temperature",
    unstable_softmax=_motion_unstable,
    shape_hint=_motion_shape_hint,
    success="A still video gets equal weights and a burst of motion takes the weight, as "
            "course_lib.layers.modules.motion_attention's temporal weights do, and your softmax "
            "survived energies in the thousands that overflow a naive exp().",
    mistakes=[
        Mistake("You compared every frame with the first frame; motion is change since the "
                "*previous* frame: np.diff(video, axis=0).",
                lambda v, t: _softmax(((v[1:] - v[0]) ** 2).sum(axis=(1, 2)) / t)),
        Mistake("You averaged the squared changes; the motion energy *sums* them over the pixels "
                "(a mean divides every score by H * W, which acts like a much higher temperature).",
                lambda v, t: _softmax((np.diff(v, axis=0) ** 2).mean(axis=(1, 2)) / t)),
        Mistake("One weight per step frame t-1 -> t: T-1 weights for T frames (you returned T).",
                lambda v, t: _softmax(np.concatenate([[0.0], (np.diff(v, axis=0) ** 2).sum(axis=(1, 2))]) / t)),
        Mistake("You used absolute differences; the motion energy squares them.",
                lambda v, t: _softmax(np.abs(np.diff(v, axis=0)).sum(axis=(1, 2)) / t)),
        Mistake("Those are the raw energies: step 2 turns scores into weights with a softmax, "
                "so that they are >= 0 and sum to 1.",
                lambda v, t: (np.diff(v, axis=0) ** 2).sum(axis=(1, 2))),
        Mistake("Divide the scores by the temperature before the softmax (you multiplied).",
                lambda v, t: _softmax((np.diff(v, axis=0) ** 2).sum(axis=(1, 2)) * t)),
    ],
)
def _motion_cases():
    rng = np.random.default_rng(53)
    still = np.tile(rng.random((1, 4, 4)), (4, 1, 1))
    moved = still.copy()
    moved[2:, 1, 1] += 1.0       # something appears in frame 2 and stays
    cases = [Case("a still video: nothing to pick, equal weights", (still, 1.0),
                  _motion_reference(still, 1.0)),
             Case("hand-worked: one change, between frames 1 and 2", (moved, 0.5),
                  _motion_reference(moved, 0.5))]
    for label, shape, t in [("random 6-frame video", (6, 5, 5), 2.0), ("random 3-frame video", (3, 8, 6), 0.7)]:
        v = rng.random(shape)
        cases.append(Case(label, (v, t), _motion_reference(v, t)))
    # a bright object jumps around: energies in the thousands, exp would overflow
    v = 30.0 * rng.random((4, 6, 6))
    cases.append(Case("a bright video: energies in the thousands (exp would overflow)", (v, 1.0),
                      _motion_reference(v, 1.0)))
    return cases


# ------------------------------------------------------------------------------------------
# Exercise 5: attention on the target, class by class
# ------------------------------------------------------------------------------------------
# ------------------------------------------------------------------------------------------
# Exercise 5: the ablation, run by the learner: uniform pooling in place of attention
# ------------------------------------------------------------------------------------------
def _uniform_reference(tokens):
    n = tokens.shape[1]
    return tokens.mean(axis=1), np.full(tokens.shape[:2], 1.0 / n)


def _torch_in(fn):
    """The learner's pooling runs inside a torch model, so it receives torch tensors here too
    and may return tensors or arrays. The tensor shares the case's (private) array, so a change in
    place is seen; ``gradients`` runs it as training does, on tokens that require gradients."""
    def run(tokens):
        return fn(torch.from_numpy(tokens))

    def gradients(tokens):
        t = torch.tensor(tokens, requires_grad=True)
        probed_loss(fn(t), which=[0]).backward()    # pooled is what the classifier reads
        return {"tokens": grad_or_none(t)}

    run.gradients = gradients
    return run


def _uniform_gradients(tokens):
    """The reference's gradients: the mean over the windows sends probe / n to every window."""
    t = torch.tensor(tokens, requires_grad=True)
    probed_loss((t.mean(dim=1),), which=[0]).backward()
    return {"tokens": grad_or_none(t)}


def _uniform_shape_hint(got, expected, j):
    # whole sentences, one per output, so that each is one entry of the Chinese catalog
    if got.ndim < expected.ndim:
        return ("The batch axis is missing: pooled must be (B, dim): average over the windows "
                "(dim=1) for each canvas; yours has one result for all canvases." if j == 0
                else "The batch axis is missing: weights must be (B, n): one row of n weights 1/n "
                     "per canvas, torch.full(tokens.shape[:2], 1 / n); yours has one result for "
                     "all canvases.")
    return None


@register_check(
    "uniform_pooling",
    task="fn(tokens (B, n, dim) torch tensor) -> (pooled (B, dim), weights (B, n)): every weight "
         "1/n, pooled = the weighted sum of the tokens",
    prepare=_torch_in,
    gradients=True,
    arg_names=("tokens",),
    shape_hint=_uniform_shape_hint,
    success="Every weight is 1/n for every canvas and your pooled features send back the same "
            "gradients as the mean does, so the ablation below trains the same model with only "
            "the adaptivity taken away.",
    error_hint=lambda e: ("tokens is a torch tensor: use torch operations on it "
                          "(tokens.mean(dim=1), torch.full(...)), so gradients reach the features "
                          "when the model trains") if isinstance(e, (TypeError, AttributeError)) else None,
    mistakes=[  # called through _torch_in, like the learner's function: torch in, torch out
        Mistake("Every weight 1/n, not 1: with weights of 1 the 'pooled' vector is a sum, which "
                "grows with the number of windows.",
                lambda t: (t.sum(dim=1), torch.ones(t.shape[:2]))),
        Mistake("Your weights are 1/n but pooled is the plain sum of the windows: the weighted "
                "sum uses the weights, sum_i (1/n) token_i, which is the mean (tokens.mean(dim=1)); "
                "a sum grows with the number of windows.",
                lambda t: (t.sum(dim=1), torch.full(t.shape[:2], 1.0 / t.shape[1]))),
        Mistake("Average over the windows (dim=1), not over the features (dim=-1): pooled "
                "must keep one number per feature, (B, dim).",
                lambda t: (t.mean(dim=-1), torch.full(t.shape[:2], 1.0 / t.shape[1]))),
        Mistake("Uniform weights do not look at the tokens: a softmax of scores computed from them "
                "is adaptive again (it changes with the input). Give every window 1/n.",
                lambda t: (t.mean(dim=1), torch.softmax(t.sum(-1), dim=1))),
    ],
)
def _uniform_cases():
    rng = np.random.default_rng(56)
    hand = np.array([[[1.0, 0.0], [3.0, 2.0]]])              # one image, two windows -> [2, 1]
    cases = [Case("hand-worked: 2 windows of 2 features", (hand,), _uniform_reference(hand),
                  gradients=_uniform_gradients(hand))]
    for label, shape in [("3 canvases, 289 windows, 32 features", (3, 289, 32)),
                         ("5 canvases, 4 windows, 1 feature", (5, 4, 1))]:
        t = rng.standard_normal(shape)
        cases.append(Case(label, (t,), _uniform_reference(t), gradients=_uniform_gradients(t)))
    return cases
