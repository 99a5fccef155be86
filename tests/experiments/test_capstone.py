"""Lesson 06's capstone module: its data, its two matched models and its controls."""
import numpy as np
import pytest
import torch

from course_lib.experiments import capstone as C
from course_lib.data import shapes as D
from course_lib.layers.models import count_parameters


def _seeded(seed=0):
    torch.manual_seed(seed)


@pytest.mark.parametrize("kw", [dict(), dict(relation="same"), dict(relation="same_row", min_gap=12)])
def test_two_marks_is_deterministic_and_depends_on_seed(kw):
    a, b, c = C.two_marks(20, seed=0, **kw), C.two_marks(20, seed=0, **kw), C.two_marks(20, seed=1, **kw)
    assert all(torch.equal(x, y) for x, y in zip(a, b))
    assert not torch.equal(a[0], c[0])


def test_two_marks_left_of_labels_and_gap():
    images, labels, masks = C.two_marks(200, size=24, min_gap=10, seed=1)
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
    images, labels, masks = C.two_marks(100, relation="same", seed=2)
    assert 0.3 < labels.float().mean() < 0.7
    for img, label, mask in zip(images, labels, masks):
        a, b = (img[0][mask[j]].reshape(3, 3) > 0.5 for j in range(2))
        assert torch.equal(a, b) == bool(label)
    with pytest.raises(ValueError, match="relation"):
        C.two_marks(4, relation="above")
    with pytest.raises(ValueError, match="min_gap"):
        C.two_marks(4, size=12, min_gap=11)


def _box_corner(mask):
    """Top-left (row, col) of the True box of a (size, size) mask."""
    r, c = torch.nonzero(mask)[0]
    return int(r), int(c)


def test_two_marks_same_row_labels_rows_and_gap():
    size, min_gap = 24, 12
    images, labels, masks = C.two_marks(300, size=size, min_gap=min_gap, relation="same_row", seed=4)
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
    _, labels, masks = C.two_marks(n, min_gap=12, relation="same_row", seed=0)
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
        C.two_marks(4, size=24, min_gap=13, relation="same_row")   # 13 > 24 / 2
    with pytest.raises(ValueError, match="row_step"):
        C.two_marks(4, size=12, min_gap=6, relation="same_row", row_step=10)
    # "left_of" still labels by the columns of the "+" (first) and the "x" (second)
    _, labels, masks = C.two_marks(50, size=24, min_gap=12, seed=0)
    plus_cols = masks[:, 0].any(1).float().argmax(1)
    cross_cols = masks[:, 1].any(1).float().argmax(1)
    assert torch.equal(labels, (plus_cols < cross_cols).long())


def test_draw_marks():
    img = C.draw_marks([("plus", 0, 0), ("cross", 5, 6)], size=10)
    assert img.shape == (1, 10, 10)
    np.testing.assert_array_equal(img[0, :3, :3].numpy(), D.SHAPES["plus"])
    np.testing.assert_array_equal(img[0, 5:8, 6:9].numpy(), D.SHAPES["cross"])
    assert img.sum() == D.SHAPES["plus"].sum() + D.SHAPES["cross"].sum()
    with pytest.raises(ValueError, match="does not fit"):
        C.draw_marks([("plus", 8, 0)], size=10)
    with pytest.raises(ValueError, match="not known"):
        C.draw_marks([("star", 0, 0)], size=10)


def test_tiny_vit_shapes_and_cls_attention():
    _seeded()
    model = C.TinyViT(image_size=12, patch=4, dim=8, depth=2, heads=2)
    logits, weights = model(torch.rand(3, 1, 12, 12))
    assert logits.shape == (3, 2) and len(weights) == 2
    assert weights[0].shape == (3, 2, 10, 10)
    cls = model.cls_attention(weights)
    assert cls.shape == (3, 3, 3)
    assert bool((cls.sum(dim=(1, 2)) <= 1 + 1e-6).all())
    with pytest.raises(ValueError, match="H=12"):
        model(torch.rand(3, 1, 16, 16))
    with pytest.raises(ValueError, match="multiple"):
        C.TinyViT(image_size=10, patch=4)


