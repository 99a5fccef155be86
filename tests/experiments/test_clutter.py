"""Cluttered digits (lesson 05; course_lib/data/digits.py and course_lib/experiments/clutter.py): the
data is what it claims, the model's controls do what they say."""
import numpy as np
import pytest
import torch

from course_lib.data import digits as D
from course_lib.experiments import clutter as C
from course_lib.layers import models


@pytest.fixture(scope="module")
def pools():
    return D.digit_pools(seed=0)


def test_pools_split_by_digit_image(pools):
    train, test = pools
    assert len(train.labels) + len(test.labels) == 1797
    assert train.images.shape[1:] == (8, 8) and 0.0 <= train.images.min() and train.images.max() <= 1.0
    # no test digit appears in the training pool (held out by image, not only by canvas)
    train_rows = {im.tobytes() for im in train.images}
    assert sum(im.tobytes() in train_rows for im in test.images) <= 2  # load_digits has a few exact twins
    assert set(test.labels.tolist()) == set(range(10))


def test_cluttered_digits_are_deterministic(pools):
    a = D.cluttered_digits(pools[0], 20, seed=3)
    b = D.cluttered_digits(pools[0], 20, seed=3)
    c = D.cluttered_digits(pools[0], 20, seed=4)
    assert all(torch.equal(x, y) for x, y in zip(a, b))
    assert not torch.equal(a[0], c[0])


def test_the_box_holds_the_labelled_digit(pools):
    train, _ = pools
    images, labels, boxes = D.cluttered_digits(train, 200, size=24, n_fragments=4, seed=1)
    assert images.shape == (200, 1, 24, 24) and images.dtype == torch.float32
    assert float(images.min()) >= 0.0 and float(images.max()) <= 1.0
    assert labels.dtype == torch.int64 and set(labels.tolist()) == set(range(10))
    assert bool(((boxes[:, 2] - boxes[:, 0]) == 8).all()) and int(boxes.max()) <= 24
    # without fragments, the box is max(background, s * digit) for one digit of this class and
    # one brightness s in [0.6, 1]: where s * digit is brighter than any background, it is exact
    images, labels, boxes = D.cluttered_digits(train, 30, size=24, n_fragments=0, seed=2)
    for img, label, (r, c, _, _) in zip(images, labels, boxes):
        box = img[0, r : r + 8, c : c + 8].numpy()
        found = False
        for d in train.images[train.labels == label.item()]:
            peak = np.unravel_index(d.argmax(), d.shape)
            s = box[peak] / d[peak]
            ink = s * d > 0.62    # backgrounds stay below 0.35 + 3 * 0.16 ~ 0.6 only rarely
            if 0.6 - 1e-4 <= s <= 1 + 1e-4 and (box + 1e-5 >= s * d).all() and np.allclose(box[ink], s * d[ink], atol=1e-5):
                found = True
                break
        assert found


def test_labels_are_balanced_and_boxes_cover_the_canvas(pools):
    _, labels, boxes = D.cluttered_digits(pools[0], 2000, seed=0)
    counts = np.bincount(labels.numpy(), minlength=10)
    assert counts.min() > 150
    # the digit's position is uniform: every corner region is used
    assert boxes[:, 0].min() == 0 and boxes[:, 0].max() == 16 and boxes[:, 1].min() == 0


def test_box_masks_and_mass_on_box_hand_case():
    boxes = torch.tensor([[2, 3, 10, 11]])
    mask = D.box_masks(boxes, 24)
    assert mask.sum() == 64 and mask[0, 2, 3] and not mask[0, 10, 3] and not mask[0, 2, 11]
    weights = torch.zeros(1, 17, 17)
    weights[0, 2, 3] = 1.0                          # the window that is exactly the digit's box
    mass, chance = C.mass_on_box(weights, boxes)
    assert mass == pytest.approx(1.0) and chance == pytest.approx(64 / 576)
    weights = torch.zeros(1, 17, 17)
    weights[0, 6, 7] = 1.0                          # shifted by 4 x 4: a quarter overlaps
    assert C.mass_on_box(weights, boxes)[0] == pytest.approx(0.25)


def test_weights_on_pixels_keep_the_total():
    w = torch.softmax(torch.randn(3, 17 * 17), -1).reshape(3, 17, 17)
    pixels = models.weights_on_pixels(w)
    assert pixels.shape == (3, 24, 24)
    torch.testing.assert_close(pixels.sum(dim=(1, 2)), torch.ones(3, dtype=pixels.dtype))


