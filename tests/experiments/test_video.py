"""Lesson 05 video: two real digits, one moves; the model sees raw frames only."""
import numpy as np
import pytest
import torch

from course_lib.data import digits as D
from course_lib.experiments import video as V


@pytest.fixture(scope="module")
def clips():
    train, _ = D.digit_pools(seed=0)
    return train, V.digit_videos(train, 120, frames=5, size=20, burst=2, seed=3)


def test_shapes_and_determinism(clips):
    pool, (videos, labels, moving_boxes, static_boxes, moving) = clips
    assert videos.shape == (120, 5, 1, 20, 20) and videos.dtype == torch.float32
    assert labels.dtype == torch.int64 and set(labels.tolist()) == {0, 1, 2, 3}
    assert moving_boxes.shape == (120, 5, 4) and static_boxes.shape == (120, 4)
    again = V.digit_videos(pool, 120, frames=5, size=20, burst=2, seed=3)
    assert all(torch.equal(a, b) for a, b in zip(clips[1], again))


def test_only_the_moving_digit_changes_the_frames(clips):
    _, (videos, _, moving_boxes, static_boxes, moving) = clips
    assert bool((moving.sum(1) == 2).all()) and not moving[:, 0].any()
    size = videos.shape[-1]
    for v, mb, sb, mv in zip(videos, moving_boxes, static_boxes, moving):
        for t in range(1, v.shape[0]):
            changed = (v[t, 0] - v[t - 1, 0]).abs() > 0
            if not mv[t]:
                assert not changed.any()          # still steps: nothing at all changes
                assert torch.equal(mb[t], mb[t - 1])
            else:
                # every changed pixel lies in the moving digit's old or new box, never the static one
                boxes = D.box_masks(torch.stack([mb[t], mb[t - 1]]), size).any(0)
                assert not (changed & ~boxes).any() and changed.any()
                assert not (changed & D.box_masks(sb[None], size)[0]).any()
        # the static digit's box is the same in every frame, and the digits never overlap
        assert (np.abs(mb[:, :2].numpy() - sb[:2].numpy()) >= 8).any(axis=1).all()


def test_the_static_digit_is_another_class_and_labels_are_balanced(clips):
    pool, _ = clips
    _, labels, _, _, _ = V.digit_videos(pool, 800, seed=0)
    counts = np.bincount(labels.numpy(), minlength=4)
    assert counts.min() > 150 and len(counts) == 4


@pytest.mark.parametrize("pooling", ["attention", "uniform"])
def test_model_shapes_and_weights(pooling):
    torch.manual_seed(0)
    model = V.VideoAttention(pooling=pooling)
    logits, spatial, temporal = model(torch.rand(3, 5, 1, 20, 20))
    assert logits.shape == (3, 4) and spatial.shape == (3, 4, 13, 13) and temporal.shape == (3, 4)
    torch.testing.assert_close(spatial.sum((-2, -1)), torch.ones(3, 4))
    torch.testing.assert_close(temporal.sum(-1), torch.ones(3))
    if pooling == "uniform":
        assert torch.all(temporal == 0.25)


def test_uniform_model_cannot_see_time():
    """With uniform weights the output depends on the frames only through their average
    features: shuffling the frames of a clip changes nothing."""
    torch.manual_seed(0)
    model = V.VideoAttention(pooling="uniform")
    clip = torch.rand(2, 5, 1, 20, 20)
    # frame 0 is left out of the values (steps are frames 1..T-1), so keep it first
    shuffled = torch.cat([clip[:, :1], clip[:, 1:][:, [2, 0, 3, 1]]], dim=1)
    torch.testing.assert_close(model(clip)[0], model(shuffled)[0])


def test_single_frame_shows_nothing_moving(clips):
    _, (videos, *_) = clips
    still = V.single_frame(videos)
    assert still.shape == (120, 2, 1, 20, 20) and torch.equal(still[:, 0], still[:, 1])


def test_errors_name_the_argument(clips):
    pool, _ = clips
    with pytest.raises(ValueError, match="burst"):
        V.digit_videos(pool, 2, frames=3, burst=3)
    with pytest.raises(ValueError, match="does not fit"):
        V.digit_videos(pool, 2, size=16, burst=4, speed=3)
    with pytest.raises(ValueError, match="classes"):
        V.digit_videos(pool, 2, classes=11)
    with pytest.raises(ValueError, match="videos"):
        V.VideoAttention()(torch.rand(2, 5, 20, 20))


# --- the rivals of section 3 (issue 18): same layers or same budget, parameters within 10% ---

@pytest.mark.parametrize("name", V.MODELS)
def test_every_model_gives_logits_and_weights_that_sum_to_one(name):
    torch.manual_seed(0)
    model = V.build(name)
    logits, spatial, temporal = model(torch.rand(3, 5, 1, 20, 20))   # every model takes whole clips
    steps = 1 if name in ("stacked-frames CNN", "one frame") else 4
    assert logits.shape == (3, 4) and spatial.shape == (3, steps, 13, 13)
    assert temporal.shape == (3, steps)
    torch.testing.assert_close(temporal.sum(-1), torch.ones(3))
    # per step, the spatial weights sum to 1 wherever the step carries weight
    per_step = spatial.sum((-2, -1))
    torch.testing.assert_close(per_step[temporal > 0], torch.ones_like(per_step[temporal > 0]))


