"""Lesson 05 explorers: the same module, different inputs, different weights.

``attention_vs_kernel``  pick a cluttered scene: see where attention puts its weight for *this*
                         scene, beside a convolution kernel that is the same for every scene.
``video_attention``      pick a clip and scrub through its steps: the spatial weights follow the
                         moving object, the temporal weights pick the steps where it moves.

Both take an optional trained model (from the lesson notebook); without one they use hand-made
attention (``template_attention`` / ``motion_attention``), which needs no training.
"""
from __future__ import annotations

import ipywidgets as W
import numpy as np
import torch
from matplotlib.patches import Rectangle

from .. import data as D
from ..modules import motion_attention, template_attention
from ..plotting import OKABE_ITO, WEIGHT_CMAP, show_image
from .base import Explorer, new_figure, register


def _frozen(explorer: Explorer) -> Explorer:
    """Keep the layout of the first drawing: re-running the layout engine on every update
    would double the redraw time, and only texts and pixel values change."""
    explorer.figure.set_layout_engine("none")
    return explorer


def _log_weights(weights: torch.Tensor) -> np.ndarray:
    # Keeping log-weights lets the temperature slider re-sharpen any map exactly:
    # softmax(scores / T) = normalise(weights ** (1 / T)).
    return torch.log(weights.clamp_min(1e-30)).double().numpy()


def _resharpen(log_w: np.ndarray, temperature: float) -> np.ndarray:
    z = log_w / temperature
    z = z - z.max()
    e = np.exp(z)
    return e / e.sum()


@register("attention_vs_kernel")
def attention_vs_kernel_explorer(model=None, n_scenes: int = 24, seed: int = 1) -> Explorer:
    """A scene, its attention map and a fixed conv kernel, side by side.

    Args:
        model: a trained :class:`~course_lib.models.AttentionPoolClassifier`, or None for
            template attention (a fixed "+" template scored against every patch, then softmax).
        n_scenes: how many held-out scenes to offer; ``seed`` picks them.
    """
    images, labels, masks = D.clutter_scenes(n_scenes, seed=seed)
    if model is None:
        template = torch.from_numpy(D.SHAPES["plus"] - D.SHAPES["plus"].mean())
        weights = template_attention(images, template, temperature=0.3)
        kernel = template.numpy()
        kernel_title = "the conv kernel (template)\nsame for every scene"
        source = "template attention"
    else:
        model.eval()
        device = next(model.parameters()).device  # training may have moved it to the GPU
        with torch.no_grad():
            _, weights = model(images.to(device))
        weights = weights.cpu()
        kernel = model.stem[0].weight[0, 0].detach().cpu().numpy()
        kernel_title = "a conv kernel of its stem\nsame for every scene"
        source = "trained attention"
    log_w = _log_weights(weights)
    cells = weights.shape[-1]
    factor = images.shape[-1] // cells
    # which map cells hold the target (as in mass_on_mask), computed once, not on every update
    on_target = torch.nn.functional.max_pool2d(masks[:, None].float(), factor)[:, 0].numpy() > 0

    fig = new_figure(9.0, 3.1)
    ax_img, ax_w, ax_k = fig.subplots(1, 3, width_ratios=[1, 1, 0.8])
    img_artist = show_image(ax_img, images[0, 0].numpy())
    box = Rectangle((0, 0), 3, 3, fill=False, ec=OKABE_ITO["orange"], lw=2)
    ax_img.add_patch(box)
    ax_img.set_title("scene\n(orange box: the target)")
    # One fixed colour scale for every scene (0 to the largest weight of any scene at
    # temperature 1): maps stay comparable, and a fixed scale lets the update redraw only the
    # changed artists. Sharper maps saturate; the title gives the peak.
    w_artist = ax_w.imshow(np.zeros((cells, cells)), cmap=WEIGHT_CMAP, vmin=0,
                           vmax=float(weights.max()), interpolation="nearest")
    ax_w.set_xticks([])
    ax_w.set_yticks([])
    fig.colorbar(w_artist, ax=ax_w, fraction=0.046, pad=0.04, label="weight")
    lim = np.abs(kernel).max()
    k_artist = ax_k.imshow(kernel, cmap="PuOr", vmin=-lim, vmax=lim, interpolation="nearest")
    ax_k.set_xticks([])
    ax_k.set_yticks([])
    ax_k.set_title(kernel_title)
    fig.colorbar(k_artist, ax=ax_k, fraction=0.046, pad=0.04, label="kernel weight")

    controls = {
        "scene": W.IntSlider(value=0, min=0, max=n_scenes - 1, description="scene"),
        "temperature": W.FloatLogSlider(value=1.0, base=10, min=-0.7, max=0.7, step=0.05,
                                        description="temperature"),
    }

    def update(scene, temperature):
        w = _resharpen(log_w[scene], temperature)
        img_artist.set_data(images[scene, 0].numpy())
        rows, cols = np.nonzero(masks[scene].numpy())
        box.set_xy((cols.min() - 0.5, rows.min() - 0.5))
        w_artist.set_data(w)
        mass, chance = (w * on_target[scene]).sum(), on_target[scene].mean()
        ax_w.set_title(f"{source}: on target {mass:.2f}\n(uniform {chance:.2f}), peak {w.max():.2f}")

    ax_w.set_title(" \n ")  # reserve the title's room for the first layout
    return _frozen(Explorer(fig, controls, update,
                    "Move through the scenes: this scene's weights differ from the last one's, "
                    "while the kernel (right) never changes. Where the weights go is what the "
                    "scoring rewards (for the '+' template: '+'-like patches). The temperature "
                    f"sharpens or flattens the weights (each map cell is a {factor}x{factor} patch).",
                    animated=[img_artist, box, w_artist, ax_w.title]))


