"""A lesson's Run All on a busy machine: issue 20 asks that a lesson take no more than 3x its quiet
time at load 4 on 2 cores (a shared hub, a laptop compiling something, a room of kernels).

    python benchmarks/bench_lesson_load.py                       # lessons 05 and 06, 3 busy processes
    python benchmarks/bench_lesson_load.py notebooks/04_local_vs_global.ipynb --busy 3 --save

Each lesson runs twice, in memory (its file is not written): once on the machine as it is, then
beside ``--busy`` processes that each keep one core at 100 % (a Python loop, each in a session of
its own, like another learner's kernel). With the lesson's kernel, 3 busy processes bring the load
average to about 4: the run prints the load it saw (the mean number of tasks running or waiting
for a core, sampled twice a second: what the load average averages, without its minute of lag),
so that the figure can be read beside it. ``--save`` stores the result in ``benchmarks/lesson_load_seconds.json``, which
``bench_all.py`` prints with the goal. Run it on an otherwise quiet machine: the "quiet" run is
the baseline of the ratio.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import nbformat

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "tools"))
from execute import KERNEL, MeasuringClient, kernelspec_metadata  # noqa: E402

RESULT_FILE = HERE / "lesson_load_seconds.json"
GOAL_RATIO = 3.0
LESSONS = ("notebooks/05_adaptivity.ipynb", "notebooks/06_capstone.ipynb")


def runnable_now() -> float:
    """How many tasks are running or waiting for a core at this instant: what the load average
    averages over a minute. Linux gives it in /proc/loadavg ("running/total"; minus this reader
    itself); elsewhere the 1-minute average stands in, which lags a change of load by a minute."""
    try:
        running = Path("/proc/loadavg").read_text().split()[3].split("/")[0]
        return max(0.0, float(running) - 1)
    except (OSError, IndexError, ValueError):
        return os.getloadavg()[0]


class LoadSampler:
    """The load while a run lasts: the number of runnable tasks, sampled twice a second (its mean
    is printed as the run's load)."""

    def __init__(self):
        self.samples: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.wait(0.5):
            self.samples.append(runnable_now())

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    @property
    def mean(self) -> float:
        return sum(self.samples) / len(self.samples) if self.samples else runnable_now()


def run_all(path: Path, timeout: int = 600) -> tuple[float, float, float | None, bool]:
    """Run the notebook at ``path`` in memory: (wall seconds, mean load, the kernel's CPU seconds,
    no cell failed)."""
    nb = nbformat.read(path, as_version=4)
    nb.metadata["kernelspec"] = kernelspec_metadata()
    client = MeasuringClient(nb, timeout=timeout, kernel_name=KERNEL,
                             resources={"metadata": {"path": str(path.parent)}}, allow_errors=True)
    with LoadSampler() as load:
        start = time.perf_counter()
        client.execute()
        seconds = time.perf_counter() - start
    failed = any(o.get("output_type") == "error" for c in nb.cells for o in c.get("outputs", []))
    return seconds, load.mean, client.cpu_seconds, not failed


def busy_processes(n: int) -> list[subprocess.Popen]:
    # Each in its own session, as the kernels of other learners are (jupyter_client starts every
    # kernel so): Linux's scheduler (autogroup) shares the cores between sessions, so busy
    # processes started in this one session would together take no more than one kernel's share.
    return [subprocess.Popen([sys.executable, "-c", "while True: pass"], start_new_session=True)
            for _ in range(n)]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path, default=[ROOT / p for p in LESSONS])
    parser.add_argument("--busy", type=int, default=3, help="processes that each keep one core busy")
    parser.add_argument("--warm-up", type=float, default=5.0,
                        help="seconds the busy processes run before the lesson starts")
    parser.add_argument("--save", action="store_true", help=f"store the result in {RESULT_FILE.name}")
    args = parser.parse_args(argv)

    results = {}
    for path in args.notebooks:
        quiet, quiet_load, quiet_cpu, ok_quiet = run_all(path)
        spinners = busy_processes(args.busy)
        try:
            time.sleep(args.warm_up)
            busy, busy_load, busy_cpu, ok_busy = run_all(path)
        finally:
            for p in spinners:
                p.kill()
                p.wait()
        ratio = busy / quiet
        name = path.stem
        print(f"{name}: quiet {quiet:.1f} s (load {quiet_load:.1f}); beside {args.busy} busy processes "
              f"{busy:.1f} s (load {busy_load:.1f}); {ratio:.2f}x (goal <= {GOAL_RATIO:.0f}x)"
              + ("" if ok_quiet and ok_busy else "  A CELL FAILED"))
        results[name] = {"quiet_seconds": round(quiet, 1), "quiet_load": round(quiet_load, 1),
                         "quiet_cpu_seconds": quiet_cpu, "busy_seconds": round(busy, 1),
                         "busy_load": round(busy_load, 1), "busy_cpu_seconds": busy_cpu,
                         "busy_processes": args.busy, "ratio": round(ratio, 2), "cores": os.cpu_count()}
        if not (ok_quiet and ok_busy):
            return 1
    if args.save:
        stored = json.loads(RESULT_FILE.read_text()) if RESULT_FILE.exists() else {}
        stored.update({k: {**v, "measured": datetime.date.today().isoformat()} for k, v in results.items()})
        RESULT_FILE.write_text(json.dumps(stored, indent=2) + "\n")
        print(f"stored in benchmarks/{RESULT_FILE.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
