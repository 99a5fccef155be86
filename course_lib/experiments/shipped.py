"""Shipped weights: the lessons' trained models, stored as training gave them (lessons 05-06).

Training a model on a CPU takes seconds to a minute; lessons 05 and 06 show six of them, which
would make Run All take minutes, most of it watching progress bars the lesson has shown before
(lesson 03's models and lesson 05's word-recall reader still train live). So the work is split as
for the stored sweeps (``course_lib/experiments/sweeps.py``):

    the lesson              calls ``fit_or_load(experiment, model_name, *args)``: the weights
                            that exactly this call gave when the course was built, or, if none
                            match, ``experiment.fit(model_name, *args)`` trained here
    tools/ship_weights.py   makes each call of its table ``lesson_calls()`` with training, on
                            one thread, and writes ``weights/<name>.pt``
    the tests               tests/experiments/test_shipped.py: every file still matches its call;
                            tests/claims/test_shipped_weights.py: training again gives these weights

What "exactly this call" means is a fingerprint: the experiment module's source code (its model,
budget and learning rate), the model's name and every argument, tensors by their bytes. Change the
data, the steps, a layer of the experiment: the fingerprint differs, and the call trains live
instead of loading weights that no longer belong to it. ``retrain=True`` (or the environment
variable ``COURSE_RETRAIN=1``) always trains live: an instructor who wants the room to watch.

    model = fit_or_load(clutter, "attention", (train_x, train_y))    # loads: well under a second
    model = fit_or_load(clutter, "attention", (train_x, train_y), retrain=True)   # trains: ~25 s
    model.shipped                                                    # True if it was loaded
"""
from __future__ import annotations

import hashlib
import inspect
import os
from pathlib import Path
from types import ModuleType

import numpy as np
import torch

WEIGHTS_DIR = Path(__file__).parent / "weights"
#: arguments that change how training *looks*, not what it gives
NOT_FINGERPRINTED = ("progress", "desc")


def call_arguments(experiment: ModuleType, model_name: str, *args, **kwargs) -> dict:
    """The arguments of ``experiment.fit(model_name, *args, **kwargs)`` by name, defaults filled
    in: ``fit("attention", data)`` and ``fit("attention", data, seed=0)`` are the same call."""
    try:
        bound = inspect.signature(experiment.fit).bind(model_name, *args, **kwargs)
    except TypeError as error:
        raise TypeError(f"{experiment.__name__}.fit does not take these arguments: {error}") from None
    bound.apply_defaults()
    return {k: v for k, v in bound.arguments.items() if k not in NOT_FINGERPRINTED}


def weights_path(experiment: ModuleType, model_name: str, *args, **kwargs) -> Path:
    """``weights/<experiment>_<model>[_<text arguments>].pt``: e.g. ``capstone_vit_long-range.pt``."""
    texts = [v for v in call_arguments(experiment, model_name, *args, **kwargs).values() if isinstance(v, str)]
    words = [experiment.__name__.rsplit(".", 1)[-1]] + texts
    name = "_".join(w.replace(" ", "-").replace(",", "").replace("/", "-") for w in words)
    return WEIGHTS_DIR / f"{name}.pt"


def _feed(digest, value) -> None:
    # Tensors and arrays by dtype, shape and bytes; containers item by item; the rest by repr.
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    if isinstance(value, np.ndarray):
        digest.update(f"array {value.dtype} {value.shape}".encode())
        digest.update(np.ascontiguousarray(value).tobytes())
    elif isinstance(value, (tuple, list)):
        digest.update(f"{type(value).__name__} {len(value)}".encode())
        for item in value:
            _feed(digest, item)
    elif isinstance(value, dict):
        for key in sorted(value):
            digest.update(repr(key).encode())
            _feed(digest, value[key])
    else:
        digest.update(repr(value).encode())


def fingerprint(experiment: ModuleType, model_name: str, *args, **kwargs) -> str:
    """A short hash of the call ``experiment.fit(model_name, *args, **kwargs)``: the module's
    source, then every argument by name (tensors by value; ``progress``/``desc`` left out)."""
    digest = hashlib.sha256(inspect.getsource(experiment).encode())
    _feed(digest, call_arguments(experiment, model_name, *args, **kwargs))
    return digest.hexdigest()[:16]


def _retrain_by_default() -> bool:
    return os.environ.get("COURSE_RETRAIN", "").strip().lower() in ("1", "true", "yes")


def load(experiment: ModuleType, model_name: str, *args, **kwargs):
    """The shipped model of this call, in eval mode, or None if no file matches its fingerprint."""
    path = weights_path(experiment, model_name, *args, **kwargs)
    if not path.exists():
        return None
    stored = torch.load(path, weights_only=True)
    if stored["fingerprint"] != fingerprint(experiment, model_name, *args, **kwargs):
        return None
    model = experiment.build(model_name)
    model.load_state_dict(stored["state_dict"])
    model.eval()
    if stored.get("losses") is not None:
        model.losses = stored["losses"].tolist()
    model.shipped = True
    return model


def fit_or_load(experiment: ModuleType, model_name: str, *args, retrain: bool | None = None, **kwargs):
    """``experiment.fit(model_name, *args, **kwargs)``, loaded from its shipped weights when they
    belong to exactly this call (see the module's docstring); trained here otherwise, or when
    ``retrain`` (default: ``COURSE_RETRAIN=1`` in the environment) is true."""
    if not isinstance(experiment, ModuleType) or not hasattr(experiment, "fit") or not hasattr(experiment, "build"):
        raise TypeError(f"experiment: expected an experiment module with fit and build "
                        f"(e.g. course_lib.experiments.clutter), got {experiment!r}")
    if retrain is None:
        retrain = _retrain_by_default()
    model = None if retrain else load(experiment, model_name, *args, **kwargs)
    if model is None:
        model = experiment.fit(model_name, *args, **kwargs)
        model.shipped = False
    return model


def ship(experiment: ModuleType, model_name: str, *args, **kwargs) -> Path:
    """Train ``experiment.fit(model_name, *args, **kwargs)`` here and store its weights (what
    tools/ship_weights.py does for each lesson model). Returns the file written."""
    model = experiment.fit(model_name, *args, **kwargs)
    path = weights_path(experiment, model_name, *args, **kwargs)
    path.parent.mkdir(parents=True, exist_ok=True)
    losses = getattr(model, "losses", None)
    torch.save({"fingerprint": fingerprint(experiment, model_name, *args, **kwargs),
                "state_dict": {k: v.detach().clone() for k, v in model.state_dict().items()},
                "losses": None if losses is None else torch.tensor(losses, dtype=torch.float64),
                "threads": torch.get_num_threads(), "torch": str(torch.__version__)}, path)
    return path
