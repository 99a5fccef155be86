"""How fast every registered explorer answers a move: from setting a control's value to the new
picture's bytes in ``explorer.image.value`` (the ipywidgets Image the learner sees).

    python benchmarks/bench_widgets.py            # every explorer
    python benchmarks/bench_widgets.py NAME ...   # some of them; --rounds N (default 8)

That whole path is what a learner waits for (JupyterLab then only swaps the picture): the
observers ipywidgets calls, the explorer's computation, the redraw (blitting) and the PNG
encoding. It is timed from outside with a clock started just before ``control.value = ...`` and
read by an observer on ``image.value``, so nothing the explorer does is left out. For each
explorer it reports the median and the 90th percentile over all moves of all controls, and the
explorer's own ``last_update_ms`` median beside it (the part inside ``Explorer.refresh``).

Course goal (COURSE_DESIGN.md): median under 30 ms on 2 cores, aim 16 ms (one frame at 60 fps).
The first move after building (which draws the cached background) is excluded.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # the test's value picker
from test_widgets import _another_value  # noqa: E402

import course_lib  # noqa: E402
from course_lib.widgets import EXPLORERS  # noqa: E402

GOAL_MS, AIM_MS = 30.0, 16.0


def time_moves(explorer, rounds: int) -> tuple[list[float], list[float]]:
    """Move every control ``rounds`` times. Returns (whole-path ms, explorer's own ms) per move."""
    arrived: list[float] = []
    explorer.image.observe(lambda change: arrived.append(time.perf_counter()), names="value")
    whole, own = [], []
    for _ in range(rounds):
        for name, control in explorer.controls.items():
            before = explorer.image.value
            arrived.clear()
            start = time.perf_counter()
            control.value = _another_value(control)
            if not arrived or explorer.image.value == before:
                raise AssertionError(f"moving {name!r} did not change the picture")
            whole.append((arrived[-1] - start) * 1e3)
            own.append(explorer.last_update_ms)
    return whole, own


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="explorers to time (default: all)")
    parser.add_argument("--rounds", type=int, default=8)
    args = parser.parse_args(argv)
    threads = course_lib.use_course_threads()
    names = args.names or sorted(EXPLORERS)
    print(f"{len(names)} explorers, {args.rounds} rounds of moves each, torch threads {threads}")
    print(f"{'explorer':<24} {'build':>8} {'median':>8} {'p90':>8} {'max':>8} {'own':>8}  moves")
    worst = 0.0
    for name in names:
        start = time.perf_counter()
        explorer = EXPLORERS[name]()
        build_ms = (time.perf_counter() - start) * 1e3
        next(iter(explorer.controls.values())).value = _another_value(
            next(iter(explorer.controls.values())))  # the first move draws the background
        whole, own = time_moves(explorer, args.rounds)
        median, p90 = float(np.median(whole)), float(np.percentile(whole, 90))
        worst = max(worst, median)
        flag = "" if median < AIM_MS else ("  over 16 ms aim" if median < GOAL_MS else "  OVER 30 ms goal")
        print(f"{name:<24} {build_ms:6.0f}ms {median:6.1f}ms {p90:6.1f}ms {max(whole):6.1f}ms "
              f"{np.median(own):6.1f}ms  {len(whole)}{flag}")
    verdict = "within" if worst < GOAL_MS else "OVER"
    print(f"slowest median {worst:.1f} ms: {verdict} the {GOAL_MS:.0f} ms goal (aim {AIM_MS:.0f} ms)")
    return 0 if worst < GOAL_MS else 1


if __name__ == "__main__":
    sys.exit(main())
