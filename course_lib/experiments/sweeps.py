"""Stored sweeps: a trained claim as a range over seeds, computed once and re-checked (lessons 05-06).

A claim about a trained model is a range over seeds, never one lucky run (the course's rule:
seeds 0-4, every model beside its strongest rivals). Training every rival for five seeds takes
minutes, far more than a lesson may spend, so the work is split:

    the lesson              trains seed 0 of the model it is about, live, and prints the other
                            runs from the experiment's sweep file, citing it
    tools/sweep.py          runs an experiment's ``run_seed(seed)`` for every seed and writes the
                            sweep file (``course_lib/experiments/sweeps/<name>.json``)
    the claims tests        (make claims) run the same ``run_seed`` again, assert the lesson's
                            claims on each seed, and check that the stored runs are what training
                            gives (``agrees_with``), so a stored number can never go stale

An experiment offers one function, ``run_seed(seed) -> {model name: {metric: float}}``, which
trains every model of the experiment (attention and its rivals) with one seed at the current torch
thread count and evaluates each on the held-out set.

    sweep = load("lesson05_images")
    print(table(sweep, "accuracy"))        # one row per model: min-max over seeds, then each seed
    ranges(sweep, "accuracy")["attention"] # (low, high)
"""
from __future__ import annotations

import importlib
import json
import math
from pathlib import Path

import torch

from course_lib.basics.language import table_lines, tr

SEEDS = (0, 1, 2, 3, 4)
SWEEP_DIR = Path(__file__).parent / "sweeps"


def sweep_path(name: str) -> Path:
    """Where the sweep called ``name`` is stored (inside the package, so a pip install has it)."""
    if not isinstance(name, str) or not name or "/" in name or name.startswith("."):
        raise ValueError(f"name: expected a plain sweep name such as 'lesson05_images', got {name!r}")
    return SWEEP_DIR / f"{name}.json"


def run_function(made_by: str):
    """The experiment's ``run_seed`` from its dotted name ``'course_lib.experiments.clutter:run_seed'``."""
    module_name, sep, attribute = made_by.partition(":")
    if not sep or not module_name or not attribute:
        raise ValueError(f"made_by: expected 'module:function', got {made_by!r}")
    return getattr(importlib.import_module(module_name), attribute)


def _check_runs(runs: dict) -> None:
    # {seed: {model: {metric: number}}}: every seed trains the same models and reports the same
    # metrics, or a range over seeds would compare different things.
    if not runs:
        raise ValueError("runs: expected at least one seed, got none")
    shapes = {seed: {m: sorted(v) for m, v in models.items()} for seed, models in runs.items()}
    first = next(iter(shapes.values()))
    for seed, shape in shapes.items():
        if shape != first:
            raise ValueError(f"runs: seed {seed} has models/metrics {shape}, seed "
                             f"{next(iter(shapes))} has {first}; every seed must report the same")
    for seed, models in runs.items():
        for model, metrics in models.items():
            for metric, value in metrics.items():
                if not isinstance(value, (int, float)) or not math.isfinite(value):
                    raise ValueError(f"runs[{seed}][{model!r}][{metric!r}]: expected a finite "
                                     f"number, got {value!r}")


def record(name: str, made_by: str, runs: dict, budget: dict | None = None) -> Path:
    """Write the sweep file: ``runs`` is ``{seed: run_seed(seed)}``, measured at the current
    torch thread count; ``budget`` is what every model was given (steps, batch size, lr ...)."""
    _check_runs(runs)
    SWEEP_DIR.mkdir(exist_ok=True)
    document = {
        "name": name,
        "made_by": made_by,
        "threads": torch.get_num_threads(),
        "torch": torch.__version__.split("+")[0],
        "budget": budget or {},
        "runs": {str(seed): runs[seed] for seed in sorted(runs)},
    }
    path = sweep_path(name)
    path.write_text(json.dumps(document, indent=1, sort_keys=False) + "\n")
    return path


def load(name: str) -> dict:
    """The stored sweep; ``runs`` keyed by int seed."""
    path = sweep_path(name)
    if not path.exists():
        known = sorted(p.stem for p in SWEEP_DIR.glob("*.json"))
        raise ValueError(f"name: no sweep called {name!r}; stored sweeps: {known} "
                         f"(make one with tools/sweep.py)")
    document = json.loads(path.read_text())
    document["runs"] = {int(seed): models for seed, models in document["runs"].items()}
    _check_runs(document["runs"])
    return document