@pytest.mark.parametrize("pooling", C.ClutterClassifier.POOLINGS)
def test_classifier_shapes_and_weights(pooling):
    torch.manual_seed(0)
    model = C.ClutterClassifier(pooling=pooling)
    images = torch.rand(5, 1, 24, 24)
    logits, weights = model(images)
    assert logits.shape == (5, 10) and weights.shape == (5, 17, 17)
    torch.testing.assert_close(weights.sum(dim=(1, 2)), torch.ones(5))
    if pooling == "uniform":
        assert torch.all(weights == 1 / 289)
    if pooling == "ink":   # one-hot on the brightest 8 x 8 window
        brightest = C.ink_scores(images).flatten(1).argmax(1)
        assert torch.equal(weights.flatten(1).argmax(1), brightest) and weights.max() == 1.0
    if pooling == "mixing":  # input-independent: the same map for every canvas
        assert torch.equal(weights, weights[:1].expand_as(weights))
    if pooling == "max":     # each of the 32 channels votes for the window of its maximum
        assert torch.all(torch.remainder(weights * 32, 1).abs() < 1e-5)


def test_max_pooling_takes_each_channels_largest_value():
    torch.manual_seed(0)
    model = C.ClutterClassifier(pooling="max")
    images = torch.rand(3, 1, 24, 24)
    tokens = model.features((images - 0.3) / 0.25).flatten(2)            # (3, 32, 289)
    torch.testing.assert_close(model(images)[0], model.head(tokens.amax(-1)))
    hand = torch.tensor([[[1.0, 0.0], [3.0, 0.0], [2.0, 5.0]]])         # (1, n=3, dim=2)
    torch.testing.assert_close(models.max_pooling_map(hand), torch.tensor([[0.0, 0.5, 0.5]]))
    with pytest.raises(ValueError, match="tokens"):
        models.max_pooling_map(torch.rand(3, 4))


def test_fixed_mixing_starts_uniform_and_needs_the_canvas_size_it_learned():
    model = C.ClutterClassifier(pooling="mixing")
    images = torch.rand(2, 1, 24, 24)
    torch.testing.assert_close(model(images)[1], torch.full((2, 17, 17), 1 / 289))
    with pytest.raises(ValueError, match=r"images: a mixing model .* 24 x 24 canvas, got canvases of \(28, 28\)"):
        model(torch.rand(2, 1, 28, 28))


def test_the_rivals_have_the_attention_models_parameters_within_ten_percent():
    counts = {p: sum(t.numel() for t in C.ClutterClassifier(pooling=p).parameters())
              for p in C.ClutterClassifier.POOLINGS}
    for pooling, count in counts.items():
        assert abs(count - counts["attention"]) <= 0.10 * counts["attention"], counts
    assert counts["mixing"] == counts["attention"] + 289 and counts["attention"] < 6000


def test_errors_name_the_argument(pools):
    with pytest.raises(ValueError, match="pooling"):
        C.ClutterClassifier(pooling="median")
    with pytest.raises(ValueError, match="fragment"):
        D.cluttered_digits(pools[0], 2, fragment=9)
    with pytest.raises(ValueError, match="n must be"):
        D.cluttered_digits(pools[0], 0)
    with pytest.raises(ValueError, match="images"):
        C.ClutterClassifier()(torch.rand(2, 3, 24, 24))


def test_a_function_can_replace_the_pooling():
    def mean_pooling(tokens):
        return tokens.mean(1), torch.full(tokens.shape[:2], 1 / tokens.shape[1])

    torch.manual_seed(0)
    mine = C.ClutterClassifier(pooling=mean_pooling)
    torch.manual_seed(0)
    theirs = C.ClutterClassifier(pooling="uniform")
    images = torch.rand(4, 1, 24, 24)
    torch.testing.assert_close(mine(images)[0], theirs(images)[0])
    torch.testing.assert_close(mine(images)[1], theirs(images)[1])


def test_digits_are_scikit_learns_load_digits():
    from sklearn.datasets import load_digits

    reference = load_digits()
    images, labels = D.load_digits()
    np.testing.assert_array_equal(images, reference.images)
    np.testing.assert_array_equal(labels, reference.target)
