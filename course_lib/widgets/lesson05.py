"""Lesson 05 explorers: one trained module, a different attention map for every input.

``cluttered_digit``  pick a held-out canvas: the canvas with the digit's box, the attention map
                     laid over it, and the model's class probabilities.
``digit_video``      pick a clip and scrub through its steps: the frame with both digits' boxes,
                     that step's spatial weights, and the temporal weights over the steps.

Both take the trained model and the held-out data from the lesson notebook. Without them (e.g.
``EXPLORERS["cluttered_digit"]()``) they build small held-out data and an untrained model, which
shows the layout, not a result: the titles say so.

Speed (issue 20): a move redraws only the images, boxes and bars it changes over a cached
background; the sentences with this input's numbers are in the explorer's HTML readout above the
picture (text is the slowest thing to draw), the figure's titles say what each panel shows.
"""
from __future__ import annotations

import ipywidgets as W
import matplotlib
import numpy as np
import torch
from matplotlib.patches import Rectangle

from course_lib.experiments import clutter, video
from course_lib.plotting import OKABE_ITO, WEIGHT_CMAP, show_image
from course_lib.basics.language import tr
from course_lib.widgets.base import Explorer, new_figure, readout_html, register


def _frozen(explorer: Explorer) -> Explorer:
    """Keep the layout of the first drawing: only texts and pixel values change later."""
    explorer.figure.set_layout_engine("none")
    return explorer


def _box_patch(ax, colour, style="-"):
    box = Rectangle((0, 0), clutter.DIGIT, clutter.DIGIT, fill=False, ec=colour, lw=2, ls=style)
    ax.add_patch(box)
    return box


def _move(box, row, col):
    box.set_xy((col - 0.5, row - 0.5))


@register("cluttered_digit")
def cluttered_digit_explorer(model=None, test=None, n_images: int = 40) -> Explorer:
    """A held-out canvas, where the model's attention goes, and what it predicts.

    Args:
        model: a trained :class:`~course_lib.experiments.clutter.ClutterClassifier` (any pooling), or None
            for an untrained one (layout only).
        test: ``(images, labels, boxes)`` held-out canvases; None builds 40 from held-out digits.
    """
    if test is None:
        _, pool = clutter.digit_pools()
        test = clutter.cluttered_digits(pool, n_images, n_fragments=4, fragment=4, seed=1)
    images, labels, boxes = (t[:n_images] for t in test)
    attention_title = "attention of the trained model\n(one colour scale for every canvas)"
    if model is None:
        torch.manual_seed(0)
        model = clutter.ClutterClassifier()
        attention_title = "attention of an UNTRAINED model\n(layout only, not a result)"
    result = clutter.evaluate(model, (images, labels, boxes))
    maps = clutter.weights_on_pixels(result["weights"]).numpy()      # (n, H, W), each sums to 1
    probs = result["predictions"].numpy()
    size = images.shape[-1]

    fig = new_figure(9.5, 3.2)
    ax_img, ax_w, ax_p = fig.subplots(1, 3, width_ratios=[1, 1, 1.2])
    img_artist = show_image(ax_img, images[0, 0].numpy())
    box_img = _box_patch(ax_img, OKABE_ITO["orange"])
    ax_img.set_title("held-out canvas\n(orange: the digit)")
    # one fixed colour scale for every canvas: maps stay comparable. The map is blended over the
    # canvas once per canvas here (one RGB picture), so an update redraws one image, not two.
    vmax = float(np.quantile(maps.max(axis=(1, 2)), 0.9))
    colours = matplotlib.colormaps[WEIGHT_CMAP](np.clip(maps / vmax, 0, 1))[..., :3]
    gray = images[:, 0].numpy()[..., None]
    blended = 0.75 * colours + 0.25 * gray                                   # (n, H, W, 3)
    w_artist = ax_w.imshow(blended[0], interpolation="nearest")
    scale = matplotlib.cm.ScalarMappable(matplotlib.colors.Normalize(0, vmax), WEIGHT_CMAP)
    box_w = _box_patch(ax_w, OKABE_ITO["orange"])
    ax_w.set_xticks([])
    ax_w.set_yticks([])
    fig.colorbar(scale, ax=ax_w, fraction=0.046, pad=0.04, label="weight per pixel")
    bars = ax_p.bar(np.arange(10), probs[0], color=OKABE_ITO["sky"])
    ax_p.set(ylim=(0, 1), xticks=range(10), xlabel="class", ylabel="probability")
    ax_w.set_title(attention_title)
    ax_p.set_title("the model's class probabilities\n(dark bar: the true class)")
    area_share = clutter.DIGIT ** 2 / size ** 2
    readout = W.HTML()

    controls = {"image": W.IntSlider(value=0, min=0, max=len(labels) - 1, description="image")}

    def update(image):
        img_artist.set_data(images[image, 0].numpy())
        r, c = boxes[image, :2].tolist()
        _move(box_img, r, c)
        _move(box_w, r, c)
        w_artist.set_data(blended[image])
        on_box = maps[image][r : r + clutter.DIGIT, c : c + clutter.DIGIT].sum()
        guess, label = int(probs[image].argmax()), int(labels[image])
        for k, bar in enumerate(bars):
            bar.set_height(probs[image, k])
            bar.set_color(OKABE_ITO["blue"] if k == label else OKABE_ITO["sky"])
        verdict = tr("right") if guess == label else tr("wrong")
        readout.value = readout_html(
            tr("Canvas {image}: attention on the digit: {mass:.2f} (its area share: {share:.2f}).")
            .format(image=image, mass=on_box, share=area_share),
            tr("True class {label} (dark bar), predicted {guess}: {verdict}.")
            .format(label=label, guess=guess, verdict=verdict))

    return _frozen(Explorer(fig, controls, update,
                    "Pick a held-out canvas: the same trained module puts its weight somewhere "
                    "else on every canvas, on the whole digit and not on the fragments around it. "
                    "When it looks at the wrong place, the prediction is usually wrong too.",
                    animated=[img_artist, box_img, w_artist, box_w, *bars], readout=readout))