def models_of(sweep: dict) -> list[str]:
    """The models a sweep trained, in the order the experiment lists them."""
    return list(next(iter(sweep["runs"].values())))


def ranges(sweep: dict, metric: str) -> dict[str, tuple[float, float]]:
    """``{model: (lowest, highest)}`` of ``metric`` over the sweep's seeds."""
    values = {}
    for model in models_of(sweep):
        try:
            seen = [runs[model][metric] for runs in sweep["runs"].values()]
        except KeyError:
            raise ValueError(f"metric: {metric!r} is not in the sweep {sweep['name']!r}; it has "
                             f"{sorted(next(iter(sweep['runs'].values()))[model])}") from None
        values[model] = (min(seen), max(seen))
    return values


# The words before an "@" in a metric's key that a table's header translates ("accuracy@8", the
# accuracy with 8 pairs; "exact@12", whole sequences right at length 12): their Chinese is in
# i18n/zh/course_lib.po. The keys themselves stay what the code types.
METRIC_WORDS = ("accuracy", "exact")


def metric_label(metric: str) -> str:
    """A metric's name in a table's header, in the learner's language: ``tr(metric)``, or for a
    key such as ``"accuracy@8"`` the translated word, then ``@8``."""
    word, at, where = metric.partition("@")
    return tr(word) + at + where if at and word in METRIC_WORDS else tr(metric)


def table(sweep: dict, metric: str, digits: int = 2) -> str:
    """A plain-text table: one row per model, ``metric`` as lowest-highest over the seeds, then
    each seed's value, so that no run is hidden behind a summary."""
    seeds = sorted(sweep["runs"])
    bounds = ranges(sweep, metric)
    # The headers and the footer in the learner's language (tr); table_lines pads by display cells
    # (a Chinese character takes two), so the columns line up in both editions. The model names stay
    # as a learner types them in code, and so do the metric names that have no translation.
    header = [tr("model"), tr("{metric} (range)").format(metric=metric_label(metric))]
    header += [tr("seed {seed}").format(seed=s) for s in seeds]
    rows = [[model, f"{low:>8.{digits}f} - {high:<6.{digits}f}"]
            + [f"{sweep['runs'][s][model][metric]:>7.{digits}f}" for s in seeds]
            for model, (low, high) in bounds.items()]
    lines = table_lines(header, rows, "<>" + "<" * len(seeds), "<>" + ">" * len(seeds))
    lines.append(tr("(seeds {first}-{last}, {threads} torch thread(s); stored in {path} by tools/sweep.py, "
                    "re-checked by make claims)").format(first=seeds[0], last=seeds[-1], threads=sweep["threads"],
                                                          path=f"course_lib/experiments/sweeps/{sweep['name']}.json"))
    return "\n".join(lines)


def seed_table(sweep: dict, metrics, seed: int = 0, digits: int = 2) -> str:
    """A plain-text table of one seed's runs: one row per model (in a learning-rate sweep, one per
    model and rate: ``"attention, lr=0.003"``), one column per metric, headers in the learner's
    language. Lesson 05 prints its learning-rate sweeps with it."""
    runs = sweep["runs"][seed]
    rows = [[model] + [f"{values[m]:.{digits}f}" for m in metrics] for model, values in runs.items()]
    align = "<" + ">" * len(metrics)
    return "\n".join(table_lines([tr("model"), *map(metric_label, metrics)], rows, align, align))


def agrees_with(sweep: dict, seed: int, fresh: dict, tolerance: float = 0.05) -> list[str]:
    """Where a fresh ``run_seed(seed)`` differs from the stored run by more than ``tolerance``
    (absolute): an empty list means the stored numbers are what training gives. A tolerance is
    needed because float sums differ in the last bits between machines and thread counts, and
    training amplifies them a little; a stale file (a changed model or budget) differs by more."""
    stored = sweep["runs"].get(seed)
    if stored is None:
        return [f"seed {seed} is not stored (stored: {sorted(sweep['runs'])})"]
    problems = []
    for model, metrics in stored.items():
        for metric, value in metrics.items():
            got = fresh.get(model, {}).get(metric)
            if got is None:
                problems.append(f"{model}/{metric}: missing from the fresh run")
            elif abs(got - value) > tolerance:
                problems.append(f"{model}/{metric}: stored {value:.3f}, fresh {got:.3f}")
    return problems