@pytest.mark.parametrize("depth", [1, 2, 3, 4])
def test_tiny_cnn_receptive_field_matches_gradient_footprint(depth):
    # Independent reference: the pixels whose value can change one output unit are exactly those
    # with a non-zero gradient. Use positive weights so no gradient cancels by accident.
    _seeded()
    model = C.TinyCNN(width=4, depth=depth)
    for p in model.parameters():
        p.data = p.data.abs() + 0.01
    x = torch.rand(1, 1, 32, 32, requires_grad=True)
    f = model.features(x)
    centre = f.shape[-1] // 2
    f[0, 0, centre, centre].backward()
    rows = torch.nonzero(x.grad[0, 0].abs().sum(1))
    assert rows.max() - rows.min() + 1 == model.receptive_field


def test_tiny_cnn_logits_are_the_mean_of_class_maps():
    _seeded()
    model = C.TinyCNN(num_classes=3)
    x = torch.rand(2, 1, 16, 16)
    logits, maps = model(x)
    assert maps.shape == (2, 3, 8, 8)
    torch.testing.assert_close(logits, model.head(model.features(x).mean(dim=(2, 3))),
                               atol=1e-5, rtol=1e-5)


def test_circular_cnn_cannot_tell_where_things_are():
    # With wrap-around padding, shifting the image (by a multiple of the stride) shifts every
    # feature map, and the global average does not change: the logits are identical.
    _seeded()
    model = C.TinyCNN(padding_mode="circular")
    x = torch.rand(2, 1, 16, 16)
    shifted = torch.roll(x, shifts=(4, -6), dims=(2, 3))
    torch.testing.assert_close(model(x)[0], model(shifted)[0], atol=1e-5, rtol=1e-5)
    zero_padded = C.TinyCNN()
    assert not torch.allclose(zero_padded(x)[0], zero_padded(shifted)[0], atol=1e-5)




def test_controlled_pairs_differ_only_in_the_relation():
    pairs, labels = C.controlled_pairs(20, seed=3)
    assert pairs.shape == (40, 1, 24, 24) and labels.tolist() == [1, 0] * 20
    same, moved = pairs[0::2, 0], pairs[1::2, 0]
    torch.testing.assert_close(same.sum(dim=(1, 2)), moved.sum(dim=(1, 2)))
    # the background repeats every 8 rows, so the moved image is the same image with the second
    # mark's column band rolled by a multiple of 8 rows
    for a, b in zip(same, moved):
        differ = (a != b).any(0).nonzero()[:, 0]
        assert differ.max() - differ.min() <= 2            # only the second mark's 3 columns
        band = slice(int(differ.min()), int(differ.max()) + 1)
        assert any(torch.equal(torch.roll(a[:, band], k, 0), b[:, band]) for k in (8, 16))


def test_a_circular_cnn_gives_both_members_of_a_pair_the_same_logits():
    # the proof of the lesson's section 4, for any weights (here: random ones)
    pairs, _ = C.controlled_pairs(10)
    for seed in range(3):
        logits, _ = C.make_model("cnn", seed)(pairs)
        torch.testing.assert_close(logits[0::2], logits[1::2], atol=1e-5, rtol=1e-5)


def test_matched_models_and_the_uniform_control():
    sizes = {k: count_parameters(C.make_model(k)) for k in C.CONFIGS}
    assert abs(sizes["cnn"] / sizes["vit"] - 1) <= 0.1
    assert sizes["vit, uniform weights"] == sizes["vit"]
    vit = C.make_model("vit, uniform weights")
    _, weights = vit(torch.rand(2, 1, 24, 24))
    for w in weights:
        torch.testing.assert_close(w, torch.full_like(w, 1 / 37))
    with pytest.raises(ValueError, match="model_name"):
        C.make_model("mlp")


