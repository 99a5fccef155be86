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


def test_grid_halves_encode_row_and_column():
    enc = grid_positions(3, 4, 8)
    row_part, col_part = enc[:, :4], enc[:, 4:]
    np.testing.assert_allclose(row_part[0], row_part[3])      # same row 0
    np.testing.assert_allclose(col_part[1], col_part[5])      # same column 1


@pytest.mark.parametrize("call", [lambda: sinusoidal_positions(4, 5), lambda: grid_positions(2, 2, 6)])
def test_bad_dims(call):
    with pytest.raises(ValueError, match="dim must be"):
        call()
