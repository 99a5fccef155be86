"""Issue 21: wrong answers a learner really writes, as real code, against every check they fooled or
misled, each with the words its feedback must contain (the verdict is always "failed").

They are of the kinds that got "Well done!" and then broke the lesson's next cell (an input changed
in place, an unstable softmax, blocked gradients, a tie), or that were told about a mistake they did
not make (a hint that names another mistake, a shape hint that does not fit).

    python tests/checks/test_checks_wrong_answers.py  # the table: check, wrong answer, verdict, hint
"""
from __future__ import annotations

import math
import re

import numpy as np
import pytest
import torch
from torch import nn

from course_lib.checks import check
from course_lib.checks.lesson03 import _Sketch


def swap(x):
    return np.swapaxes(x, -1, -2)


def unit(x):
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


def stable(z, axis=-1):
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


# ---------------------------------------------------------------- inputs changed in place
def softmax_in_place(scores, temperature):
    """The issue's answer: right numbers, but the caller's row is divided, shifted and exp'ed."""
    scores /= temperature
    scores -= scores.max(axis=-1, keepdims=True)
    np.exp(scores, out=scores)
    return scores / scores.sum(axis=-1, keepdims=True)


def attend_in_place(q, k, v):
    q /= np.sqrt(q.shape[-1])                      # "saves a division"
    w = stable(q @ swap(k))
    return w @ v, w


def cosine_in_place(q, k):
    q /= np.linalg.norm(q, axis=-1, keepdims=True)
    k /= np.linalg.norm(k, axis=-1, keepdims=True)
    return q @ swap(k)


def motion_in_place(video, temperature):
    video[1:] -= video[:-1].copy()                 # frame differences, written over the frames
    z = (video[1:] ** 2).sum(axis=(1, 2)) / temperature
    return stable(z)


def uniform_pooling_in_place(tokens):
    tokens /= tokens.shape[1]                      # scales the model's features in training
    return tokens.sum(dim=1), torch.full(tokens.shape[:2], 1.0 / tokens.shape[1])


def top_matches_in_place(vectors, index, n):
    vectors /= np.linalg.norm(vectors, axis=-1, keepdims=True)
    s = vectors @ vectors[index]
    s[index] = -np.inf
    return np.argsort(-s)[:n]


def nlm_score_in_place(query, keys, h):
    keys -= query                                  # differences, written over the key patches
    return -(keys ** 2).mean(axis=(-2, -1)) / h**2


def variation_in_place(weights):
    weights -= weights.mean(axis=0)                # centre, to get the std "by hand"
    std = np.sqrt((weights ** 2).sum(axis=0) / (len(weights) - 1))
    return std.mean() / np.abs(weights + 0).mean()


def stack_receptive_field_in_place(kernel_sizes, strides):
    kernel_sizes -= 1                              # each layer adds k - 1
    jumps = np.concatenate([[1], np.cumprod(strides)[:-1]])
    return 1 + (kernel_sizes * jumps).sum()


def se_gates_in_place(x, w1, b1, w2, b2):
    h = np.maximum(x.mean(axis=(2, 3)) @ w1.T + b1, 0)
    w2 *= -1                                       # sigmoid(z) = 1 / (1 + exp(-z)): negate once
    b2 *= -1
    return 1 / (1 + np.exp(h @ w2.T + b2))