def test_uniform_mixing_equals_attention_with_equal_scores():
    torch.manual_seed(0)
    vit = C.TinyViT(heads=2)
    attn = vit.blocks[0].attn
    x = torch.rand(3, 5, 16)
    out, _ = C.UniformMixing(attn)(x)
    # attention whose query and key projections are zero scores every key equally
    torch.nn.init.zeros_(attn.q_proj.weight), torch.nn.init.zeros_(attn.q_proj.bias)
    ref, w = attn(x)
    torch.testing.assert_close(out, ref, atol=1e-6, rtol=1e-5)


def test_sincos_positions_share_the_row_half_within_a_row():
    codes = C.sincos_positions(6, 16).reshape(6, 6, 16)
    assert torch.equal(codes[2, 0, :8], codes[2, 5, :8])      # same row: same row code
    assert not torch.allclose(codes[0, 0, :8], codes[2, 0, :8])
    assert torch.equal(codes[0, 3, 8:], codes[4, 3, 8:])      # same column: same column code
    with pytest.raises(ValueError, match="multiple of 4"):
        C.sincos_positions(6, 10)


def test_schedule_warms_up_then_decays_to_zero():
    lrs = [C.learning_rate(s, 100, 1.0, 10) for s in range(100)]
    assert lrs[0] < lrs[5] < lrs[9] and max(lrs) <= 1.0
    assert all(a >= b for a, b in zip(lrs[10:], lrs[11:])) and lrs[-1] < 0.01


def test_fit_is_deterministic_and_saliency_sums_to_one():
    x, y, _ = C.two_marks(64, min_gap=12, relation="same_row", seed=0)
    budget = dict(C.BUDGET, steps=3)
    a, b = C.make_model("vit", 1), C.make_model("vit", 1)
    assert (C.train_with_budget(a, (x, y), budget, seed=2, progress=False)
            == C.train_with_budget(b, (x, y), budget, seed=2, progress=False))
    maps = C.saliency(C.make_model("cnn"), x[:5])
    assert maps.shape == (5, 24, 24)
    torch.testing.assert_close(maps.sum(dim=(1, 2)), torch.ones(5))
    mass, chance = C.mass_on_marks(maps, torch.ones(5, 24, 24, dtype=torch.bool))
    assert abs(mass - 1) < 1e-5 and chance == 1.0


@pytest.mark.parametrize("depth", [1, 2, 3, 4])
@pytest.mark.parametrize("size", [24, 16, 10, 9])
def test_cnn_wrapping_the_image_once_equals_wrapping_every_layer(depth, size):
    """The fast path of TinyCNN.feature_maps gives the layer-by-layer circular convolution."""
    torch.manual_seed(depth * 100 + size)
    model = C.TinyCNN(width=5, depth=depth, padding_mode="circular").double()
    x = torch.randn(3, 1, size, size, dtype=torch.float64)
    torch.testing.assert_close(model.feature_maps(x), model.features(x), rtol=0, atol=1e-12)


# ---- the rivals (issue 18): fixed mixing, an MLP on pixels, max pooling, a whole-image CNN ----
def test_every_model_is_within_ten_percent_of_the_vit_and_the_cnn():
    sizes = {k: count_parameters(C.make_model(k)) for k in C.CONFIGS}
    for kind, n in sizes.items():
        for reference in ("vit", "cnn"):
            assert abs(n / sizes[reference] - 1) <= 0.1, (kind, n, reference, sizes[reference])
    for task, kinds in C.TASK_MODELS.items():
        assert set(kinds) <= set(C.CONFIGS) and {"vit", "cnn"} <= set(kinds), task
        assert set(C.LEARNING_RATES[task]) == set(kinds), task


@pytest.mark.parametrize("kind", sorted(C.CONFIGS))
def test_every_model_maps_a_batch_of_images_to_two_logits(kind):
    model = C.make_model(kind, seed=1)
    logits, _ = model(torch.rand(5, 1, 24, 24))
    assert logits.shape == (5, 2) and bool(torch.isfinite(logits).all())
    with pytest.raises(ValueError, match="images"):
        model(torch.rand(5, 24, 24))


