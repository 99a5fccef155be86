"""Visual associative recall (lesson 05, section 2b; course_lib/experiments/visual_recall.py): the canvases hold what they claim, every model
has the interface and the parameter budget the experiment promises, and bad input is named."""
import numpy as np
import pytest
import torch

from course_lib.data import digits
from course_lib.experiments import visual_recall as R
from course_lib.layers.models import count_parameters


@pytest.fixture(scope="module")
def pools():
    return digits.digit_pools(seed=0)


@pytest.fixture(scope="module")
def canvases(pools):
    return R.recall_canvases(pools[0], 60, seed=3)


def test_canvases_are_deterministic_and_in_range(pools, canvases):
    images, labels, where = canvases
    again = R.recall_canvases(pools[0], 60, seed=3)
    other = R.recall_canvases(pools[0], 60, seed=4)
    assert torch.equal(images, again[0]) and torch.equal(labels, again[1])
    assert not torch.equal(images, other[0])
    assert images.shape == (60, 1, 32, 32) and images.dtype == torch.float32
    assert float(images.min()) >= 0.0 and float(images.max()) <= 1.0
    assert labels.dtype == torch.int64 and where["items"].shape == (60, 3, 2)


def test_the_label_is_the_digit_beside_the_cued_mark(canvases):
    images, labels, where = canvases
    n = len(labels)
    # three different shapes and three different classes on every canvas
    assert all(len(set(s.tolist())) == 3 for s in where["shapes"])
    assert all(len(set(d.tolist())) == 3 for d in where["digits"])
    torch.testing.assert_close(labels, where["digits"][torch.arange(n), where["target"]])
    for img, items, shapes, target in zip(images[:, 0].numpy(), where["items"], where["shapes"],
                                          where["target"]):
        for (r, c), shape in zip(items.tolist(), shapes.tolist()):
            mark = R.SHAPES[R.SHAPE_NAMES[shape]]
            patch = img[r + R.MARK_ROW : r + R.MARK_ROW + R.MARK, c : c + R.MARK]
            # the mark's ink is its brightness s in [0.6, 1]; pixel = max(background, ink)
            s = patch[mark == 1].min()
            assert 0.6 - 1e-5 <= s and np.all(patch >= s * mark - 1e-5)
        # the cue in the corner is the target's shape
        cue = img[R.MARK_ROW : R.MARK_ROW + R.MARK, R.MARK_COL : R.MARK_COL + R.MARK]
        shape = R.SHAPES[R.SHAPE_NAMES[int(shapes[target])]]
        assert cue[shape == 1].min() >= 0.6 - 1e-5


def test_items_never_overlap_each_other_or_the_cue_corner(canvases):
    _, _, where = canvases
    for items in where["items"].tolist():
        taken = np.zeros((R.SIZE, R.SIZE), int)
        taken[: R.RESERVED_ROWS, : R.RESERVED_COLS] += 1
        for r, c in items:
            assert 0 <= r <= R.SIZE - R.ITEM_H and 0 <= c <= R.SIZE - R.ITEM_W
            taken[r : r + R.ITEM_H, c : c + R.ITEM_W] += 1
        assert taken.max() == 1


def test_items_go_everywhere_and_every_shape_is_a_cue(pools):
    _, labels, where = R.recall_canvases(pools[0], 400, seed=0)
    rows, cols = where["items"][..., 0], where["items"][..., 1]
    assert rows.min() == 0 and rows.max() == R.SIZE - R.ITEM_H
    assert cols.min() == 0 and cols.max() == R.SIZE - R.ITEM_W
    cued = where["shapes"][torch.arange(400), where["target"]]
    assert set(cued.tolist()) == set(range(len(R.SHAPES)))
    assert set(labels.tolist()) == set(range(10))
    assert np.bincount(where["target"].numpy(), minlength=3).min() > 100


def test_marks_are_different_shapes_of_one_size():
    shapes = list(R.SHAPES.values())
    assert all(s.shape == (R.MARK, R.MARK) for s in shapes)
    assert len({s.tobytes() for s in shapes}) == len(shapes)


@pytest.mark.parametrize("name", R.MODELS)
def test_every_model_gives_logits_and_a_weight_map(name, canvases):
    torch.manual_seed(0)
    model = R.build(name)
    logits, weights = model(canvases[0][:5])
    assert logits.shape == (5, 10) and weights.shape == (5, R.GRID, R.GRID)
    torch.testing.assert_close(weights.sum(dim=(1, 2)), torch.ones(5))


