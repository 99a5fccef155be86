"""Issue 21: faults of the checker's own trust work (not one check's cases).

- torch's own NotImplementedError in a real attempt (``@`` on bool tensors) is an attempt, not
  "not attempted yet": only the stub's bare ``raise NotImplementedError`` line means that;
- the multi-head check accepts a right layer with one packed nn.Linear(E, 3E);
- course_lib's MultiHeadAttention names both shapes when query and key batches differ.
"""
import math

import numpy as np
import pytest
import torch
from torch import nn

import course_lib as cl
from course_lib.checks import check


def test_torchs_own_not_implemented_error_is_an_attempt():
    def scaled_dot(q, k):
        q, k = torch.as_tensor(q) > 0, torch.as_tensor(k) > 0      # bool tensors by accident
        return q @ k.transpose(-1, -2)                             # torch: not implemented

    result = check("scaled_dot", scaled_dot, verbose=False)
    assert result.attempted and not result.passed
    assert "not attempted" not in result.message and "NotImplementedError" in result.message


@pytest.mark.parametrize("stub_line", ['raise NotImplementedError("not attempted yet")',
                                       "raise NotImplementedError",
                                       "raise NotImplementedError()"])
def test_the_stubs_bare_raise_is_not_attempted(stub_line, tmp_path):
    source = f"def scaled_dot(q, k):\n    {stub_line}\n"
    path = tmp_path / "stub.py"
    path.write_text(source)
    namespace = {}
    exec(compile(source, str(path), "exec"), namespace)
    result = check("scaled_dot", namespace["scaled_dot"], verbose=False)
    assert not result.attempted and "not attempted yet" in result.message


class PackedProjections(nn.Module):
    """A right layer with the three input projections in one nn.Linear(E, 3E), as PyTorch packs
    them, split with chunk."""

    def __init__(self, embed_dim, num_heads):
        super().__init__()
        self.num_heads = num_heads
        self.qkv = nn.Linear(embed_dim, 3 * embed_dim)
        self.out_proj = nn.Linear(embed_dim, embed_dim)

    def forward(self, x):
        b, n, e = x.shape
        h = self.num_heads
        q, k, v = (t.reshape(b, n, h, e // h).transpose(1, 2) for t in self.qkv(x).chunk(3, -1))
        w = torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(e // h), dim=-1)
        return self.out_proj((w @ v).transpose(1, 2).reshape(b, n, e)), w


def test_a_layer_with_one_packed_projection_passes():
    result = check("multi_head_attention", PackedProjections, verbose=False)
    assert result.passed, result.message


def test_multi_head_attention_names_both_batch_sizes():
    layer = cl.MultiHeadAttention(4, 2)
    with pytest.raises(ValueError, match=r"query has shape \(2, 3, 4\).*key has shape \(3, 5, 4\)"):
        layer(torch.zeros(2, 3, 4), torch.zeros(3, 5, 4))
    out, _ = layer(np.zeros((1, 3, 4)), np.zeros((2, 5, 4)))   # a batch of 1 still broadcasts
    assert out.shape == (2, 3, 4)
