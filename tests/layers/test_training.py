"""The training loop learns, deterministically, on tiny data (each test takes a few seconds)."""
import pytest
import torch
from torch import nn

from course_lib.data import shapes as D
from course_lib.layers import models as M
from course_lib.layers import training as T
from course_lib.experiments.capstone import TinyViT


def _blobs(n=200, seed=0):
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, 2, (n,), generator=g)
    x = torch.randn(n, 2, generator=g) + 2.0 * y[:, None].float()
    return x, y


def test_loss_decreases_and_runs_are_identical():
    x, y = _blobs()
    histories = []
    for _ in range(2):
        torch.manual_seed(0)
        model = nn.Linear(2, 2)
        histories.append(T.train(model, (x, y), steps=60, batch_size=32, lr=0.05,
                                 progress=False))
    h = histories[0]
    assert sum(h["loss"][-10:]) / 10 < 0.7 * sum(h["loss"][:10]) / 10
    assert h["loss"] == histories[1]["loss"]  # same seed, same batches, same numbers
    assert T.accuracy(model, (x, y)) > 0.8


def test_decoder_learns_to_reverse():
    src, tgt, _ = D.sequences(600, length=5, n_symbols=6, task="reverse", seed=0)
    torch.manual_seed(0)
    model = M.AdditiveAttentionDecoder(n_symbols=6, hidden=24)
    T.train(model, ((src, D.shift_right(tgt)), tgt), steps=120, lr=1e-2, progress=False)
    assert T.accuracy(model, ((src, D.shift_right(tgt)), tgt)) > 0.5  # chance: 1/6


def test_predict_matches_one_big_batch_and_concatenates_lists():
    torch.manual_seed(0)
    model = TinyViT(image_size=12, patch=4, dim=8, depth=2)
    x = torch.rand(10, 1, 12, 12)
    logits, weights = T.predict(model, x, batch_size=3)
    with torch.no_grad():
        ref_logits, ref_weights = model(x)
    torch.testing.assert_close(logits, ref_logits, atol=1e-5, rtol=1e-5)
    assert len(weights) == 2 and weights[1].shape == ref_weights[1].shape


def test_bad_data_is_explained():
    x, y = _blobs(10)
    with pytest.raises(TypeError, match="pair"):
        T.train(nn.Linear(2, 2), x, steps=1, progress=False)
    with pytest.raises(ValueError, match="9 examples but targets hold 10"):
        T.accuracy(nn.Linear(2, 2), (x[:9], y))
