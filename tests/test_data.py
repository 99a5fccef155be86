"""Synthetic data of lessons 05-06: shapes, determinism, and that the ground truth is true."""
import numpy as np
import pytest
import torch

from course_lib import data as D


def _same(a, b):
    return all(torch.equal(x, y) for x, y in zip(a, b))


@pytest.mark.parametrize("make", [
    lambda s: D.clutter_scenes(20, seed=s),
    lambda s: D.two_marks(20, seed=s),
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


def test_two_marks_left_of_labels_and_gap():
    images, labels, masks = D.two_marks(200, size=24, min_gap=10, seed=1)
    assert 0.35 < labels.float().mean() < 0.65
    assert masks.shape == (200, 2, 24, 24)
    assert bool((masks.sum(dim=(2, 3)) == 9).all())
    for img, label, mask in zip(images, labels, masks):
        plus_cols = torch.nonzero(mask[0].any(0))[:, 0]
        cross_cols = torch.nonzero(mask[1].any(0))[:, 0]
        assert abs(int(plus_cols.min()) - int(cross_cols.min())) >= 10
        assert (int(plus_cols.min()) < int(cross_cols.min())) == bool(label)
        for j, name in enumerate(("plus", "cross")):
            box = img[0][mask[j]].reshape(3, 3) > 0.5
            assert torch.equal(box, torch.from_numpy(D.SHAPES[name] > 0))


def test_two_marks_same_relation():
    images, labels, masks = D.two_marks(100, relation="same", seed=2)
    assert 0.3 < labels.float().mean() < 0.7
    for img, label, mask in zip(images, labels, masks):
        a, b = (img[0][mask[j]].reshape(3, 3) > 0.5 for j in range(2))
        assert torch.equal(a, b) == bool(label)
    with pytest.raises(ValueError, match="relation"):
        D.two_marks(4, relation="above")
    with pytest.raises(ValueError, match="min_gap"):
        D.two_marks(4, size=12, min_gap=11)


def _box_corner(mask):
    """Top-left (row, col) of the True box of a (size, size) mask."""
    r, c = torch.nonzero(mask)[0]
    return int(r), int(c)


def test_two_marks_same_row_labels_rows_and_gap():
    size, min_gap = 24, 12
    images, labels, masks = D.two_marks(300, size=size, min_gap=min_gap, relation="same_row", seed=4)
    assert images.shape == (300, 1, size, size) and masks.shape == (300, 2, size, size)
    assert bool((masks.sum(dim=(2, 3)) == 9).all())
    for img, label, mask in zip(images, labels, masks):
        (r1, c1), (r2, c2) = (_box_corner(mask[j]) for j in range(2))
        assert (r1 == r2) == bool(label)
        assert r1 % 8 == 0 and r2 % 8 == 0                         # rows 0, 8, 16 (row_step=8)
        gap = abs(c1 - c2)
        assert gap >= min_gap and size - gap >= min_gap            # far apart, also around the border
        for j in range(2):                                         # each box holds a "+" or an "x"
            box = (img[0][mask[j]].reshape(3, 3) > 0.5).numpy()
            assert any(np.array_equal(box, D.SHAPES[t] > 0) for t in D.TARGETS)


def test_two_marks_same_row_no_single_mark_settles_the_label():
    # P(label = 1 | row of one mark) must be 1/2 for every row of either mark: compare with a
    # binomial tolerance (4 standard errors, so that the test fails only for a real dependence).
    n = 6000
    _, labels, masks = D.two_marks(n, min_gap=12, relation="same_row", seed=0)
    assert abs(labels.float().mean().item() - 0.5) < 4 * 0.5 / np.sqrt(n)
    for j in range(2):
        rows = masks[:, j].any(2).float().argmax(1)
        assert sorted(rows.unique().tolist()) == [0, 8, 16]
        for r in (0, 8, 16):
            sel = labels[rows == r].float()
            assert abs(sel.mean().item() - 0.5) < 4 * 0.5 / np.sqrt(len(sel)), (j, r)
            # and each row of one mark is about equally likely whatever the label
            assert abs((rows == r).float().mean().item() - 1 / 3) < 0.03


def test_two_marks_same_row_errors_and_other_relations_unchanged():
    with pytest.raises(ValueError, match="min_gap"):
        D.two_marks(4, size=24, min_gap=13, relation="same_row")   # 13 > 24 / 2
    with pytest.raises(ValueError, match="row_step"):
        D.two_marks(4, size=12, min_gap=6, relation="same_row", row_step=10)
    # "left_of" still labels by the columns of the "+" (first) and the "x" (second)
    _, labels, masks = D.two_marks(50, size=24, min_gap=12, seed=0)
    plus_cols = masks[:, 0].any(1).float().argmax(1)
    cross_cols = masks[:, 1].any(1).float().argmax(1)
    assert torch.equal(labels, (plus_cols < cross_cols).long())


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


def test_draw_marks():
    img = D.draw_marks([("plus", 0, 0), ("cross", 5, 6)], size=10)
    assert img.shape == (1, 10, 10)
    np.testing.assert_array_equal(img[0, :3, :3].numpy(), D.SHAPES["plus"])
    np.testing.assert_array_equal(img[0, 5:8, 6:9].numpy(), D.SHAPES["cross"])
    assert img.sum() == D.SHAPES["plus"].sum() + D.SHAPES["cross"].sum()
    with pytest.raises(ValueError, match="does not fit"):
        D.draw_marks([("plus", 8, 0)], size=10)
    with pytest.raises(ValueError, match="not known"):
        D.draw_marks([("star", 0, 0)], size=10)


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
