"""Reproducible runs on whatever device is here (every lesson's first cell).

    cl.seed_everything(0)     # the same numbers on every run
    cl.default_device()       # CUDA when present, else CPU
"""
from __future__ import annotations

import random

import numpy as np
import torch


def seed_everything(seed: int = 0) -> None:
    """Seed Python, NumPy and torch so that every run prints the same numbers."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def default_device() -> torch.device:
    """CUDA when present, else CPU: the whole course runs on a laptop CPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")
