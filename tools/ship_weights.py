"""Train the lessons' shipped models and store their weights (course_lib/experiments/shipped.py says why).

    python tools/ship_weights.py            # every call of lesson_calls(), one torch thread
    python tools/ship_weights.py --list     # the calls, their files, and whether each is current

Run it on any machine after changing an experiment's models, data or budget (the fingerprint of
the call changes, so the lesson would train live again): each file is what one call of ``fit``
gives with one torch thread. tests/claims/test_shipped_weights.py trains each again and compares.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))   # run from anywhere in the repo

import course_lib  # noqa: E402,F401  (first: sets the OpenMP wait policy before torch loads)
import torch  # noqa: E402

from course_lib.experiments import capstone, clutter, seq2seq, shipped, video, visual_recall  # noqa: E402


def lesson_calls() -> list[tuple]:
    """``(experiment, model_name, args, kwargs)`` of every ``shipped.fit_or_load`` call the lessons
    make, with the same data: lesson 05's image, video and reversal models and lesson 06's two."""
    (clutter_x, clutter_y, _), _ = clutter.make_task()
    (recall_x, recall_y, _), _ = visual_recall.make_task()
    (video_x, video_y, *_), _ = video.make_task()
    return [
        (clutter, "attention", ((clutter_x, clutter_y),), {}),
        (visual_recall, "attention", ((recall_x, recall_y),), {}),
        (video, "attention", ((video_x, video_y),), {}),
        (seq2seq, "dot", (seq2seq.make_task()[0],), {"seed": 0}),
        (capstone, "cnn", ("local",), {"seed": 0}),
        (capstone, "vit", ("long-range",), {"seed": 0}),
    ]


def describe(call) -> str:
    experiment, model_name, args, kwargs = call
    return f"{experiment.__name__.rsplit('.', 1)[-1]}.fit({model_name!r}, ...)"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--list", action="store_true", help="list the calls and whether each file is current")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)       # the lessons' stored outputs, and the test, use one thread
    for call in lesson_calls():
        experiment, model_name, fit_args, kwargs = call
        path = shipped.weights_path(experiment, model_name, *fit_args, **kwargs)
        if args.list:
            current = shipped.load(experiment, model_name, *fit_args, **kwargs) is not None
            print(f"{describe(call):38} {path.name:34} {'current' if current else 'MISSING OR STALE'}")
            continue
        start = time.perf_counter()
        written = shipped.ship(experiment, model_name, *fit_args, progress=False, **kwargs)
        print(f"{describe(call):38} -> {written.name} ({written.stat().st_size / 1024:.0f} KiB, "
              f"trained in {time.perf_counter() - start:.1f} s)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