@pytest.mark.parametrize("name", V.MODELS)
def test_every_rival_has_parameters_within_ten_percent_of_attention(name):
    from course_lib.layers.models import count_parameters

    attention = count_parameters(V.build("attention"))
    assert abs(count_parameters(V.build(name)) - attention) <= 0.10 * attention


def test_max_pooling_is_the_per_channel_maximum_of_the_same_layers():
    torch.manual_seed(0)
    model = V.VideoAttention(pooling="max")
    clip = torch.rand(2, 5, 1, 20, 20)
    f = model.features((clip.reshape(10, 1, 20, 20) - 0.3) / 0.25)
    tokens = f.reshape(2, 5, 16, 169).transpose(2, 3)
    keys = model.to_key(torch.cat([tokens[:, 1:], tokens[:, :-1]], -1)).relu()
    expected = model.head(keys.flatten(1, 2).max(1).values)
    torch.testing.assert_close(model(clip)[0], expected)


def test_channel_selection_counts_only_channels_that_fire():
    values = torch.tensor([[[0.0, 2.0, 0.0], [5.0, 1.0, 0.0], [1.0, 0.0, 0.0]]])   # (1, 3 pos, 3 ch)
    best, where = values.max(1)
    selection = V.channel_selection(values, where, best)
    # channel 0 peaks at position 1, channel 1 at position 0, channel 2 is silent: not counted
    torch.testing.assert_close(selection, torch.tensor([[0.5, 0.5, 0.0]]))


def test_fixed_mixing_gives_every_clip_the_same_weights():
    torch.manual_seed(0)
    model = V.VideoAttention(pooling="fixed")
    with torch.no_grad():
        model.spatial_logits.normal_()
        model.temporal_logits.normal_()
    _, spatial, temporal = model(torch.rand(3, 5, 1, 20, 20))
    assert torch.equal(spatial[0], spatial[1]) and torch.equal(temporal[0], temporal[2])
    fresh = V.VideoAttention(pooling="fixed")          # starts as the uniform average
    _, spatial, temporal = fresh(torch.rand(1, 5, 1, 20, 20))
    torch.testing.assert_close(temporal, torch.full((1, 4), 0.25))
    torch.testing.assert_close(spatial, torch.full((1, 4, 13, 13), 1 / 169))


def test_the_stacked_frames_cnn_sees_the_order_of_the_frames():
    """Unlike the uniform control, the CNN reads all frames at once: their order matters."""
    torch.manual_seed(0)
    model = V.StackedFramesCNN()
    clip = torch.rand(2, 5, 1, 20, 20)
    assert not torch.allclose(model(clip)[0], model(clip[:, [0, 3, 1, 4, 2]])[0])


def test_weight_on_digits_hand_case():
    moving_boxes = torch.tensor([[[0, 0, 8, 8], [0, 0, 8, 8], [2, 0, 10, 8]]])    # (1, 3 frames, 4)
    static_boxes = torch.tensor([[10, 10, 18, 18]])
    spatial = torch.zeros(1, 2, 13, 13)
    spatial[0, 0, 10, 10] = 1.0                       # step 1: all on the static digit
    spatial[0, 1, 2, 0] = 1.0                         # step 2: all on the moving digit's new box
    on_moving, on_static = V.weight_on_digits(spatial, torch.tensor([[0.25, 0.75]]),
                                              moving_boxes, static_boxes)
    assert on_moving.item() == pytest.approx(0.75) and on_static.item() == pytest.approx(0.25)
    # one map for the whole clip: any of the moving digit's boxes counts
    one = torch.zeros(1, 1, 13, 13)
    one[0, 0, 2, 0] = 1.0
    on_moving, _ = V.weight_on_digits(one, torch.ones(1, 1), moving_boxes, static_boxes)
    assert on_moving.item() == pytest.approx(1.0)
    with pytest.raises(ValueError, match="temporal"):
        V.weight_on_digits(spatial, torch.ones(1, 3), moving_boxes, static_boxes)


def test_rivals_refuse_what_they_were_not_built_for():
    with pytest.raises(ValueError, match="pooling"):
        V.VideoAttention(pooling="mean")
    with pytest.raises(ValueError, match="model"):
        V.build("transformer")
    with pytest.raises(ValueError, match=r"videos.*T=5"):
        V.StackedFramesCNN()(torch.rand(2, 4, 1, 20, 20))
    with pytest.raises(ValueError, match="videos: the fixed mixing was built for 5 frames"):
        V.VideoAttention(pooling="fixed")(torch.rand(2, 5, 1, 24, 24))
