"""course_lib: the helper library of the course "Attention as adaptive computation".

    import course_lib as cl
    scores  = cl.similarity(q, k)            # 1. similarity computation
    weights = cl.softmax_weights(scores)     # 2. weight allocation
    out, w  = cl.attend(q, k, v)             # 3. weighted aggregation (all three steps)

Submodules: ``core`` (the three steps), ``images`` (real photos and patches), ``plotting``,
``checks`` (exercise feedback), ``widgets`` (interactive explorers), and one module per later
lesson. Submodules that need ipywidgets are imported on first use, not here.
"""
from __future__ import annotations

import os
import random

# Idle OpenMP threads sleep instead of spinning. On a busy machine (a shared hub, or two cores
# shared with other work) spinning threads fight the other processes for the CPUs: training a
# lesson-03 model took 33-43 s with 2 spinning threads against 6-7 s with sleeping ones (and
# 3.6 s on 1 thread). OpenMP reads this once, when torch loads: import course_lib before torch.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np  # noqa: E402
import torch  # noqa: E402

from .core import (
    SIMILARITY_KINDS,
    AdditiveScore,
    MultiHeadAttention,
    attend,
    similarity,
    softmax_weights,
)
from .threads import cpu_budget, use_course_threads
from .language import say, tr
from . import language as _language
from .conv_attention import conv2d_as_attention
from .filters import (
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


def seed_everything(seed: int = 0) -> None:
    """Seed Python, NumPy and torch so that every run prints the same numbers."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def default_device() -> torch.device:
    """CUDA when present, else CPU: the whole course runs on a laptop CPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def __getattr__(name):
    # `cl.checks` and `cl.widgets` work without importing ipywidgets at `import course_lib`.
    if name in {"checks", "widgets", "images", "plotting"}:
        import importlib

        return importlib.import_module(f"{__name__}.{name}")
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
