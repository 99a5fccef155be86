"""The module exercise of lesson 03: the learner's multi-head layer against torch.nn.MultiheadAttention.

Right layers in several styles must pass; each classic mistake must be rejected with its own hint
(and no other mistake's); an unfinished class is "not attempted yet"; setup errors explain
themselves.
"""
import math

import pytest
import torch
from torch import nn

import course_lib as cl
from course_lib.checks import CHECKS, check
from course_lib.checks.lesson03 import _Sketch, copy_reference_weights, reference_attention

NAME = "multi_head_attention"
MISTAKES = CHECKS[NAME].mistakes


class WithLibraryAttend(nn.Module):
    """A learner who reuses cl.attend for the three steps, and unflatten/flatten for the heads."""

    def __init__(self, embed_dim, num_heads):
        super().__init__()
        self.num_heads = num_heads
        self.q_proj, self.k_proj, self.v_proj, self.out_proj = (
            nn.Linear(embed_dim, embed_dim) for _ in range(4))

    def forward(self, x):
        def split(t):
            return t.unflatten(-1, (self.num_heads, -1)).transpose(1, 2)
        out, weights = cl.attend(split(self.q_proj(x)), split(self.k_proj(x)), split(self.v_proj(x)))
        return self.out_proj(out.transpose(1, 2).flatten(-2)), weights


class WithEinsum(nn.Module):
    """Another style: einsum, float32 parameters (the check converts the module to float64)."""

    def __init__(self, embed_dim, num_heads):
        super().__init__()
        self.h, self.d = num_heads, embed_dim // num_heads
        for name in ("q_proj", "k_proj", "v_proj", "out_proj"):
            setattr(self, name, nn.Linear(embed_dim, embed_dim))

    def forward(self, x):
        b, n, e = x.shape
        q, k, v = (p(x).reshape(b, n, self.h, self.d) for p in (self.q_proj, self.k_proj, self.v_proj))
        weights = torch.einsum("bihd,bjhd->bhij", q, k).div(math.sqrt(self.d)).softmax(-1)
        out = torch.einsum("bhij,bjhd->bihd", weights, v).reshape(b, n, e)
        return self.out_proj(out), weights


@pytest.mark.parametrize("layer", [_Sketch, WithLibraryAttend, WithEinsum])
def test_right_layers_pass(layer, capsys):
    assert check(NAME, layer).passed, capsys.readouterr().out


def test_the_reference_is_torchs_layer_with_copied_weights():
    reference = reference_attention(8, 2, seed=5)
    ours = _Sketch(8, 2).double()
    copy_reference_weights(ours, reference)
    x = torch.randn(2, 5, 8, dtype=torch.float64)
    with torch.no_grad():
        expected, expected_w = reference(x, x, x, average_attn_weights=False)
        got, got_w = ours(x)
    torch.testing.assert_close(got, expected)
    torch.testing.assert_close(got_w, expected_w)
    assert reference.in_proj_bias.abs().min() > 0, "non-zero biases, so dropping them is caught"


@pytest.mark.parametrize("mistake", MISTAKES, ids=[m.fn.__name__ for m in MISTAKES])
def test_each_classic_mistake_gets_its_own_hint(mistake, capsys):
    result = check(NAME, mistake.fn)
    out = capsys.readouterr().out
    assert result.attempted and not result.passed
    assert mistake.hint in out, out
    others = [m.hint for m in MISTAKES if m is not mistake]
    assert not any(hint in out for hint in others), out


def test_the_required_mistakes_are_registered():
    names = {m.fn.__name__ for m in MISTAKES}
    assert {"SplitWithoutTranspose", "MergeWithoutTranspose", "MergeFeatureMajor",
            "ScaledByModelWidth"} <= names


def test_unfinished_layer_is_not_attempted(capsys):
    class MultiHeadSelfAttention(nn.Module):
        def __init__(self, embed_dim, num_heads):
            super().__init__()
            raise NotImplementedError("not attempted yet")

    result = check(NAME, MultiHeadSelfAttention)
    assert not result.attempted and "not attempted yet" in capsys.readouterr().out

    class ForwardUnfinished(_Sketch):
        def forward(self, x):
            raise NotImplementedError("not attempted yet")

    assert not check(NAME, ForwardUnfinished, verbose=False).attempted


class NoProjections(nn.Module):
    def __init__(self, embed_dim, num_heads):
        super().__init__()
        self.qkv = nn.Linear(embed_dim, 3 * embed_dim)

    def forward(self, x):
        return x, x


class NoBias(_Sketch):
    def __init__(self, embed_dim, num_heads):
        super().__init__(embed_dim, num_heads)
        self.k_proj = nn.Linear(embed_dim, embed_dim, bias=False)


@pytest.mark.parametrize("layer, words", [
    (_Sketch(4, 2), "pass the class itself"),
    (NoProjections, "nn.Linear called self.out_proj"),
    (NoBias, "bias missing"),
    (type("OutputOnly", (_Sketch,), {"forward": lambda self, x: _Sketch.forward(self, x)[0]}),
     "expected 2 output(s) as a tuple"),
    (type("ViewAfterTranspose", (_Sketch,), {"forward": lambda self, x: (
        self.q_proj(x).reshape(*x.shape[:2], self.num_heads, -1).transpose(1, 2).view(x.shape), None)}),
     "use .reshape()"),
    (type("ForgotAttribute", (_Sketch,), {"forward": lambda self, x: self.heads}),
     "did not set"),
])
def test_setup_errors_explain_themselves(layer, words, capsys):
    result = check(NAME, layer)
    out = capsys.readouterr().out
    assert result.attempted and not result.passed
    assert words in out, out
    assert "NumPy" not in out   # the generic hint for NumPy exercises would mislead here