def test_fixed_mixing_is_one_learned_matrix_that_ignores_the_input():
    _seeded()
    vit = C.make_model("vit, fixed mixing")
    assert all(isinstance(b.attn, C.FixedMixing) for b in vit.blocks)
    assert vit.blocks[0].attn.mixing.shape == (37, 37)
    # at initialisation it is the uniform average: the uniform control before training
    x = torch.rand(2, 37, 16)
    out, w = vit.blocks[0].attn(x)
    torch.testing.assert_close(out, x.mean(1, keepdim=True).expand_as(x))
    assert w.shape == (2, 1, 37, 37)
    # whatever it learned, two different images get the same weights
    with torch.no_grad():
        vit.blocks[0].attn.mixing.normal_()
    _, w1 = vit(torch.rand(1, 1, 24, 24))
    _, w2 = vit(torch.rand(1, 1, 24, 24))
    assert all(torch.equal(a, b) for a, b in zip(w1, w2))
    assert vit.cls_attention(w1).shape == (1, 6, 6)
    with pytest.raises(ValueError, match="n=37"):
        vit.blocks[0].attn(torch.rand(2, 36, 16))


def test_tiny_vit_mixing_names_are_checked():
    with pytest.raises(ValueError, match="mixing"):
        C.TinyViT(mixing="random")
    with pytest.raises(ValueError, match="contradict"):
        C.TinyViT(uniform=True, mixing="fixed")
    assert isinstance(C.TinyViT(uniform=True).blocks[0].attn, C.UniformMixing)


def test_pixel_mlp_reads_every_pixel_with_one_weight_each():
    _seeded()
    mlp = C.make_model("mlp on pixels")
    x = torch.rand(1, 1, 24, 24, requires_grad=True)
    mlp(x)[0][0, 1].backward()
    assert bool((x.grad != 0).float().mean() > 0.99)          # reach: (nearly) every pixel counts
    with pytest.raises(ValueError, match="H=24"):
        mlp(torch.rand(2, 1, 16, 16))


def test_max_pooling_cnn_takes_each_channels_largest_value():
    _seeded()
    model = C.make_model("cnn, max pooling")
    x = torch.rand(3, 1, 24, 24)
    logits, maps = model(x)
    torch.testing.assert_close(logits, model.head(model.features(x).amax(dim=(2, 3))))
    assert maps.shape == (3, 2, 12, 12)
    with pytest.raises(ValueError, match="pooling"):
        C.TinyCNN(pooling="median")


def test_whole_image_cnn_sees_more_than_the_image():
    model = C.make_model("cnn, whole-image field")
    assert model.receptive_field >= 24
    assert C.make_model("cnn").receptive_field == 9
    with pytest.raises(ValueError, match="strides"):
        C.TinyCNN(depth=3, strides=(1, 2))
    with pytest.raises(ValueError, match="strides"):
        C.TinyCNN(depth=2, strides=(1, 3))


@pytest.mark.parametrize("strides", [(1, 2, 2, 2, 1), (2, 1, 1)])
def test_receptive_field_with_any_strides_matches_the_gradient_footprint(strides):
    _seeded()
    model = C.TinyCNN(width=3, depth=len(strides), strides=strides)
    for p in model.parameters():
        p.data = p.data.abs() + 0.01
    x = torch.rand(1, 1, 64, 64, requires_grad=True)
    f = model.features(x)
    centre = f.shape[-1] // 2
    f[0, 0, centre, centre].backward()
    rows = torch.nonzero(x.grad[0, 0].abs().sum(1))
    assert rows.max() - rows.min() + 1 == model.receptive_field


def test_max_pooling_cnn_also_gives_both_members_of_a_pair_the_same_logits():
    # the section 4 argument holds for any pooling over positions: each window sees one mark
    pairs, _ = C.controlled_pairs(10)
    logits, _ = C.make_model("cnn, max pooling", 2)(pairs)
    torch.testing.assert_close(logits[0::2], logits[1::2], atol=1e-5, rtol=1e-5)


