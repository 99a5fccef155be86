"""Median update time (computation + redraw + PNG) of every registered explorer.

    python benchmarks/bench_widgets.py

Budget: well under 100 ms per update on 2 cores; aim for 30 ms. Each control is moved through
several values; the first update after building (which draws the cached background) is excluded.
"""
import sys
import time

import numpy as np

sys.path.insert(0, __file__.rsplit("/", 1)[0] + "/../tests")  # reuse the test's value picker
from test_widgets import _another_value  # noqa: E402

from course_lib.widgets import EXPLORERS  # noqa: E402

BUDGET_MS = 100.0


def main() -> int:
    rows, worst = [], 0.0
    for name, factory in sorted(EXPLORERS.items()):
        start = time.perf_counter()
        explorer = factory()
        build_ms = (time.perf_counter() - start) * 1e3
        times = []
        for _ in range(5):
            for control in explorer.controls.values():
                control.value = _another_value(control)
                times.append(explorer.last_update_ms)
        median, p90 = np.median(times), np.percentile(times, 90)
        worst = max(worst, median)
        rows.append(f"{name:<28} build {build_ms:7.0f} ms   update median {median:6.1f} ms   "
                    f"p90 {p90:6.1f} ms   ({len(times)} updates)")
    print("\n".join(rows))
    verdict = "within" if worst < BUDGET_MS else "OVER"
    print(f"worst median update {worst:.1f} ms: {verdict} the {BUDGET_MS:.0f} ms budget")
    return 0 if worst < BUDGET_MS else 1


if __name__ == "__main__":
    sys.exit(main())