@register("digit_video")
def digit_video_explorer(model=None, test=None, n_clips: int = 12) -> Explorer:
    """Scrub through a held-out clip: the frame, that step's spatial weights, the temporal weights.

    Args:
        model: a trained :class:`~course_lib.experiments.video.VideoAttention`, or None for an untrained one.
        test: the held-out clips from :func:`~course_lib.experiments.video.make_task`; None builds 12.
    """
    if test is None:
        _, pool = clutter.digit_pools()
        test = video.digit_videos(pool, n_clips, seed=1)
    videos, labels, moving_boxes, static_boxes, moving = (t[:n_clips] for t in test)
    spatial_title = "spatial weights, trained\n(at the step shown)"
    if model is None:
        torch.manual_seed(0)
        model = video.VideoAttention()
        spatial_title = "spatial weights, UNTRAINED\n(layout only)"
    result = video.evaluate(model, (videos, labels, moving_boxes, static_boxes, moving))
    b, steps = result["temporal"].shape
    spatial = clutter.weights_on_pixels(result["spatial"].flatten(0, 1)).reshape(b, steps, *videos.shape[-2:])
    spatial, temporal = spatial.numpy(), result["temporal"].numpy()

    fig = new_figure(9.5, 3.1)
    ax_frame, ax_sp, ax_t = fig.subplots(1, 3, width_ratios=[1, 1, 1.3])
    frame_artist = show_image(ax_frame, videos[0, 1, 0].numpy())
    box_moving = _box_patch(ax_frame, OKABE_ITO["orange"])
    box_static = _box_patch(ax_frame, OKABE_ITO["sky"], style="--")
    sp_artist = ax_sp.imshow(spatial[0, 0], cmap=WEIGHT_CMAP, vmin=0,
                             vmax=float(np.quantile(spatial.max(axis=(2, 3)), 0.9)),
                             interpolation="nearest")
    box_moving_sp = _box_patch(ax_sp, OKABE_ITO["orange"])
    ax_sp.set_xticks([])
    ax_sp.set_yticks([])
    fig.colorbar(sp_artist, ax=ax_sp, fraction=0.046, pad=0.04, label="weight per pixel")
    bars = ax_t.bar(np.arange(1, steps + 1), temporal[0], color=OKABE_ITO["sky"])
    ax_t.set(ylim=(0, 1), xlabel="step (frame t-1 -> t)", ylabel="temporal weight",
             xticks=np.arange(1, steps + 1))
    marks = ax_t.plot(np.arange(1, steps + 1), np.full(steps, np.nan), "v",
                      color=OKABE_ITO["vermillion"], label="the digit moves")[0]
    ax_t.legend(loc="upper left", fontsize=8)
    ax_frame.set_title("the frame (orange: moving,\ndashed: static digit)")
    ax_sp.set_title(spatial_title)
    ax_t.set_title("temporal weights\n(dark bar: the step shown)")
    readout = W.HTML()

    controls = {
        "clip": W.IntSlider(value=0, min=0, max=b - 1, description="clip"),
        "step": W.IntSlider(value=1, min=1, max=steps, description="step"),
    }

    def update(clip, step):
        frame_artist.set_data(videos[clip, step, 0].numpy())
        r, c = moving_boxes[clip, step, :2].tolist()
        _move(box_moving, r, c)
        _move(box_moving_sp, r, c)
        _move(box_static, *static_boxes[clip, :2].tolist())
        w = spatial[clip, step - 1]
        sp_artist.set_data(w)
        on_moving = w[r : r + clutter.DIGIT, c : c + clutter.DIGIT].sum()
        for i, bar in enumerate(bars):
            bar.set_height(temporal[clip, i])
            bar.set_color(OKABE_ITO["blue"] if i == step - 1 else OKABE_ITO["sky"])
        marks.set_ydata(np.where(moving[clip, 1:].numpy(), 0.95, np.nan))
        on_motion = temporal[clip][moving[clip, 1:].numpy()].sum()
        readout.value = readout_html(
            tr("Clip {clip}, frame {step}: the digit of class {label} moves; spatial weight on "
               "the moving digit: {mass:.2f}.").format(clip=clip, step=step, label=int(labels[clip]),
                                                       mass=on_moving),
            tr("Temporal weight on the steps with motion: {mass:.2f}.").format(mass=on_motion))

    return _frozen(Explorer(fig, controls, update,
                    "Scrub through the steps: in a step where the digit moves, the spatial weights "
                    "sit on the moving digit, not on the static one of the same kind; the bars show "
                    "which steps the clip's summary listens to (dark bar: the step shown).",
                    animated=[frame_artist, box_moving, box_static, sp_artist, box_moving_sp,
                              *bars, marks], readout=readout))
