"""Five ways to mix pixels (Han et al., ICLR 2022): the extracted weight matrices reproduce the
operations, and the measured properties are the ones the lesson's table states."""
import pytest
import torch
import torch.nn.functional as F

from course_lib.locality.mixing import MIXING_OPS, mixing_properties, mixing_weights


def test_mixing_weights_reproduce_the_operations():
    gen = torch.Generator().manual_seed(0)
    x = torch.rand(2, 5, 6, generator=gen, dtype=torch.float64)
    m = mixing_weights("convolution", x)
    kernel = torch.randn(2, 2, 3, 3, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    out = torch.einsum("opiq,iq->op", m, x.flatten(1)).view(2, 5, 6)
    torch.testing.assert_close(out, F.conv2d(x, kernel, padding=1))
    g = mixing_weights("global attention", x)
    tokens = x.flatten(1).T
    ref = F.scaled_dot_product_attention(tokens, tokens, tokens).T
    torch.testing.assert_close(torch.einsum("opiq,iq->op", g, x.flatten(1)), ref)


def test_mixing_properties_table():
    gen = torch.Generator().manual_seed(1)
    x1, x2 = (torch.rand(3, 8, 8, generator=gen, dtype=torch.float64) for _ in range(2))
    table = {op: mixing_properties(op, x1, x2) for op in MIXING_OPS}
    expected = {  # (sparse, mixes channels, shared over positions, shared over channels, dynamic)
        "convolution": (True, True, True, False, False),
        "depth-wise convolution": (True, False, True, False, False),
        "dynamic convolution": (True, False, True, False, True),
        "local attention": (True, False, False, True, True),
        "global attention": (False, False, False, True, True),
    }
    for op, (sparse, mixes, pos, chan, dyn) in expected.items():
        row = table[op]
        assert (row["sparse"] > 0.5) == sparse, op
        assert (row["mixes_channels"], row["shared_across_positions"],
                row["shared_across_channels"], row["dynamic"]) == (mixes, pos, chan, dyn), op
    with pytest.raises(ValueError, match="op='mlp' is not known"):
        mixing_properties("mlp", x1, x2)