# ---------------------------------------------------------------- unstable softmax
def softmax_mean_shift(scores, temperature):
    """Passes [1000, 999, 0] (mean 666); [1000, -1000] has mean 0 and overflows."""
    z = scores / temperature
    e = np.exp(z - z.mean(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def attend_naive(q, k, v):
    e = np.exp(q @ swap(k) / np.sqrt(q.shape[-1]))
    w = e / e.sum(axis=-1, keepdims=True)
    return w @ v, w


def self_attention_naive(x, w_q, w_k, w_v):
    return attend_naive(x @ w_q, x @ w_k, x @ w_v)


def motion_weights_naive(video, temperature):
    e = np.exp((np.diff(video, axis=0) ** 2).sum(axis=(1, 2)) / temperature)
    return e / e.sum()


def attention_pool_naive(tokens, query, w_k, w_v):
    e = np.exp((tokens @ w_k) @ query / np.sqrt(len(query)))
    w = e / e.sum(axis=-1, keepdims=True)
    return np.einsum("bn,bnd->bd", w, tokens @ w_v), w


class NaiveSoftmaxLayer(_Sketch):
    """A right layer except for exp() without max subtraction."""

    def forward(self, x):
        b, n, e = x.shape
        h, hd = self.num_heads, self.head_dim
        q, k, v = (p(x).reshape(b, n, h, hd).transpose(1, 2)
                   for p in (self.q_proj, self.k_proj, self.v_proj))
        s = (q @ k.transpose(-2, -1) / math.sqrt(hd)).exp()
        w = s / s.sum(-1, keepdim=True)
        return self.out_proj((w @ v).transpose(1, 2).reshape(b, n, e)), w


# ---------------------------------------------------------------- blocked gradients, NumPy in torch
class DetachedWeightsLayer(_Sketch):
    """The issue's layer: detaches its weights "for plotting" before weights @ v."""

    def forward(self, x):
        b, n, e = x.shape
        h, hd = self.num_heads, self.head_dim
        q, k, v = (p(x).reshape(b, n, h, hd).transpose(1, 2)
                   for p in (self.q_proj, self.k_proj, self.v_proj))
        w = torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(hd), dim=-1).detach()
        return self.out_proj((w @ v).transpose(1, 2).reshape(b, n, e)), w


def uniform_pooling_numpy(tokens):
    t = tokens.numpy()                             # works on plain tensors, crashes in training
    return t.mean(axis=1), np.full(t.shape[:2], 1.0 / t.shape[1])


def uniform_pooling_detached(tokens):
    t = tokens.detach()
    return t.mean(dim=1), torch.full(t.shape[:2], 1.0 / t.shape[1])


def uniform_pooling_rebuilt(tokens):
    pooled = torch.tensor(tokens.mean(dim=1).tolist(), dtype=tokens.dtype)   # a new leaf tensor
    return pooled, torch.full(tokens.shape[:2], 1.0 / tokens.shape[1])


# ---------------------------------------------------------------- a tie
def top_matches_skip_first(vectors, index, n):
    s = unit(vectors) @ unit(vectors[index])
    return np.argsort(-s, kind="stable")[1:n + 1]        # "the best match is the query itself"


# ---------------------------------------------------------------- hints that fit the mistake
def receptive_field_half_kernel(n_layers, kernel_size):
    return kernel_size + (n_layers - 1) * (kernel_size // 2)   # 9 on (3, 5), like "one too few"


def gaussian_kernel_1d(sigma):
    r = math.ceil(3 * sigma)
    g = np.exp(-np.arange(-r, r + 1) ** 2 / (2 * sigma**2))
    return g / g.sum()


class FlatHeadsLayer(_Sketch):
    """Right, but returns its weights as (B * num_heads, n, n)."""

    def forward(self, x):
        out, w = _Sketch.forward(self, x)
        return out, w.reshape(-1, *w.shape[-2:])


def uniform_pooling_one_row(tokens):
    n = tokens.shape[1]
    return tokens.mean(dim=1), torch.full((n,), 1.0 / n)      # (n,): one row for all canvases


def uniform_pooling_swapped(tokens):
    n = tokens.shape[1]
    return torch.full(tokens.shape[:2], 1.0 / n), tokens.mean(dim=1)


def uniform_pooling_sum(tokens):
    n = tokens.shape[1]
    return tokens.sum(dim=1), torch.full(tokens.shape[:2], 1.0 / n)


def motion_weights_with_first_frame(video, temperature):
    energy = (np.diff(video, axis=0, prepend=video[:1]) ** 2).sum(axis=(1, 2))   # T energies
    return stable(energy / temperature)


def motion_weights_per_frame(video, temperature):
    energy = ((video - video.mean(axis=0)) ** 2).sum(axis=(1, 2))   # how unusual each frame is
    return stable(energy / temperature)


def conv_macs_with_bias(c_in, c_out, k, h_out, w_out):
    return (c_in * k * k + 1) * c_out * h_out * w_out


# ---------------------------------------------------------------- the multi-head stumbling points
class SoftmaxOverQueriesLayer(_Sketch):
    softmax_dim = -2


class SwappedProjectionsLayer(_Sketch):
    def forward(self, x):
        self.q_proj, self.k_proj = self.k_proj, self.q_proj
        try:
            return _Sketch.forward(self, x)
        finally:
            self.q_proj, self.k_proj = self.k_proj, self.q_proj


# (check, wrong answer, words the feedback must contain)
WRONG = [
    ("softmax", softmax_in_place, "changed its input `scores`"),
    ("attend", attend_in_place, "changed its input `q`"),
    ("cosine", cosine_in_place, "changed its input `q`"),
    ("top_matches", top_matches_in_place, "changed its input `vectors`"),
    ("motion_weights", motion_in_place, "changed its input `video`"),
    ("uniform_pooling", uniform_pooling_in_place, "changed its input `tokens`"),
    ("nlm_score", nlm_score_in_place, "changed its input `keys`"),
    ("variation_across_inputs", variation_in_place, "changed its input `weights`"),
    ("stack_receptive_field", stack_receptive_field_in_place, "changed its input `kernel_sizes`"),
    ("se_gates", se_gates_in_place, "changed its input `w2`"),
    ("softmax", softmax_mean_shift, "Subtract the row's *maximum*"),
    ("attend", attend_naive, "Subtract each row's maximum"),
    ("self_attention", self_attention_naive, "Subtract each row's maximum"),
    ("motion_weights", motion_weights_naive, "Subtract each row's maximum"),
    ("attention_pool", attention_pool_naive, "Subtract each row's maximum"),
    ("multi_head_attention", NaiveSoftmaxLayer, "Subtract each row's maximum"),
    ("multi_head_attention", DetachedWeightsLayer, "gradient with respect to `x`"),
    ("uniform_pooling", uniform_pooling_numpy, "Stay in torch"),
    ("uniform_pooling", uniform_pooling_detached, "carries no gradient"),
    ("uniform_pooling", uniform_pooling_rebuilt, "carries no gradient"),
    ("top_matches", top_matches_skip_first, "dropped the first entry of the ranking"),
    ("receptive_field", receptive_field_half_kernel, "Compare your result"),
    ("gaussian_kernel", gaussian_kernel_1d, "Your kernel is 1-D"),
    ("multi_head_attention", FlatHeadsLayer, "(B * num_heads, n, n)"),
    ("uniform_pooling", uniform_pooling_one_row, "The batch axis is missing"),
    ("uniform_pooling", uniform_pooling_swapped, "in the wrong order"),
    ("uniform_pooling", uniform_pooling_sum, "pooled is the plain sum"),
    ("motion_weights", motion_weights_with_first_frame, "(you returned T)"),
    ("motion_weights", motion_weights_per_frame, "You returned T weights for T frames"),
    ("conv_macs", conv_macs_with_bias, "counted the bias"),
    ("multi_head_attention", SoftmaxOverQueriesLayer, "softmax runs over the queries (dim=-2)"),
    ("multi_head_attention", SwappedProjectionsLayer, "Queries and keys are swapped"),
]

# Hints that must NOT appear: the mistake they name was not made.
NOT_TOLD = {
    receptive_field_half_kernel: "one layer too few",
    gaussian_kernel_1d: "batch dimensions",
    FlatHeadsLayer: "swapaxes",
    uniform_pooling_one_row: "swapaxes",
}


def _id(entry):
    return f"{entry[0]}-{entry[1].__name__}"


@pytest.mark.parametrize("name, answer, words", WRONG, ids=[_id(w) for w in WRONG])
def test_wrong_answer_fails_with_a_hint_that_fits(name, answer, words):
    with np.errstate(all="ignore"):
        result = check(name, answer, verbose=False)
    assert result.attempted and not result.passed, result.message
    assert words in result.message, result.message
    if answer in NOT_TOLD:
        assert NOT_TOLD[answer] not in result.message, result.message


def verdict_and_first_hint_line(name, answer) -> tuple[str, str]:
    """What a learner reads: the verdict and the hint's first line (or the problem's), cut after
    its first sentence for the table."""
    with np.errstate(all="ignore"):
        result = check(name, answer, verbose=False)
    verdict = "passed" if result.passed else ("failed" if result.attempted else "not attempted")
    lines = result.message.splitlines()
    hint = next((line.strip()[len("hint: "):] for line in lines if line.strip().startswith("hint: ")),
                lines[1].strip() if len(lines) > 1 else lines[0])
    sentences = re.split(r"(?<=[.)])\s+(?=[A-Z`])", hint)
    # a shape hint's first sentence only restates the shapes: show what it says about them too
    sentence = " ".join(sentences[:2] if sentences[0].startswith("Expected shape") else sentences[:1])
    return verdict, sentence if len(sentence) <= 240 else sentence[:237] + "..."


if __name__ == "__main__":  # the table of the closing note
    print("| check | wrong answer | verdict | first line of the hint |")
    print("|---|---|---|---|")
    for name, answer, _ in WRONG:
        verdict, hint = verdict_and_first_hint_line(name, answer)
        print(f"| {name} | `{answer.__name__}` | {verdict} | {hint.replace('|', '/')} |")