@register("video_attention")
def video_attention_explorer(model=None, n_clips: int = 8, seed: int = 1) -> Explorer:
    """Scrub through a clip: the frame, the spatial weights of that step, the temporal weights.

    Args:
        model: a trained :class:`~course_lib.models.VideoAttentionClassifier`, or None for
            hand-made motion attention (score = how much each place changed).
    """
    videos, labels, motion, moving = D.moving_videos(n_clips, seed=seed)
    if model is None:
        spatial, temporal = motion_attention(videos)
        source = "hand-made"
    else:
        model.eval()
        device = next(model.parameters()).device  # training may have moved it to the GPU
        with torch.no_grad():
            _, spatial, temporal = model(videos.to(device))
        source = "trained"
    spatial, temporal = spatial.detach().cpu().numpy(), temporal.detach().cpu().numpy()
    steps = temporal.shape[1]
    size = videos.shape[-1]

    fig = new_figure(9.5, 3.0)
    ax_frame, ax_sp, ax_t = fig.subplots(1, 3, width_ratios=[1, 1, 1.3])
    frame_artist = show_image(ax_frame, videos[0, 1, 0].numpy())
    contour = ax_frame.imshow(np.zeros((size, size, 4)), interpolation="nearest")
    # one fixed colour scale for all clips and steps (0 to the largest spatial weight)
    sp_artist = ax_sp.imshow(spatial[0, 0], cmap=WEIGHT_CMAP, vmin=0, vmax=float(spatial.max()),
                             interpolation="nearest", extent=(-0.5, size - 0.5, size - 0.5, -0.5))
    ax_sp.set_xticks([])
    ax_sp.set_yticks([])
    fig.colorbar(sp_artist, ax=ax_sp, fraction=0.046, pad=0.04, label="weight")
    bars = ax_t.bar(np.arange(1, steps + 1), temporal[0], color=OKABE_ITO["sky"])
    ax_t.set(ylim=(0, 1), xlabel="step (frame t-1 -> t)", ylabel="temporal weight",
             xticks=np.arange(1, steps + 1))
    marks = ax_t.plot(np.arange(1, steps + 1), np.full(steps, np.nan), "v",
                      color=OKABE_ITO["vermillion"], label="object moves")[0]
    ax_t.legend(loc="upper left", fontsize=8)

    controls = {
        "clip": W.IntSlider(value=0, min=0, max=n_clips - 1, description="clip"),
        "step": W.IntSlider(value=1, min=1, max=steps, description="step"),
    }
    overlay = np.zeros((size, size, 4))

    def update(clip, step):
        frame_artist.set_data(videos[clip, step, 0].numpy())
        overlay[:] = 0
        overlay[motion[clip, step].numpy()] = (0.9, 0.62, 0.0, 0.6)  # orange: changed pixels
        contour.set_data(overlay)
        ax_frame.set_title(f"frame {step}\n(orange: changed since {step - 1})")
        w = spatial[clip, step - 1]
        sp_artist.set_data(w)  # fixed colour scale: steps and clips stay comparable
        ax_sp.set_title(f"spatial weights, step {step}\n({source}), peak {w.max():.2f}")
        for i, bar in enumerate(bars):
            bar.set_height(temporal[clip, i])
            bar.set_color(OKABE_ITO["blue"] if i == step - 1 else OKABE_ITO["sky"])
        marks.set_ydata(np.where(moving[clip, 1:].numpy(), 0.95, np.nan))
        on_motion = temporal[clip][moving[clip, 1:].numpy()].sum()
        ax_t.set_title(f"weight on steps with motion: {on_motion:.2f}")

    ax_frame.set_title(" \n ")  # reserve the titles' room for the first layout
    ax_sp.set_title(" \n ")
    ax_t.set_title(" ")
    return _frozen(Explorer(fig, controls, update,
                    "Scrub through the steps: where the object moves, the spatial weights sit on "
                    "the changed pixels. In still steps nothing changed: those steps get little "
                    "temporal weight, whatever their spatial weights show (a trained model keeps "
                    "them on the resting square, hand-made motion attention spreads them evenly). The bars "
                    "show which steps the clip's summary listens to (dark bar: the step shown).",
                    animated=[frame_artist, contour, ax_frame.title, sp_artist, ax_sp.title,
                              *bars, marks, ax_t.title]))
