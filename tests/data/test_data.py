"""Synthetic data of lesson 05 (and the shapes lesson 06 reuses): shapes, determinism, and that the ground truth is true."""
import numpy as np
import pytest
import torch

from course_lib.data import shapes as D


def _same(a, b):
    return all(torch.equal(x, y) for x, y in zip(a, b))


@pytest.mark.parametrize("make", [
    lambda s: D.clutter_scenes(20, seed=s),
    lambda s: D.sequences(20, seed=s),
])
def test_generators_are_deterministic_and_depend_on_seed(make):
    assert _same(make(0), make(0))
    assert not _same(make(0), make(1))


def test_clutter_target_box_holds_the_labelled_shape():
    images, labels, masks = D.clutter_scenes(200, size=24, n_distractors=6, seed=3)
    assert images.shape == (200, 1, 24, 24) and images.dtype == torch.float32
    assert labels.dtype == torch.int64 and set(labels.tolist()) == {0, 1}
    assert bool((masks.sum(dim=(1, 2)) == 9).all())
    for img, label, mask in zip(images, labels, masks):
        box = img[0][mask].reshape(3, 3).numpy()
        bright = (box > 0.5).astype(np.float32)  # background <= 0.25, shapes >= 0.7
        np.testing.assert_array_equal(bright, D.SHAPES[D.TARGETS[label]])
    # the rest of the image holds the distractors: 6 shapes of 3 or 4 pixels (they never touch)
    outside = (images[:, 0] > 0.5) & ~masks
    counts = outside.sum(dim=(1, 2))
    assert bool(((counts >= 6 * 3) & (counts <= 6 * 4)).all())




def test_sequences_reverse_and_sort():
    src, tgt, index = D.sequences(30, length=5, n_symbols=6, task="reverse")
    assert torch.equal(tgt, src.flip(1))
    src, tgt, index = D.sequences(30, length=5, n_symbols=6, task="sort")
    assert torch.equal(tgt, src.sort(1).values)
    assert torch.equal(torch.gather(src, 1, index), tgt)
    assert int(src.min()) >= 1 and int(src.max()) <= 6
    assert torch.equal(D.shift_right(tgt)[:, 1:], tgt[:, :-1])
    assert bool((D.shift_right(tgt)[:, 0] == D.BOS).all())


@pytest.mark.parametrize("call, match", [
    (lambda: D.clutter_scenes(0), "n must be"),
    (lambda: D.sequences(4, task="shuffle"), "task"),
])
def test_bad_arguments_explain_themselves(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_no_target_scenes_erase_the_target_and_keep_the_rest():
    base, base_labels, base_masks = D.clutter_scenes(60, seed=4)
    images, labels, masks = D.clutter_scenes(60, no_target=0.5, seed=4)
    none = labels == 2
    assert 0 < int(none.sum()) < 60
    assert not masks[none].any()                       # nothing to find
    kept = ~none
    assert torch.equal(images[kept], base[kept]) and torch.equal(labels[kept], base_labels[kept])
    assert torch.equal(masks[kept], base_masks[kept])
    # the erased box is background noise now: no pixel as bright as a shape (>= 0.7)
    for i in torch.nonzero(none)[:, 0].tolist():
        r, c = np.argwhere(base_masks[i].numpy())[0]
        assert images[i, 0, r : r + 3, c : c + 3].max() < 0.7


def test_a_canvas_too_crowded_for_the_shapes_is_an_error():
    with pytest.raises(ValueError, match="n_distractors"):
        D.clutter_scenes(2, size=8, n_distractors=6, seed=0)
    with pytest.raises(ValueError, match="no_target"):
        D.clutter_scenes(2, no_target=1.0)


def test_the_sequence_tasks_share_one_shift_right():
    """Teacher forcing's decoder input exists once (data/shapes.py): lesson 05's reversal
    experiment imports it instead of keeping a copy."""
    from course_lib.experiments import seq2seq

    assert seq2seq.shift_right is D.shift_right and seq2seq.BOS == D.BOS
    tgt = torch.tensor([[5, 6, 7]])
    assert D.shift_right(tgt).tolist() == [[D.BOS, 5, 6]]
