"""course_lib: the helper library of the course "Attention as adaptive computation" (lessons 00-06).

    import course_lib as cl
    scores  = cl.similarity(q, k)            # 1. similarity computation
    weights = cl.softmax_weights(scores)     # 2. weight allocation
    out, w  = cl.attend(q, k, v)             # 3. weighted aggregation (all three steps)

Where each lesson's code lives (a wing holds what several lessons share; each wing's
``__init__.py`` is its table of contents):

    lesson                      wings it uses                      its own rooms
    00 start here               attention.core, data.examples      widgets.lesson00, checks.progress
    01 similarity               attention.core, data.images,       checks.lesson01, widgets.lesson01
                                data.examples
    02 weights                  attention.masks, .weight_rules,    checks.lesson02, widgets.lesson02
                                data.examples
    03 aggregation              attention.kernel_regression,       checks.lesson03, widgets.lesson03,
                                .positions, .words, data.examples, widgets.heads
                                layers.models,
                                experiments.trained_heads
    04 local vs global          filters (.local, .nonlocal_means,  checks.lesson04, widgets.lesson04
                                .matrices, .skimage_reference),
                                locality (.conv_attention, .costs,
                                .memory, .mixing, .reach),
                                data.examples
    05 adaptivity               layers (.modules, .models,         checks.lesson05, widgets.lesson05,
                                .training), data.shapes,           widgets.sequences
                                data.digits, experiments.clutter,
                                .visual_recall, .video, .seq2seq,
                                .recall, .sweeps
    06 capstone                 experiments.capstone, .sweeps,     checks.lesson06, widgets.lesson06,
                                data.marks, data.shapes, layers    widgets.heads
                                (.models, .training), locality.reach

    basics       the NumPy/torch door, argument checks, language, threads, seeds (every lesson)
    plotting     colour-blind-safe colours and figure helpers (every lesson)

Layers, from the top (a module imports only from its wing or from wings below; CONTRIBUTING.md):
widgets | checks; plotting; experiments; layers; filters | locality; data; attention; basics.
``checks``, ``widgets`` and ``plotting`` are imported on first use (``cl.checks``), not here.
"""
from __future__ import annotations

import os

# Idle OpenMP threads sleep instead of spinning. On a busy machine (a shared hub, or two cores
# shared with other work) spinning threads fight the other processes for the CPUs: training a
# lesson-03 model took 33-43 s with 2 spinning threads against 6-7 s with sleeping ones (and
# 3.6 s on 1 thread). OpenMP reads this once, when torch loads: import course_lib before torch.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import torch  # noqa: E402

from course_lib.attention.core import (
    SIMILARITY_KINDS,
    AdditiveScore,
    MultiHeadAttention,
    attend,
    similarity,
    softmax_weights,
)
from course_lib.basics.runtime import default_device, seed_everything
from course_lib.basics.threads import cpu_budget, use_course_threads
from course_lib.basics.language import pad, say, tr
from course_lib.basics import language as _language
from course_lib.basics import moved
from course_lib.locality.conv_attention import conv2d_as_attention
from course_lib.filters import (
    bilateral_filter,
    bilateral_weights,
    gaussian_blur,
    gaussian_weights,
    nl_means,
    nl_means_weights,
)

__version__ = "0.1.0"

# The Chinese edition (zh/) speaks Chinese: feedback, explorers, and figures with CJK glyphs
_language.setup()
# A notebook from before the wings that imports an old module name learns where it went
moved.install()


# Imported on first use, so that `import course_lib` needs no ipywidgets or matplotlib.
_LAZY = {"checks": "checks", "widgets": "widgets", "plotting": "plotting"}


def __getattr__(name):
    if name in _LAZY:
        import importlib

        return importlib.import_module(f"{__name__}.{_LAZY[name]}")
    if name in moved.MOVED:                          # cl.weight_rules in a notebook from before the wings
        raise AttributeError(moved.moved_message(name))
    raise AttributeError(f"module 'course_lib' has no attribute {name!r}")


__all__ = [
    "SIMILARITY_KINDS",
    "AdditiveScore",
    "MultiHeadAttention",
    "attend",
    "bilateral_filter",
    "bilateral_weights",
    "conv2d_as_attention",
    "cpu_budget",
    "default_device",
    "gaussian_blur",
    "gaussian_weights",
    "nl_means",
    "nl_means_weights",
    "seed_everything",
    "similarity",
    "softmax_weights",
    "use_course_threads",
]
