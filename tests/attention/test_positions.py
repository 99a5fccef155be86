"""Positional encodings (course_lib.attention.positions)."""
import numpy as np
import pytest

from course_lib.attention.positions import grid_positions, sinusoidal_positions


def test_sinusoidal_definition():
    enc = sinusoidal_positions(7, 6, base=100.0)
    for p in range(7):
        for i in range(3):
            w = 100.0 ** (-2 * i / 6)
            assert np.isclose(enc[p, 2 * i], np.sin(p * w))
            assert np.isclose(enc[p, 2 * i + 1], np.cos(p * w))


def test_positions_are_distinct_and_bounded():
    enc = grid_positions(6, 5, 16)
    assert enc.shape == (30, 16)
    assert np.all(np.abs(enc) <= 1)
    d = ((enc[:, None] - enc[None]) ** 2).sum(-1)
    assert np.all(d[~np.eye(30, dtype=bool)] > 1e-6)


def test_sines_then_cosines_layout_and_float32_for_the_vision_transformer():
    """interleave=False puts all sines first, then all cosines; lesson 06's ViT takes its codes
    from the same grid_positions, computed in float32 (one 2-D encoder in the library)."""
    import torch

    from course_lib.experiments.capstone import sincos_positions

    enc = sinusoidal_positions(5, 6, base=10.0, interleave=False)
    for p in range(5):
        w = 10.0 ** (-np.arange(3) * 2 / 6)
        np.testing.assert_allclose(enc[p], np.concatenate([np.sin(p * w), np.cos(p * w)]), atol=1e-12)
    np.testing.assert_allclose(enc[:, [0, 3, 1, 4, 2, 5]], sinusoidal_positions(5, 6, base=10.0))
    codes = grid_positions(6, 6, 16, base=10.0, interleave=False, dtype=torch.float32)
    assert codes.dtype == np.float32
    assert torch.equal(sincos_positions(6, 16), torch.from_numpy(codes))


def test_grid_halves_encode_row_and_column():
    enc = grid_positions(3, 4, 8)
    row_part, col_part = enc[:, :4], enc[:, 4:]
    np.testing.assert_allclose(row_part[0], row_part[3])      # same row 0
    np.testing.assert_allclose(col_part[1], col_part[5])      # same column 1


@pytest.mark.parametrize("call", [lambda: sinusoidal_positions(4, 5), lambda: grid_positions(2, 2, 6)])
def test_bad_dims(call):
    with pytest.raises(ValueError, match="dim must be"):
        call()


def test_with_positions_mixes_place_into_unit_tokens():
    from course_lib.attention.positions import with_positions

    tokens = np.tile(np.eye(8)[:1], (6, 1))                   # six patches that look the same
    placed = with_positions(tokens, (2, 3))
    np.testing.assert_allclose(np.linalg.norm(placed, axis=1), 1.0)
    gram = placed @ placed.T
    assert np.all(gram[~np.eye(6, dtype=bool)] < 1 - 1e-6)    # their places now tell them apart
    np.testing.assert_allclose(with_positions(tokens, (2, 3), strength=0.0), tokens)