def test_budget_for_each_model_and_its_errors():
    b = C.budget_for("local", "vit", lr=1e-2)
    assert b == dict(C.LOCAL_BUDGET, lr=1e-2)
    assert C.budget_for("long-range", "mlp on pixels")["steps"] == C.BUDGET["steps"]
    with pytest.raises(ValueError, match="task"):
        C.budget_for("global", "vit")
    with pytest.raises(ValueError, match="kind"):
        C.budget_for("local", "vit, uniform weights")


def test_run_functions_train_every_model_and_report_the_metrics(monkeypatch):
    monkeypatch.setitem(C.BUDGETS, "local", dict(C.LOCAL_BUDGET, steps=2))
    monkeypatch.setitem(C.BUDGETS, "long-range", dict(C.BUDGET, steps=2))
    local, far = C.run_local(0), C.run_long_range(0)
    vit = C.fit("vit", "long-range", seed=0)                  # the verb the lesson calls
    assert len(vit.losses) == 2 and not vit.training
    assert C.evaluate(vit, "long-range") == far["vit"]        # the same seed, the same model
    assert list(local) == list(C.TASK_MODELS["local"])
    assert list(far) == list(C.TASK_MODELS["long-range"])
    assert all(set(m) == {"accuracy", "train accuracy"} for m in local.values())
    for kind, m in far.items():
        # "on marks" (the class token's weight on the marks / uniform) only where there is attention
        assert set(m) == {"accuracy", "train accuracy", "pairs"} | ({"on marks"} if kind == "vit" else set())
        assert 0 <= m["pairs"] <= 1 and 0 <= m["train accuracy"] <= 1
    assert far["vit"]["on marks"] > 0


def test_class_token_on_marks_reads_each_layer_and_uniform_weights_give_the_uniform_share():
    (_, _, _), (x, _, m) = C.shared_task("long-range")
    vit = C.make_model("vit")
    per_layer = C.class_token_on_marks(vit, x[:20], m[:20])
    assert len(per_layer) == len(vit.blocks)
    uniform = C.make_model("vit, uniform weights")
    for mass, share in C.class_token_on_marks(uniform, x[:20], m[:20]):
        assert mass == pytest.approx(share, abs=1e-5)
    with pytest.raises(ValueError, match="masks"):
        C.class_token_on_marks(vit, x[:20], m[:20, 0])


def test_claims_read_only_the_models_a_run_has():
    everyone = {kind: {"accuracy": 1.0, "train accuracy": 1.0} for kind in C.TASK_MODELS["local"]}
    assert C.claims("local", {"cnn": everyone["cnn"]}) == {
        "the CNN (a 9 x 9 field: the locality prior): >= 0.95 of held-out images": True}
    beats = "the CNN beats the ViT, fixed mixing and the MLP on pixels by >= 0.02"
    assert not C.claims("local", everyone)[beats]                 # a tie is no lead
    vit_behind = dict(everyone, vit={"accuracy": 0.7, "train accuracy": 1.0},
                      **{k: {"accuracy": 0.5, "train accuracy": 1.0} for k in ("vit, fixed mixing", "mlp on pixels")})
    assert C.claims("local", vit_behind)[beats]
    assert len(C.claims("local", vit_behind)) == len(C.CLAIMS["local"])
    with pytest.raises(ValueError, match="task"):
        C.claims("global", everyone)
    over = C.claims_over_seeds("local", {"runs": {0: everyone, 1: vit_behind}})
    assert over[beats] == [1]


def test_each_task_is_made_alone_and_unknown_tasks_are_named():
    (x, y, m), (tx, ty, tm) = C.make_task("local")
    assert (len(y), len(ty)) == (300, 300) and x.shape[1:] == (1, 24, 24)
    (x, y, m), (tx, ty, tm) = C.make_task("long-range")
    assert (len(y), len(ty)) == (1200, 300) and m.shape[1:] == (2, 24, 24)
    with pytest.raises(ValueError, match="task='global' is not known"):
        C.make_task("global")
