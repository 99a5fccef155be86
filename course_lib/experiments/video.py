"""Lesson 05, section 3: video from raw frames. Which digit moves? Attention over space and time,
and its rivals.

Each clip shows a static real texture (a still camera) and two real handwritten digits of two
different classes, nothing else. One digit rests, moves for a few frames, rests again; the other
never moves. The label is the class of the digit that moves (digits 0-3 by default). Every single frame holds
both digits, so a model that sees one frame can at best guess which of the two it is: 0.5, where
the answer is only in how the frames differ.

    digit_videos(pool, n)     clips, labels, where each digit is, which steps have motion
    VideoAttention            per-frame conv features -> spatial attention per step (scores from
                              this frame and the previous one) -> temporal attention -> class;
                              pooling="max" / "fixed" / "uniform": the same layers, other pooling
    StackedFramesCNN          the frames as channels of a CNN, global max pooling: no attention
    OneFrame                  the time-blind control: VideoAttention shown the first frame twice
    weight_on_digits          how much of a model's weight lands on the moving and the static digit
    run_seed(seed)            attention and every rival, one seed (the sweep ``lesson05_video``)

The model is given frames only. Its attention *scores* read the features of two consecutive frames
side by side, so it can learn a difference if that helps; nobody computes one for it. Motion is
local (a frame difference inside a small window), so the rivals that see two frames in one window
and take a maximum over windows do as well or better (the stored sweep); what attention adds here
is a map of where it looks that one can read.

The experiment's four verbs (``course_lib/experiments/__init__.py``): :func:`make_task`,
:func:`fit` (a name of :data:`MODELS`), :func:`evaluate`, :func:`claims`.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from course_lib.attention.core import softmax_weights
from course_lib.basics.arrays import require_count, require_shape
from course_lib.basics.language import table_lines, tr
from course_lib.data.digits import DIGIT, DigitPool, background, box_masks, digit_pools
from course_lib.layers.models import weights_on_pixels
from course_lib.layers.training import predict, train as train_loop

DIRECTIONS = ((-1, 0), (1, 0), (0, -1), (0, 1))      # up, down, left, right


def _trajectory(rng, size, frames, burst, speed):
    """Top-left corners ``(frames, 2)`` of a digit that rests, moves ``burst`` steps, rests."""
    dr, dc = DIRECTIONS[rng.integers(len(DIRECTIONS))]
    travel = burst * speed
    lo = [travel if d < 0 else 0 for d in (dr, dc)]
    hi = [size - DIGIT - (travel if d > 0 else 0) for d in (dr, dc)]
    start = np.array([rng.integers(lo[0], hi[0] + 1), rng.integers(lo[1], hi[1] + 1)])
    first = int(rng.integers(1, frames - burst + 1))   # the first frame at a new position
    steps = np.clip(np.arange(frames) - first + 1, 0, burst)
    return start + np.outer(steps * speed, (dr, dc)), first


def _overlap(a, b):
    """Do 8 x 8 squares with top-left corners ``a (T, 2)`` and ``b (T, 2)`` touch in any frame?"""
    return bool((np.abs(a - b) < DIGIT).all(axis=1).any())


def digit_videos(pool: DigitPool, n: int = 400, frames: int = 5, size: int = 20, burst: int = 2,
                 speed: int = 2, classes: int = 4, seed: int = 0):
    """Clips of two real digits of different classes (digits 0 .. classes-1) over a static real texture.

    One digit (its class is the label) rests, moves
    ``speed`` pixels per frame for ``burst`` frames in one of four directions, then rests; the
    other digit never moves. The static digit's place is drawn like a frame of a moving digit's
    path, so no position in a single frame says which one will move. The digits never overlap.

    Returns:
        videos ``(n, frames, 1, size, size)`` float32, labels ``(n,)`` int64,
        moving_boxes ``(n, frames, 4)`` and static_boxes ``(n, 4)`` int64 (row, col, row+8,
        col+8), moving ``(n, frames)`` bool: the frames where the digit moved since the last one.
    """
    n, frames = require_count(n, "n"), require_count(frames, "frames", 3)
    size = require_count(size, "size", 2 * DIGIT)
    burst, speed = require_count(burst, "burst"), require_count(speed, "speed")
    if burst >= frames:
        raise ValueError(f"burst={burst} must be smaller than frames={frames}")
    if burst * speed + DIGIT > size:
        raise ValueError(f"burst * speed = {burst * speed} does not fit in size={size} with an 8 x 8 digit")
    rng = np.random.default_rng(seed)
    classes = require_count(classes, "classes", 2)
    if classes > 10:
        raise ValueError(f"classes={classes}: load_digits has 10 classes")
    by_class = [np.flatnonzero(pool.labels == c) for c in range(classes)]
    videos = np.zeros((n, frames, 1, size, size), np.float32)
    labels = rng.integers(0, classes, size=n)
    others = (labels + rng.integers(1, classes, size=n)) % classes   # the static digit: another class
    moving_boxes = np.zeros((n, frames, 4), np.int64)
    static_boxes = np.zeros((n, 4), np.int64)
    moving = np.zeros((n, frames), bool)
    for i in range(n):
        while True:   # rejection sampling: the two digits never touch
            path, first = _trajectory(rng, size, frames, burst, speed)
            other, _ = _trajectory(rng, size, frames, burst, speed)
            still = np.broadcast_to(other[rng.integers(frames)], path.shape)
            if not _overlap(path, still):
                break
        mover = pool.images[rng.choice(by_class[labels[i]])] * rng.uniform(0.7, 1.0)
        sitter = pool.images[rng.choice(by_class[others[i]])] * rng.uniform(0.7, 1.0)
        scene = background(rng, size)
        for t in range(frames):
            frame = scene.copy()
            for digit, (r, c) in ((sitter, still[t]), (mover, path[t])):
                np.maximum(frame[r : r + DIGIT, c : c + DIGIT], digit, out=frame[r : r + DIGIT, c : c + DIGIT])
            videos[i, t, 0] = frame
        moving_boxes[i] = np.concatenate([path, path + DIGIT], axis=1)
        static_boxes[i] = (*still[0], *(still[0] + DIGIT))
        moving[i, first : first + burst] = True
    return (torch.from_numpy(videos), torch.from_numpy(labels), torch.from_numpy(moving_boxes),
            torch.from_numpy(static_boxes), torch.from_numpy(moving))


class VideoAttention(nn.Module):
    """Per-frame conv features, then attention over space and over time.

    1. features: the same digit-sized conv layers on every frame (no frame sees another);
    2. spatial attention for each step t = 1..T-1: the key of a window is computed from its
       features in frame t *and* frame t-1, side by side (a learned linear map: it can learn their
       difference, or anything else); softmax over the windows; the weighted sum of frame t's
       features (the values come from one frame only);
    3. temporal attention: each step's key is its spatially pooled key; softmax over the steps;
       the weighted sum of the steps' summaries;
    4. a linear layer: which class moved.

    The same layers with step 2-3 replaced (``pooling``) are the rivals of lesson 05, section 3:

    ``"uniform"``  every spatial and temporal weight equal, same parameters. Then no computation
                   compares two frames (the output is a function of the average of per-frame
                   features): a weak control, blind to motion by construction.
    ``"max"``      global max pooling (per channel, over every window of every step) of what the
                   keys say, ``relu(key)``: each channel picks its own window and step, the hard,
                   per-channel limit of attention. No queries (32 parameters fewer).
    ``"fixed"``    a learned fixed mixing: one softmax weight per window and one per step, learned
                   but the same for every clip (reach without adaptivity), over ``relu(key)``.
                   Starts as the uniform average. ``size`` sets how many windows there are.

    The rivals pool ``relu(key)``, which reads two frames, not the one-frame values: pooling the
    values would make them blind to motion like the uniform control. For ``"max"`` the returned
    weights are the share of channels whose maximum lies at each window and step (channels that
    are zero everywhere count for nothing): ``spatial`` normalised per step, ``temporal`` the
    share per step.

    Shapes: videos ``(B, T, 1, H, W)`` -> ``(logits (B, classes), spatial (B, T-1, H-7, W-7),
    temporal (B, T-1))``; step ``i`` of the weights belongs to frame ``i + 1``.
    """

    POOLINGS = ("attention", "uniform", "max", "fixed")

    def __init__(self, num_classes: int = 4, dim: int = 16, pooling: str = "attention",
                 frames: int = 5, size: int = 20):
        super().__init__()
        if pooling not in self.POOLINGS:
            raise ValueError(f"pooling={pooling!r} is not known; expected one of {self.POOLINGS}")
        self.pooling = pooling
        self.features = nn.Sequential(nn.Conv2d(1, dim, DIGIT), nn.ReLU(),
                                      nn.Conv2d(dim, dim, 1), nn.ReLU())
        self.to_key = nn.Linear(2 * dim, dim)       # reads frame t and frame t-1 together
        if pooling in ("attention", "uniform"):
            self.spatial_query = nn.Parameter(torch.randn(dim) * dim**-0.5)
            self.temporal_query = nn.Parameter(torch.randn(dim) * dim**-0.5)
        if pooling == "fixed":   # input-independent logits, zero: the uniform average at first
            windows = require_count(size, "size", DIGIT) - DIGIT + 1
            self.frames, self.windows = require_count(frames, "frames", 2), windows
            self.spatial_logits = nn.Parameter(torch.zeros(windows * windows))
            self.temporal_logits = nn.Parameter(torch.zeros(frames - 1))
        self.head = nn.Linear(dim, num_classes)

    def forward(self, videos: torch.Tensor):
        require_shape(videos, "videos", 5, "(B, T, C, H, W)", C=1)
        b, t, _, h, w = videos.shape
        if self.pooling == "fixed" and (t != self.frames or h - DIGIT + 1 != self.windows
                                        or w != h):
            raise ValueError(f"videos: the fixed mixing was built for {self.frames} frames of "
                             f"{self.windows + DIGIT - 1} x {self.windows + DIGIT - 1}, got "
                             f"{t} frames of {h} x {w}")
        f = self.features((videos.reshape(b * t, 1, h, w) - 0.3) / 0.25)
        d, hh, ww = f.shape[1:]
        tokens = f.reshape(b, t, d, hh * ww).transpose(2, 3)           # (B, T, windows, dim)
        now, before = tokens[:, 1:], tokens[:, :-1]                   # steps 1..T-1
        keys = self.to_key(torch.cat([now, before], dim=-1))          # (B, T-1, windows, dim)
        if self.pooling == "max":
            return self._max_pooled(keys.relu(), hh, ww)
        if self.pooling == "fixed":
            spatial = softmax_weights(self.spatial_logits).expand(b, t - 1, -1)
            temporal = softmax_weights(self.temporal_logits).expand(b, -1)
            pooled = (temporal[..., None] * (spatial[..., None] * keys.relu()).sum(2)).sum(1)
            return self.head(pooled), spatial.reshape(b, t - 1, hh, ww), temporal
        if self.pooling == "attention":
            spatial = softmax_weights(keys @ self.spatial_query / d**0.5)      # (B, T-1, windows)
        else:
            spatial = torch.full(keys.shape[:-1], 1.0 / (hh * ww), device=videos.device)
        summary = (spatial[..., None] * now).sum(2)                   # (B, T-1, dim)
        step_keys = (spatial[..., None] * keys).sum(2)                # (B, T-1, dim)
        if self.pooling == "attention":
            temporal = softmax_weights(step_keys @ self.temporal_query / d**0.5)  # (B, T-1)
        else:
            temporal = torch.full((b, t - 1), 1.0 / (t - 1), device=videos.device)
        pooled = (temporal[..., None] * summary).sum(1)               # (B, dim)
        return self.head(pooled), spatial.reshape(b, t - 1, hh, ww), temporal

    def _max_pooled(self, detections: torch.Tensor, hh: int, ww: int):
        # detections (B, T-1, windows, dim): each channel keeps its largest value over every
        # window of every step; which window won, per channel, is the model's "selection".
        b, steps = detections.shape[:2]
        flat = detections.reshape(b, -1, detections.shape[-1])       # (B, steps*windows, dim)
        pooled, where = flat.max(dim=1)                               # (B, dim)
        selection = channel_selection(flat, where, pooled)           # (B, steps*windows)
        selection = selection.reshape(b, steps, hh * ww)
        temporal = selection.sum(-1)                                  # (B, T-1)
        spatial = selection / temporal.clamp_min(1e-12)[..., None]
        return self.head(pooled), spatial.reshape(b, steps, hh, ww), temporal


def channel_selection(values: torch.Tensor, where: torch.Tensor, best: torch.Tensor) -> torch.Tensor:
    """What global max pooling "reads": the share of channels whose maximum sits at each position.

    Args: values ``(B, N, C)`` (N positions), where ``(B, C)`` the argmax position of each channel,
    best ``(B, C)`` its maximum. Channels whose maximum is 0 (a ReLU silent everywhere) are not
    counted: they read nothing. Returns ``(B, N)``, summing to 1 (0 if every channel is silent).
    """
    alive = (best > 0).to(values.dtype)                               # (B, C)
    picks = F.one_hot(where, values.shape[1]).to(values.dtype)        # (B, C, N)
    counts = (alive[..., None] * picks).sum(1)                        # (B, N)
    return counts / alive.sum(1, keepdim=True).clamp_min(1.0)


class StackedFramesCNN(nn.Module):
    """The rival a practitioner reaches for first: a CNN on the clip's frames stacked as channels.

    ``Conv2d(frames -> width, 8 x 8)`` (each window sees all frames at once, so a filter can take
    a frame difference if that helps), ReLU, a 1 x 1 layer, ReLU, global max pooling over the
    windows, a linear layer. No attention, no frame difference given. ``width=6, dim=12`` gives
    2,062 parameters, within 10% of :class:`VideoAttention`'s 1,940.

    Shapes: videos ``(B, T, 1, H, W)`` (T = ``frames``) -> ``(logits (B, classes), spatial
    (B, 1, H-7, W-7), temporal (B, 1))``: ``spatial`` is the share of channels whose maximum sits
    at each window (see :func:`channel_selection`); there is no time axis left to weigh.
    """

    def __init__(self, num_classes: int = 4, frames: int = 5, width: int = 6, dim: int = 12):
        super().__init__()
        self.frames = require_count(frames, "frames", 2)
        self.features = nn.Sequential(nn.Conv2d(self.frames, width, DIGIT), nn.ReLU(),
                                      nn.Conv2d(width, dim, 1), nn.ReLU())
        self.head = nn.Linear(dim, num_classes)

    def forward(self, videos: torch.Tensor):
        require_shape(videos, "videos", 5, "(B, T, C, H, W)", T=self.frames, C=1)
        b = videos.shape[0]
        f = self.features((videos[:, :, 0] - 0.3) / 0.25)             # frames as channels
        d, hh, ww = f.shape[1:]
        flat = f.reshape(b, d, hh * ww).transpose(1, 2)               # (B, windows, dim)
        pooled, where = flat.max(dim=1)
        selection = channel_selection(flat, where, pooled)
        return self.head(pooled), selection.reshape(b, 1, hh, ww), torch.ones(b, 1, device=videos.device)


def single_frame(videos: torch.Tensor, frame: int = 0) -> torch.Tensor:
    """The time-blind control's input: one frame, shown twice (one step in which nothing moves).

    ``(B, T, 1, H, W)`` -> ``(B, 2, 1, H, W)``. Each frame holds both digits, so at best the model
    guesses which of the two moves: 0.5.
    """
    return videos[:, frame : frame + 1].expand(-1, 2, -1, -1, -1).contiguous()


class OneFrame(nn.Module):
    """The time-blind control: :class:`VideoAttention` shown only the clip's first frame, twice
    (:func:`single_frame`). It takes whole clips like every other model, so :func:`fit` and
    :func:`evaluate` treat it like the others; the parameters are ``VideoAttention``'s.

    Shapes: videos ``(B, T, 1, H, W)`` -> ``(logits (B, classes), spatial (B, 1, H-7, W-7),
    temporal (B, 1))``: one step, in which nothing moves.
    """

    def __init__(self, **kwargs):
        super().__init__()
        self.model = VideoAttention(**kwargs)

    def forward(self, videos: torch.Tensor):
        return self.model(single_frame(videos))


def weight_on_digits(spatial: torch.Tensor, temporal: torch.Tensor, moving_boxes: torch.Tensor,
                     static_boxes: torch.Tensor):
    """Share of *all* of a model's weight (every step together) on the moving and the static digit.

    Comparable across models: for weights per step, ``sum_t temporal_t x`` (spatial weight of step
    t inside the digit's box in frame t); for one map over the whole clip (the stacked-frames CNN,
    ``spatial (B, 1, h, w)``), the weight inside any of the moving digit's boxes.

    Args: spatial ``(B, S, h, w)`` with S = T-1 steps or 1; temporal ``(B, S)`` summing to 1;
    moving_boxes ``(B, T, 4)``; static_boxes ``(B, 4)``. Returns ``(on_moving, on_static)``, ``(B,)``.
    """
    b, steps = spatial.shape[:2]
    frames = moving_boxes.shape[1]
    if temporal.shape != (b, steps) or steps not in (1, frames - 1):
        raise ValueError(f"spatial {tuple(spatial.shape)} and temporal {tuple(temporal.shape)}: "
                         f"expected (B, S, h, w) and (B, S) with S = {frames - 1} steps or 1")
    pixels = weights_on_pixels(spatial.reshape(b * steps, *spatial.shape[2:]))
    size = pixels.shape[-1]
    pixels = pixels.reshape(b, steps, size, size) * temporal[..., None, None]
    path = box_masks(moving_boxes.reshape(-1, 4), size).reshape(b, frames, size, size)
    mover = path[:, 1:] if steps == frames - 1 else path.any(1, keepdim=True)
    sitter = box_masks(static_boxes, size)[:, None]
    return (pixels * mover).sum((1, 2, 3)), (pixels * sitter).sum((1, 2, 3))


# The lesson's experiment, in one place for the notebook, tools/sweep.py and
# tests/claims/test_lesson05_video_claims.py. Every model gets the same data, steps and batches.
STEPS, BATCH = 400, 24
MODELS = ("attention", "max pooling", "stacked-frames CNN", "fixed mixing", "uniform", "one frame")
CONTROLS = MODELS   # the older name
# One learning rate per model: the best held-out accuracy of 3e-3, 1e-2 and 3e-2 on seed 0
# (LR_SWEEP, measured with lr_sweep() at 1 thread): every rival got the same search as attention.
LR_SWEEP = {
    "attention":          {3e-3: 0.873, 1e-2: 0.837, 3e-2: 0.220},
    "max pooling":        {3e-3: 0.907, 1e-2: 0.937, 3e-2: 0.933},
    "stacked-frames CNN": {3e-3: 0.830, 1e-2: 0.860, 3e-2: 0.613},
    "fixed mixing":       {3e-3: 0.290, 1e-2: 0.563, 3e-2: 0.220},
    "uniform":            {3e-3: 0.267, 1e-2: 0.350, 3e-2: 0.277},
    "one frame":          {3e-3: 0.423, 1e-2: 0.363, 3e-2: 0.217},
}
LEARNING_RATES = {name: max(rates, key=rates.get) for name, rates in LR_SWEEP.items()}
# Except attention: 3e-3, best on seed 0, leaves it on its plateau in 400 steps on seeds 1 and 2
# (held-out accuracy 0.44 and 0.40, measured), so it gets 1e-2, second on seed 0 and the lesson's
# rate before the rivals came: a budget must converge on every seed, not only on the one tuned.
LEARNING_RATES["attention"] = 1e-2
BUDGET = {"steps": STEPS, "batch_size": BATCH, "learning_rates": LEARNING_RATES,
          "n_train": 1000, "n_test": 300, "data_seed": 0}


def make_task(n_train: int = 1000, n_test: int = 300, seed: int = 0):
    """``(train, test)`` clips (see :func:`digit_videos`); test clips use held-out digits."""
    train_pool, test_pool = digit_pools(seed=seed)
    return digit_videos(train_pool, n_train, seed=seed), digit_videos(test_pool, n_test, seed=seed + 1)


def build(name: str) -> nn.Module:
    """A fresh, untrained model for ``name`` in :data:`MODELS` (seed torch first)."""
    if name not in MODELS:
        raise ValueError(f"model={name!r} is not known; expected one of {MODELS}")
    if name == "stacked-frames CNN":
        return StackedFramesCNN()
    if name == "one frame":
        return OneFrame()
    pooling = {"max pooling": "max", "fixed mixing": "fixed", "uniform": "uniform"}.get(name, "attention")
    return VideoAttention(pooling=pooling)


def fit(model_name: str, train, seed: int = 0, steps: int = STEPS, lr: float | None = None,
        progress: bool = True):
    """Train the model ``model_name`` in :data:`MODELS` on ``train`` (:func:`make_task`; same data,
    steps and batches for all; its own learning rate from :data:`LEARNING_RATES` unless ``lr``
    is given)."""
    torch.manual_seed(seed)
    model = build(model_name)
    train_loop(model, (train[0], train[1]), steps=steps, batch_size=BATCH,
               lr=LEARNING_RATES[model_name] if lr is None else lr, seed=seed, progress=progress,
               desc=f"video: {model_name}")
    return model


def evaluate(model, test) -> dict:
    """Accuracy and, for models that weigh positions, where their weight goes.

    ``on_moving`` / ``on_static``: share of all the weight on each digit (:func:`weight_on_digits`);
    ``temporal_on_motion``: weight on the steps where the digit moved (``temporal_chance`` if
    spread evenly). The weight maps themselves are under ``spatial`` and ``temporal``.
    """
    videos, labels, moving_boxes, static_boxes, moving = test
    logits, spatial, temporal = predict(model, videos)
    result = {"accuracy": (logits.argmax(-1) == labels).float().mean().item(),
              "spatial": spatial, "temporal": temporal}
    blind = isinstance(model, OneFrame)          # its weights are over one frame shown twice
    if not blind:
        on_moving, on_static = weight_on_digits(spatial, temporal, moving_boxes, static_boxes)
        result.update(on_moving=on_moving.mean().item(), on_static=on_static.mean().item())
    if temporal.shape[1] == videos.shape[1] - 1 and not blind:
        motion = moving[:, 1:]                                        # step t: frame t-1 -> t
        result.update(temporal_on_motion=(temporal * motion).sum(1).mean().item(),
                      temporal_chance=motion.float().mean().item())
    return result


def scores(result: dict) -> dict:
    """The numbers of :func:`evaluate` (no maps), as stored in a sweep."""
    return {k: round(v, 4) for k, v in result.items() if isinstance(v, float) and k != "temporal_chance"}


_TASK: dict = {}


def run_seed(seed: int) -> dict:
    """Train every model of :data:`MODELS` with ``seed`` (same data, steps and batches; the
    clips are the lesson's, ``make_task()``) and score each on the held-out clips:
    ``{model: {"accuracy": ..., "on_moving": ..., ...}}`` (course_lib/experiments/sweeps.py)."""
    if "task" not in _TASK:
        _TASK["task"] = make_task()
    train, test = _TASK["task"]
    return {name: scores(evaluate(fit(name, train, seed=seed, progress=False), test))
            for name in MODELS}


def lr_sweep(seed: int = 0, rates=(3e-3, 1e-2, 3e-2)) -> dict:
    """``{model: {lr: held-out accuracy}}``: the learning-rate search every model got (seed 0)."""
    train, test = _TASK.setdefault("task", make_task())
    return {name: {lr: round(evaluate(fit(name, train, seed=seed, lr=lr, progress=False),
                                      test)["accuracy"], 3) for lr in rates}
            for name in MODELS}


def claims(run: dict) -> dict:
    """The lesson's claims as ``{sentence: holds}``, from one seed's ``{model: scores}``
    (:func:`run_seed`, or the stored sweep ``lesson05_video``).

    The thresholds were set from seeds 0-2 of the stored sweep (1 thread), then checked on seeds
    3 and 4, which had not been looked at: tests/claims/test_lesson05_video_claims.py asserts every line
    for seeds 0-4 at 1 and 4 threads. Measured on seeds 0-4: attention 0.76-0.88, max pooling
    0.90-0.95 (0.01-0.19 above attention), stacked-frames CNN 0.83-0.92, fixed mixing 0.32-0.56,
    uniform 0.33-0.40, one frame 0.42-0.49; attention's temporal weight on motion 0.98-1.00, its
    weight on the moving digit 0.67-0.78 against 0.03-0.05 on the static one, where max pooling's
    channels put 0.49-0.57 and 0.10-0.14. Dropped after seeds 3-4 and 4 threads: "attention's
    weight on the static digit <= half of max pooling's" held on every stored seed (1 thread) but
    failed on seed 1 at 4 threads (attention 0.72 accurate there), so it is not a claim.
    """
    att, mx, cnn, fixed, uni, blind = (run[m] for m in MODELS)
    return {
        "attention accuracy >= 0.60": att["accuracy"] >= 0.60,
        "attention does not beat global max pooling of the same layers (max pooling >= attention - 0.05)":
            mx["accuracy"] >= att["accuracy"] - 0.05,
        "the stacked-frames CNN, with no attention, reaches >= 0.75": cnn["accuracy"] >= 0.75,
        "fixed mixing (reach without adaptivity) stays >= 0.20 below max pooling":
            fixed["accuracy"] <= mx["accuracy"] - 0.20,
        "uniform weights and one frame (blind to motion) stay <= 0.55":
            max(uni["accuracy"], blind["accuracy"]) <= 0.55,
        "attention: temporal weight on the steps with motion >= 0.90": att["temporal_on_motion"] >= 0.90,
        "attention: weight on the moving digit >= 5 x on the static one":
            att["on_moving"] >= 5 * att["on_static"],
        "attention puts >= 0.05 more weight on the moving digit than max pooling's channels":
            att["on_moving"] >= mx["on_moving"] + 0.05,
    }


def claims_over_seeds(sweep: dict) -> dict:
    """``{sentence: [seeds where it holds]}`` for the stored runs of a sweep (course_lib/experiments/sweeps.py)."""
    held: dict = {}
    for seed, run in sorted(sweep["runs"].items()):
        for sentence, holds in claims(run).items():
            held.setdefault(sentence, [])
            if holds:
                held[sentence].append(seed)
    return held


def weight_table(sweep: dict) -> str:
    """Where each model's weight goes, over the sweep's seeds: a plain-text table of the share on
    the moving digit and on the static one (:func:`weight_on_digits`), for the models that weigh
    positions (min-max over seeds, then each seed as moving / static)."""
    seeds = sorted(sweep["runs"])
    names = [m for m in sweep["runs"][seeds[0]] if "on_moving" in sweep["runs"][seeds[0]][m]]
    # Headers in the learner's language; table_lines pads by display cells (a Chinese character
    # takes two), so the columns line up in both editions (model names stay as typed in code).
    header = [tr("model"), tr("on moving (range)"), tr("on static (range)")]
    header += [tr("seed {seed}: mov/sta").format(seed=s) for s in seeds]
    rows = []
    for m in names:
        mov = [sweep["runs"][s][m]["on_moving"] for s in seeds]
        sta = [sweep["runs"][s][m]["on_static"] for s in seeds]
        rows.append([m, f"{min(mov):>8.2f} - {max(mov):<6.2f}", f"{min(sta):>8.2f} - {max(sta):<6.2f}"]
                    + [f"{a:>8.2f} /{b:>5.2f}" for a, b in zip(mov, sta)])
    lines = table_lines(header, rows, "<>>" + "<" * len(seeds), "<>>" + ">" * len(seeds))
    return "\n".join(lines)