def test_attention_never_reads_the_cue_itself(canvases):
    torch.manual_seed(0)
    _, weights = R.build("attention")(canvases[0][:5])
    mask = R.cue_mask().reshape(R.GRID, R.GRID)
    assert not mask[0, 0] and mask.sum() > 0.9 * R.GRID**2
    assert torch.all(weights[:, ~mask] == 0)


def test_attention_weights_follow_the_cue(canvases):
    # the same canvas with a different cue shape: only attention's weights can change with it
    images = canvases[0][:1].clone()
    other = images.clone()
    r0, c0 = R.MARK_ROW, R.MARK_COL
    other[0, 0, r0 : r0 + R.MARK, c0 : c0 + R.MARK] = torch.from_numpy(R.SHAPES["plus"]) * 0.8
    images[0, 0, r0 : r0 + R.MARK, c0 : c0 + R.MARK] = torch.from_numpy(R.SHAPES["ring"]) * 0.8
    for name in R.RecallModel.POOLINGS:
        torch.manual_seed(0)
        model = R.build(name)
        a, b = model(images)[1], model(other)[1]
        if name == "attention":
            assert not torch.allclose(a, b)
        elif name != "max":       # max pooling's map moves only where the cue is the maximum
            torch.testing.assert_close(a, b)


def test_the_rivals_have_the_attention_models_parameters_within_ten_percent():
    counts = R.parameter_counts()
    assert set(counts) == set(R.MODELS)
    for name, count in counts.items():
        assert abs(count - counts["attention"]) <= 0.10 * counts["attention"], (name, counts)
    assert counts == {name: count_parameters(R.build(name)) for name in R.MODELS}


def test_mass_on_target_hand_case():
    where = {"items": torch.tensor([[[10, 12], [20, 0], [0, 18]]]), "target": torch.tensor([0])}
    weights = torch.zeros(1, R.GRID, R.GRID)
    weights[0, 5, 5] = 1.0         # the window at pixel (10, 10): the first item's mark window
    assert R.mass_on_target(weights, where) == pytest.approx(1.0)
    weights = torch.zeros(1, R.GRID, R.GRID)
    weights[0, 10, 0] = 1.0        # the second item's mark window: not the cued one
    assert R.mass_on_target(weights, where) == 0.0


def test_bad_input_is_named(pools):
    with pytest.raises(ValueError, match="n must be"):
        R.recall_canvases(pools[0], 0)
    with pytest.raises(TypeError, match="pool"):
        R.recall_canvases(np.zeros((3, 8, 8)), 2)
    few = digits.DigitPool(pools[0].images[:4], np.array([1, 1, 2, 2]))
    with pytest.raises(ValueError, match="pool: needs digits of at least 3 classes"):
        R.recall_canvases(few, 2)
    with pytest.raises(ValueError, match=r"images: expected shape \(B, 1, 32, 32\), got \(2, 1, 24, 24\)"):
        R.build("attention")(torch.rand(2, 1, 24, 24))
    with pytest.raises(TypeError, match="images"):
        R.build("cnn")(torch.zeros(2, 1, 32, 32, dtype=torch.int64))
    with pytest.raises(ValueError, match="name='vit'"):
        R.build("vit")
    with pytest.raises(ValueError, match="pooling='ink'"):
        R.RecallModel(pooling="ink")


def _item_places_on_an_image(rng):
    """The first, plainest form of item_places: mark taken pixels on a boolean image, and accept
    a place when the block grown by one pixel touches no marked pixel."""
    while True:
        occupied = np.zeros((R.SIZE, R.SIZE), bool)
        occupied[:R.RESERVED_ROWS, :R.RESERVED_COLS] = True
        places = []
        for _ in range(R.N_ITEMS):
            for _ in range(50):
                r = int(rng.integers(0, R.SIZE - R.ITEM_H + 1))
                c = int(rng.integers(0, R.SIZE - R.ITEM_W + 1))
                if not occupied[max(r - 1, 0): r + R.ITEM_H + 1, max(c - 1, 0): c + R.ITEM_W + 1].any():
                    occupied[r: r + R.ITEM_H, c: c + R.ITEM_W] = True
                    places.append((r, c))
                    break
            else:
                break
        if len(places) == R.N_ITEMS:
            return np.array(places, np.int64)


def test_item_places_are_the_boolean_image_rule_draw_for_draw():
    """The integer overlap test gives the same places from the same random stream as marking
    pixels on an image (so the stored sweeps and shipped weights keep their data), and leaves
    the generator in the same state."""
    for seed in range(300):
        fast, plain = np.random.default_rng(seed), np.random.default_rng(seed)
        for _ in range(3):
            assert np.array_equal(R.item_places(fast), _item_places_on_an_image(plain)), seed
        assert fast.integers(1 << 30) == plain.integers(1 << 30)
